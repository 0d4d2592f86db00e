"""Cron monitors end to end, on the session's live server: the real Python SDK's check-ins (each major,
ingest/tests/sdks.py; one ok run, one failing run under `sentry_sdk.crons.monitor`) show on the Monitors page; a
missed run opens an issue and a later ok run resolves it; `sentry-cli monitors run` wraps a command against us; the
monitor API answers; nothing in the server's log is a traceback."""

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from api.models import ApiToken, Scope
from api.tests.cli import cli_env, cli_path
from ingest.tests.sdks import PythonSdk
from ingest.tests.test_hostile_http import live_server_log  # noqa: F401 (a fixture)
from ingest.tests.test_real_sdks import client_env, dsn_for, run_client
from issues.models import Issue
from monitors import deadlines
from monitors.models import CheckIn, CheckInStatus, Monitor, MonitorStatus
from projects.models import Project, ProjectMembership, Role
from testing.utils import wait_until

CLIENT = Path(__file__).parent / "sdk_clients" / "cron_client.py"
pytestmark = pytest.mark.live


@pytest.fixture
def setup(transactional_db, live_server_url, live_server_log, client):  # noqa: F811
    user = get_user_model().objects.create_user("cron", "cron@example.com", "pw")
    project = Project.objects.create(name="Reports", slug="reports")
    ProjectMembership.objects.create(project=project, user=user, role=Role.ADMIN)
    client.force_login(user)
    offset = live_server_log.stat().st_size
    yield {"project": project, "user": user, "url": live_server_url, "dsn": dsn_for(project, live_server_url)}
    with open(live_server_log, "rb") as f:
        f.seek(offset)
        assert b"Traceback" not in f.read()


def checkins_of(monitor_slug: str, count: int, done=lambda c: c.status != "in_progress") -> list[CheckIn]:
    def finished():
        found = list(CheckIn.objects.filter(monitor__slug=monitor_slug).order_by("date_added", "id"))
        return found if len(found) >= count and all(done(c) for c in found) else None

    return wait_until(finished, 15, message=f"{count} finished check-ins of {monitor_slug}")


def run_cron_client(dsn: str, scenario: str, sdk: PythonSdk) -> None:
    result = run_client([sys.executable, str(CLIENT), dsn, scenario], client_env(**sdk.env()))
    assert result["sdk_version"] == sdk.version, result["output"]


def test_python_sdk_runs_show_on_the_monitors_page_and_a_missed_run_opens_and_resolves_an_issue(
    each_python_sdk, setup, client
):
    project = setup["project"]
    run_cron_client(setup["dsn"], "runs", each_python_sdk)
    ok_run, error_run = checkins_of("nightly-report", 2)
    assert (ok_run.status, error_run.status) == ("ok", "error")
    assert ok_run.duration is not None and error_run.duration is not None
    monitor = Monitor.objects.get(project=project, slug="nightly-report")
    assert (monitor.schedule_value, monitor.timezone, monitor.checkin_margin, monitor.max_runtime) == (
        "0 3 * * *",
        "Europe/Vienna",
        10,
        60,
    )
    # the error run failed the monitor: its issue is open (the SDK's own error event is an issue of its own)
    assert monitor.status == MonitorStatus.FAILING
    issue = Issue.objects.get(pk=monitor.issue_id)
    assert issue.calculated_value == "Monitor nightly-report (production): a run reported an error"

    page = client.get(f"/projects/{project.pk}/monitors/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-monitor="nightly-report"' in html and "0 3 * * *" in html and "Failing" in html
    detail = client.get(f"/projects/{project.pk}/monitors/nightly-report/").content.decode()
    assert f'data-checkin="{ok_run.check_in_id}"' in detail and f'data-checkin="{error_run.check_in_id}"' in detail
    assert f"/issues/{issue.pk}/" in detail

    # an ok run resolves it; then the next night passes without a check-in: missed, the issue is back
    run_cron_client(setup["dsn"], "ok", each_python_sdk)
    checkins_of("nightly-report", 3)
    issue.refresh_from_db()
    assert issue.is_resolved
    monitor.refresh_from_db()
    assert deadlines.judge_project_deadlines(project.pk, monitor.missed_after + timedelta(seconds=1)) == 1
    issue.refresh_from_db()
    assert not issue.is_resolved and issue.event_count == 2
    assert CheckIn.objects.filter(monitor=monitor, status=CheckInStatus.MISSED).count() == 1
    # and the run after that resolves it again
    run_cron_client(setup["dsn"], "ok", each_python_sdk)
    checkins_of("nightly-report", 5)
    issue.refresh_from_db()
    assert issue.is_resolved

    # Sentry's monitor API, with a token
    _, token = ApiToken.create_for(setup["user"], "read", scope=Scope.READ)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    listed = client.get("/api/0/organizations/main/monitors/", **auth).json()
    assert [m["slug"] for m in listed] == ["nightly-report"]
    assert listed[0]["config"]["schedule"] == "0 3 * * *" and listed[0]["environments"][0]["status"] == "ok"
    one = client.get("/api/0/organizations/main/monitors/nightly-report/", **auth).json()
    assert one["project"]["slug"] == "reports" and one["issueId"] == str(issue.pk)
    history = client.get("/api/0/organizations/main/monitors/nightly-report/checkins/", **auth).json()
    # newest first; the missed one was judged at tomorrow's deadline (the test moved the clock), after the real ones
    assert [c["status"] for c in history] == ["missed", "ok", "ok", "error", "ok"]
    assert history[-1]["duration"] is not None
    missing = client.get("/api/0/organizations/main/monitors/nope/", **auth)
    assert missing.status_code == 404 and missing.json()["detail"]


def test_sentry_cli_monitors_run_wraps_a_command(setup, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = cli_env(home, setup["url"], "", "reports")
    env.pop("SENTRY_AUTH_TOKEN")
    env["SENTRY_DSN"] = setup["dsn"]
    for command in (["true"], ["false"]):
        result = subprocess.run(
            [cli_path(), "monitors", "run", "--schedule", "*/5 * * * *", "backup", "--", *command],
            env=env,
            cwd=home,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == (0 if command == ["true"] else 1), f"{result.stdout}\n{result.stderr}"
    ok_run, failed_run = checkins_of("backup", 2)
    assert (ok_run.status, failed_run.status) == ("ok", "error")
    assert ok_run.environment == "production" and ok_run.duration is not None
    monitor = Monitor.objects.get(slug="backup")
    assert monitor.schedule_value == "*/5 * * * *" and monitor.status == MonitorStatus.FAILING
