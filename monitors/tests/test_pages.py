"""The Monitors pages: only for the project's members, a fixed handful of queries however many monitors and
check-ins, and the monitor API's answers for what is not there."""

import uuid

import pytest
from django.contrib.auth import get_user_model

from api.models import ApiToken, Scope
from monitors.models import Monitor
from monitors.tests.conftest import HOURLY
from projects.models import Project, ProjectMembership


@pytest.fixture
def member(client, project):
    user = get_user_model().objects.create_user("m", "m@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user)
    client.force_login(user)
    return user


def checkin(slug, status="ok"):
    return {"check_in_id": uuid.uuid4().hex, "monitor_slug": slug, "status": status, "monitor_config": HOURLY}


def test_pages_need_a_login_and_membership(client, project, send_checkins):
    send_checkins(checkin("job"))
    assert client.get(f"/projects/{project.pk}/monitors/").status_code == 302  # to the login page
    stranger = get_user_model().objects.create_user("s", "s@example.com", "pw")
    client.force_login(stranger)
    assert client.get(f"/projects/{project.pk}/monitors/").status_code in (403, 404)
    assert client.get(f"/projects/{project.pk}/monitors/job/").status_code in (403, 404)


def test_pages_cost_a_fixed_number_of_queries(client, project, member, send_checkins, django_assert_max_num_queries):
    send_checkins(*[checkin(f"job-{i}", "error" if i % 2 else "ok") for i in range(12)])
    send_checkins(*[checkin("job-1") for _ in range(20)])
    client.get("/")  # the session's first request records it for the sessions list (accounts.sessions), once
    with django_assert_max_num_queries(8):
        page = client.get(f"/projects/{project.pk}/monitors/")
    assert page.status_code == 200 and page.content.decode().count("data-monitor=") == 12
    with django_assert_max_num_queries(8):
        page = client.get(f"/projects/{project.pk}/monitors/job-1/")
    html = page.content.decode()
    assert page.status_code == 200 and html.count("data-checkin=") == 21
    assert "<script>" not in html and "style=" not in html  # nothing inline: the CSP allows none
    assert client.get(f"/projects/{project.pk}/monitors/nope/").status_code == 404


def test_the_monitor_api_scopes_to_visible_projects(client, project, member, send_checkins):
    other = Project.objects.create(name="Other", slug="other")
    send_checkins(checkin("mine"))
    send_checkins(checkin("theirs"), to=other)
    _, token = ApiToken.create_for(member, "t", scope=Scope.READ)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert [m["slug"] for m in client.get("/api/0/organizations/main/monitors/", **auth).json()] == ["mine"]
    assert client.get("/api/0/organizations/main/monitors/theirs/", **auth).status_code == 404
    assert client.get("/api/0/organizations/main/monitors/theirs/checkins/", **auth).status_code == 404
    detail = client.get(f"/api/0/projects/main/{project.slug}/monitors/mine/checkins/", **auth)
    assert detail.status_code == 200 and detail.json()[0]["status"] == "ok"
    assert client.get("/api/0/organizations/main/monitors/", HTTP_AUTHORIZATION="Bearer nope").status_code == 401
    assert Monitor.objects.count() == 2
