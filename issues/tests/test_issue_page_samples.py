"""Every real event sample (KNOWN-BROKEN ones included), digested and tagged, renders every tab of its issue."""

import html
import json

import pytest
from django.urls import reverse

from events.models import Event
from testing.utils import sample_files

SAMPLES = sample_files()
TABS = ["stacktrace", "details", "breadcrumbs", "events", "tags", "history"]
EVENT_TABS = ["event", "event_details", "event_breadcrumbs", "event_json", "event_download"]


@pytest.fixture
def member(db, project, django_user_model):
    from projects.models import ProjectMembership

    user = django_user_model.objects.create_user("member")
    ProjectMembership.objects.create(project=project, user=user)
    return user


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_sample_renders_every_tab(path, project, member, send_event, client):
    event_data = json.loads(path.read_text())
    event_data.pop("event_id", None)
    assert send_event(project, event_data).status_code == 200
    event = Event.objects.get(project=project)
    client.force_login(member)
    for tab in TABS:
        response = client.get(reverse(f"issue:{tab}", args=[event.issue_id]))
        assert response.status_code == 200, (tab, response.content[:500])
        if tab == "stacktrace" and event.calculated_type:
            assert html.escape(event.calculated_type).encode() in response.content  # the raised exception is shown
    for name in EVENT_TABS:
        response = client.get(reverse(f"issue:{name}", args=[event.issue_id, event.pk]))
        assert response.status_code == 200, (name, response.content[:500])
    in_app = client.get(reverse("issue:event", args=[event.issue_id, event.pk]) + "?in_app=1")
    assert in_app.status_code == 200
    assert json.loads(client.get(reverse("issue:event_json", args=[event.issue_id, event.pk])).content)
