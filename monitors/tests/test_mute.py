"""The monitor mute switch: a muted monitor is judged as ever (status, check-ins) but its failures open no issue and
send no alert; unmuted, its next failure does. Switched on the Monitors page (members only) and through the API's
`isMuted` (a write token; another project's monitor is a 404)."""

import uuid

import pytest
from django.contrib.auth import get_user_model

from alerts.models import DeliveryAttempt
from api.models import ApiToken, Scope
from events.models import Event
from issues.models import Issue
from monitors.models import Monitor, MonitorStatus
from monitors.tests.conftest import HOURLY
from projects.models import Project, ProjectMembership


def checkin(status, slug="nightly"):
    return {"check_in_id": uuid.uuid4().hex, "monitor_slug": slug, "status": status, "monitor_config": HOURLY}


@pytest.fixture
def member(client, project):
    user = get_user_model().objects.create_user("m", "m@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user)
    client.force_login(user)
    return user


def test_a_muted_monitor_opens_no_issue_and_unmuted_it_does(send_checkins, project, member, client):
    send_checkins(checkin("ok"))
    response = client.post(f"/projects/{project.pk}/monitors/nightly/mute/", {"muted": "1"})
    assert response.status_code == 302 and response["Location"] == f"/projects/{project.pk}/monitors/"
    assert Monitor.objects.get(slug="nightly").is_muted

    send_checkins(checkin("error"), checkin("error"))
    monitor = Monitor.objects.get(slug="nightly")
    assert monitor.status == MonitorStatus.FAILING and monitor.consecutive_failures == 2  # judged as ever
    assert monitor.issue_id is None
    assert not Event.objects.filter(project=project).exists() and not Issue.objects.exists()
    assert not DeliveryAttempt.objects.exists()
    page = client.get(f"/projects/{project.pk}/monitors/").content.decode()
    assert "data-muted" in page and "data-unmute" in page

    client.post(f"/projects/{project.pk}/monitors/nightly/mute/", {"muted": "0", "next": "detail"})
    send_checkins(checkin("error"))
    monitor.refresh_from_db()
    assert not monitor.is_muted and monitor.issue_id is not None
    assert Issue.objects.get(pk=monitor.issue_id).event_count == 1


def test_recovery_of_a_muted_monitor_still_resolves_its_issue(send_checkins, project, member, client):
    send_checkins(checkin("error"))
    issue = Issue.objects.get(pk=Monitor.objects.get(slug="nightly").issue_id)
    client.post(f"/projects/{project.pk}/monitors/nightly/mute/", {"muted": "1"})
    send_checkins(checkin("ok"))
    issue.refresh_from_db()
    assert issue.is_resolved


def test_the_switch_is_for_members_of_the_project_only(send_checkins, project, client):
    other = Project.objects.create(name="Other", slug="other")
    send_checkins(checkin("ok"), to=other)
    outsider = get_user_model().objects.create_user("o", "o@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=outsider)
    client.force_login(outsider)
    assert client.post(f"/projects/{other.pk}/monitors/nightly/mute/", {"muted": "1"}).status_code == 404
    assert client.post(f"/projects/{project.pk}/monitors/nightly/mute/", {"muted": "1"}).status_code == 404
    assert client.get(f"/projects/{other.pk}/monitors/nightly/mute/").status_code == 405
    assert not Monitor.objects.get(project=other).is_muted
    send_checkins(checkin("ok"))
    response = client.post(f"/projects/{project.pk}/monitors/nightly/mute/", {"muted": "yes"}, follow=True)
    assert response.status_code == 200 and "Say muted=1 or muted=0." in response.content.decode()
    assert not Monitor.objects.get(project=project).is_muted


def test_the_api_reads_and_sets_is_muted(send_checkins, project, member, client):
    other = Project.objects.create(name="Other", slug="other")
    send_checkins(checkin("ok"))
    send_checkins(checkin("ok", slug="theirs"), to=other)
    _, writer = ApiToken.create_for(member, "w", scope=Scope.WRITE)
    _, reader = ApiToken.create_for(member, "r", scope=Scope.READ)
    url = "/api/0/organizations/main/monitors/nightly/"

    def put(body, token=writer, target=url):
        return client.put(target, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {reader}").json()["isMuted"] is False
    assert put({"isMuted": True}, token=reader).status_code == 403
    answer = put({"isMuted": True})
    assert answer.status_code == 200 and answer.json()["isMuted"] is True
    assert Monitor.objects.get(project=project).is_muted
    project_url = f"/api/0/projects/main/{project.slug}/monitors/nightly/"
    assert put({"isMuted": False}, target=project_url).json()["isMuted"] is False
    for bad in ({"isMuted": "yes"}, {"name": "x"}, {"isMuted": True, "slug": "y"}, ["isMuted"]):
        response = put(bad)
        assert response.status_code == 400 and "isMuted" in response.json()["detail"]
    assert put({"isMuted": True}, target="/api/0/organizations/main/monitors/theirs/").status_code == 404
    assert not Monitor.objects.get(project=other).is_muted
