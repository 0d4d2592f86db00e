"""Per-environment monitor state: a monitor's check-ins from `production` and `staging` are judged apart (a row per
slug and environment, monitors.models), as Sentry's monitor environments are: a missed or failed staging run does not
mark production failing, each environment's failures are an issue of its own, the pages show each environment, and
the API serves one monitor with its `environments`."""

import uuid
from datetime import timedelta

from django.contrib.auth import get_user_model

from api.models import ApiToken, Scope
from issues.models import Issue
from monitors import deadlines
from monitors.models import CheckIn, CheckInStatus, Monitor, MonitorStatus
from monitors.tests.conftest import HOURLY
from projects.models import ProjectMembership


def checkin(status, environment, slug="nightly", **fields):
    data = {"check_in_id": uuid.uuid4().hex, "monitor_slug": slug, "status": status, "monitor_config": HOURLY}
    if environment is not None:
        data["environment"] = environment
    return {**data, **fields}


def rows(slug="nightly") -> dict[str, Monitor]:
    return {m.environment: m for m in Monitor.objects.filter(slug=slug)}


def test_a_missed_staging_run_does_not_mark_production_failing(send_checkins, project):
    send_checkins(checkin("ok", "production"), checkin("ok", "staging"))
    production, staging = rows()["production"], rows()["staging"]
    # production checks in again in its next slot; staging stays silent
    later = staging.missed_after + timedelta(seconds=1)
    Monitor.objects.filter(pk=production.pk).update(missed_after=later + timedelta(hours=1))

    assert deadlines.judge_project_deadlines(project.pk, later) == 1
    production, staging = rows()["production"], rows()["staging"]
    assert staging.status == MonitorStatus.FAILING and production.status == MonitorStatus.OK
    missed = CheckIn.objects.get(status=CheckInStatus.MISSED)
    assert (missed.monitor_id, missed.environment) == (staging.pk, "staging")
    issue = Issue.objects.get(pk=staging.issue_id)
    assert issue.calculated_value == "Monitor nightly (staging): no check-in came by the expected time"
    assert production.issue_id is None


def test_each_environment_fails_and_recovers_on_its_own(send_checkins, project):
    send_checkins(checkin("error", "production"), checkin("error", "staging"), checkin("ok", "staging"))
    production, staging = rows()["production"], rows()["staging"]
    assert production.status == MonitorStatus.FAILING and staging.status == MonitorStatus.OK
    assert production.issue_id != staging.issue_id
    assert Issue.objects.get(pk=staging.issue_id).is_resolved  # staging recovered
    assert not Issue.objects.get(pk=production.issue_id).is_resolved  # production did not
    assert Issue.objects.get(pk=production.issue_id).calculated_value.startswith("Monitor nightly (production):")

    # a run started in production and finished: the finish goes to the same environment's check-in
    start = checkin("in_progress", "production")
    send_checkins(start)
    send_checkins({**start, "status": "ok", "duration": 2.0})
    production = rows()["production"]
    assert production.status == MonitorStatus.OK
    assert CheckIn.objects.get(check_in_id=uuid.UUID(start["check_in_id"])).status == CheckInStatus.OK


def test_check_ins_without_an_environment_are_a_monitor_of_their_own(send_checkins, project):
    send_checkins(checkin("ok", None), checkin("error", "production"))
    assert set(rows()) == {"", "production"}
    assert rows()[""].status == MonitorStatus.OK
    # environment names differing in case or by trailing blanks are one (as MariaDB's unique index sees them)
    send_checkins(checkin("ok", "Production "), checkin("ok", "PRODUCTION"))
    assert set(rows()) == {"", "production"}
    assert rows()["production"].consecutive_oks == 2


def test_a_muted_slug_is_muted_in_every_environment_even_a_new_one(send_checkins, project, client):
    user = get_user_model().objects.create_user("m", "m@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user)
    client.force_login(user)
    send_checkins(checkin("ok", "production"))
    client.post(f"/projects/{project.pk}/monitors/nightly/mute/", {"muted": "1"})
    send_checkins(checkin("error", "staging"))
    assert all(m.is_muted for m in rows().values()) and len(rows()) == 2
    assert not Issue.objects.exists()


def test_pages_and_api_show_each_environment(send_checkins, project, client):
    user = get_user_model().objects.create_user("m", "m@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user)
    client.force_login(user)
    send_checkins(checkin("ok", "production"), checkin("error", "staging"), checkin("ok", "production", slug="other"))

    page = client.get(f"/projects/{project.pk}/monitors/").content.decode()
    assert page.count('data-monitor="nightly"') == 2 and 'data-environment="staging"' in page
    detail = client.get(f"/projects/{project.pk}/monitors/nightly/", {"environment": "staging"}).content.decode()
    assert "data-other-env" in detail and "Failing" in detail
    assert client.get(f"/projects/{project.pk}/monitors/nightly/", {"environment": "qa"}).status_code == 404
    first = client.get(f"/projects/{project.pk}/monitors/nightly/").content.decode()  # the first by name
    assert "<dd data-env>production" in first

    _, token = ApiToken.create_for(user, "t", scope=Scope.READ)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    listed = client.get("/api/0/organizations/main/monitors/", **auth).json()
    assert [m["slug"] for m in listed] == ["nightly", "other"]
    environments = {e["name"]: e["status"] for e in listed[0]["environments"]}
    assert environments == {"production": "ok", "staging": "error"}
    one = client.get("/api/0/organizations/main/monitors/nightly/", **auth).json()
    assert [e["name"] for e in one["environments"]] == ["production", "staging"] and one["issueId"]
    checkins = client.get("/api/0/organizations/main/monitors/nightly/checkins/", **auth).json()
    assert sorted(c["environment"] for c in checkins) == ["production", "staging"]
    staging_only = client.get(
        "/api/0/organizations/main/monitors/nightly/checkins/", {"environment": "staging"}, **auth
    ).json()
    assert [c["status"] for c in staging_only] == ["error"]
