"""Every event sample is accepted and digested: our own (bugsink/tests/samples) always, and the samples in
../shared/event-samples (KNOWN-BROKEN ones included) when a development checkout has them beside it."""

import json

import pytest
from django.urls import reverse

from events.models import Event
from issues.models import Issue
from testing.utils import SAMPLES_DIR, SHARED_SAMPLES_DIR, sample_files, shared_sample_files

SAMPLES = sample_files()
SHARED_SAMPLES = shared_sample_files()


def test_the_samples_are_there():
    assert len(SAMPLES) >= 40, f"expected our own event samples at {SAMPLES_DIR}"
    assert len({p.parent.name for p in SAMPLES}) >= 10, "samples of many SDKs"


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


SHARED_PAGES = ["stacktrace", "details", "breadcrumbs", "events", "tags", "history"]
SHARED_EVENT_PAGES = ["event", "event_details", "event_breadcrumbs", "event_json"]


@pytest.mark.parametrize(
    "path", SHARED_SAMPLES or [None], ids=lambda p: f"shared/{p.parent.name}/{p.name}" if p else "shared-absent"
)
def test_shared_sample_ingests_digests_and_renders(path, project, send_event, client, django_user_model):
    """Not a service: without ../shared/event-samples this skips, in CI as well."""
    if path is None:
        pytest.skip(f"no shared event samples at {SHARED_SAMPLES_DIR} (they live outside the repository)")
    from projects.models import ProjectMembership

    event = json.loads(path.read_text())
    event.pop("event_id", None)
    response = send_event(project, event)
    assert response.status_code == 200, response.content
    stored = Event.objects.get(project=project, event_id=response.json()["id"])
    assert stored.issue.title() != "<no title>"
    user = django_user_model.objects.create_user("member")
    ProjectMembership.objects.create(project=project, user=user)
    client.force_login(user)
    pages = [(f"issue:{tab}", [stored.issue_id]) for tab in SHARED_PAGES]
    pages += [(f"issue:{name}", [stored.issue_id, stored.pk]) for name in SHARED_EVENT_PAGES]
    for name, args in pages:
        page = client.get(reverse(name, args=args))
        assert page.status_code == 200, (name, page.content[:500])
