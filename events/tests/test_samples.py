"""Every real event sample (../shared/event-samples, KNOWN-BROKEN ones included) is accepted and digested."""

import json

import pytest

from bugsink.testutils import SAMPLES_DIR, sample_files
from events.models import Event
from issues.models import Issue

SAMPLES = sample_files()


def test_the_samples_are_there():
    assert len(SAMPLES) >= 150, f"expected the shared event samples at {SAMPLES_DIR}"


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_sample_ingests_and_digests(path, project, send_event):
    event = json.loads(path.read_text())
    event.pop("event_id", None)  # some samples share ids; each test has its own project anyway
    response = send_event(project, event)
    assert response.status_code == 200, response.content
    event_id = response.json()["id"]
    stored = Event.objects.get(project=project, event_id=event_id)
    issue = Issue.objects.get(pk=stored.issue_id)
    assert issue.title().strip()
    assert issue.title() != "<no title>", "every sample has something to show as a title"
    assert issue.event_count == 1
