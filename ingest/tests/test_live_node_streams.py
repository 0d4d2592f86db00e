"""The real, unmodified @sentry/node (each major, ingest/tests/sdks.py) sending its streams other than errors to the
session's live server: release health (a server's request sessions, aggregated into a `sessions` item, and a
process session that crashes), cron check-ins (`Sentry.withMonitor`, `Sentry.captureCheckIn`) and structured logs
(`Sentry.logger`). Each shows where a person looks for it, and nothing in the server's log is a traceback.

Both majors have all three: `Sentry.logger` came in 9.x (10.x sends logs with `enableLogs: true`, 11.x always),
`withMonitor` in 7.x; request sessions replaced `autoSessionTracking` in 9.x (httpIntegration's
`trackIncomingRequestsAsSessions`, on by default).
"""

import shutil
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from health.models import SessionBucket
from ingest.tests.sdks import CURRENT_NODE_MAJOR, NpmSdk, node_sdk_for
from ingest.tests.test_hostile_http import live_server_log  # noqa: F401 (a fixture)
from ingest.tests.test_real_sdks import client_env, dsn_for, run_client
from issues.models import Issue
from logs.models import LogEntry
from monitors.models import CheckIn, Monitor, MonitorStatus
from projects.models import Project, ProjectMembership, Role
from testing.utils import wait_until

CLIENT = Path(__file__).parent / "sdk_clients" / "node_streams_client.js"
RELEASE = "shop-node@1.0.0"
pytestmark = pytest.mark.live


@pytest.fixture
def setup(transactional_db, live_server_url, live_server_log, client):  # noqa: F811
    user = get_user_model().objects.create_user("node-streams", "ns@example.com", "pw")
    project = Project.objects.create(name="Node streams", slug="node-streams")
    ProjectMembership.objects.create(project=project, user=user, role=Role.ADMIN)
    client.force_login(user)
    offset = live_server_log.stat().st_size
    yield {"project": project, "url": live_server_url}
    with open(live_server_log, "rb") as f:
        f.seek(offset)
        assert b"Traceback" not in f.read()


@pytest.fixture
def current_node_sdk() -> NpmSdk:
    return node_sdk_for(CURRENT_NODE_MAJOR)


def run_streams_client(sdk: NpmSdk, setup: dict, scenario: str) -> dict:
    result = run_client(
        [shutil.which("node"), str(CLIENT), dsn_for(setup["project"], setup["url"]), scenario],
        client_env(NODE_PATH=str(sdk.node_modules)),
    )
    assert result["sdk_version"] == sdk.version, result["output"]
    assert result["flushed"] is True, result["output"]
    assert "Traceback" not in result["output"]
    return result


# (sessions, errored (crashed ones included, as Sentry counts them), crashed), crash-free: three request sessions
# (one errored) in one `sessions` aggregate, and the crashed run's session (sent twice: started, then ended; counted
# once). 10.x also ends and sends the healthy session its ProcessSession integration started at init when the script
# starts its own; 11.x does not.
EXPECTED_HEALTH = {"11": ((4, 2, 1), "75%"), "10": ((5, 2, 1), "80%")}


def test_node_request_sessions_and_a_crashed_run_make_release_health(each_node_sdk, setup, client):
    project = setup["project"]
    expected, crash_free = EXPECTED_HEALTH[each_node_sdk.major]
    result = run_streams_client(each_node_sdk, setup, "sessions")
    assert result["statuses"] == [200, 200, 500]

    def digested():
        rows = list(SessionBucket.objects.filter(project=project, release=RELEASE))
        totals = (sum(r.started for r in rows), sum(r.errored for r in rows), sum(r.crashed for r in rows))
        return totals if totals == expected else None

    def found():
        rows = SessionBucket.objects.filter(project=project).values("release", "started", "errored", "crashed")
        return f"buckets: {list(rows)}\n{result['output'][-6000:]}"

    wait_until(digested, 20, message="3 request sessions (1 errored) and 1 crashed run", details=found)
    assert set(SessionBucket.objects.filter(project=project).values_list("environment", flat=True)) == {"production"}
    html = client.get(f"/projects/{project.pk}/releases/{RELEASE}/").content.decode()
    assert f"data-crash-free-sessions>{crash_free}<" in html, result["output"]
    assert Issue.objects.filter(project=project).count() == 2  # "payment declined", "import job crashed"


def test_node_with_monitor_check_ins_show_on_the_monitors_page(each_node_sdk, setup, client):
    project = setup["project"]
    result = run_streams_client(each_node_sdk, setup, "checkins")

    def finished():
        found = list(CheckIn.objects.filter(monitor__project=project).order_by("date_added", "id"))
        done = len(found) == 3 and all(c.status != "in_progress" for c in found)
        return found if done else None

    checkins = wait_until(finished, 20, message="3 finished check-ins", details=lambda: result["output"])
    nightly = Monitor.objects.get(project=project, slug="node-nightly")
    assert nightly.schedule_type == "crontab" and nightly.schedule_value == "0 3 * * *"
    assert (nightly.timezone, nightly.checkin_margin, nightly.max_runtime) == ("Europe/Vienna", 10, 60)
    assert sorted(c.status for c in checkins if c.monitor_id == nightly.pk) == ["error", "ok"]
    assert all(c.duration is not None for c in checkins if c.monitor_id == nightly.pk)
    assert nightly.status == MonitorStatus.FAILING
    heartbeat = Monitor.objects.get(project=project, slug="node-heartbeat")
    assert (heartbeat.schedule_type, heartbeat.schedule_value, heartbeat.schedule_unit) == ("interval", "5", "minute")

    page = client.get(reverse("monitors:project", args=[project.pk])).content.decode()
    assert "node-nightly" in page and "node-heartbeat" in page
    assert nightly.issue is not None and not nightly.issue.is_resolved
    assert "node-nightly" in nightly.issue.title()


def test_node_logger_logs_are_kept_formatted_and_searchable(each_node_sdk, setup, client):
    project = setup["project"]
    result = run_streams_client(each_node_sdk, setup, "logs")
    logs = wait_until(
        lambda: list(LogEntry.objects.filter(project=project).order_by("timestamp")) or None,
        20,
        message="the two logs",
        details=lambda: result["output"],
    )
    wait_until(lambda: LogEntry.objects.filter(project=project).count() == 2, 10, message="both logs")
    by_body = {log.body: log for log in LogEntry.objects.filter(project=project)}
    assert set(by_body) == {"Order 4711 paid by ada", "payment provider slow"}, logs
    paid = by_body["Order 4711 paid by ada"]
    assert paid.level == "info"
    assert paid.template == "Order %s paid by %s"
    for query in ("shop.region:eu-1", "sentry.message.parameter.0:4711", "paid"):
        page = client.get(reverse("logs:project", args=[project.pk]), {"q": query}).content.decode()
        assert "Order 4711 paid by ada" in page and "payment provider slow" not in page, query
    page = client.get(reverse("logs:project", args=[project.pk]), {"q": "level:warn"}).content.decode()
    assert "payment provider slow" in page


def test_node_backs_off_from_logs_alone_after_the_log_quota(current_node_sdk, transactional_db, tmp_path):
    """A live server of its own with a log quota of 2 a minute: the first batch of 2 logs is kept, the second is
    refused with a 429 naming `log_item`, the SDK drops the third itself (it never reaches the server), and its
    check-in afterwards is sent and kept: one category's quota does not hold back another's."""
    import re
    import time

    from ingest.quota import HOUR, window_start
    from testing.utils import start_web_server

    project = Project.objects.create(name="Node quota", slug="node-quota")
    env = {
        "LOGS_QUOTA_PER_MINUTE": "2",
        "CELERY_BROKER_URL": "",
        "ACCESS_LOG": "true",
        "BUGSINK_TEST_QUOTA_CLOCK_START": str(window_start(time.time(), HOUR) + 1),  # 59 s left in its minute
    }
    with start_web_server(tmp_path, extra_env=env) as url:
        result = run_client(
            [shutil.which("node"), str(CLIENT), dsn_for(project, url), "quota"],
            client_env(NODE_PATH=str(current_node_sdk.node_modules)),
        )
        output = result["output"]
        wait_until(
            lambda: CheckIn.objects.filter(monitor__project=project).exists(),
            20,
            message="the check-in",
            details=output,
        )
    access_log = (tmp_path / "server.log").read_text()
    statuses = [
        int(m["status"])
        for m in re.finditer(r'"POST /api/(?P<project>\d+)/envelope/[^"]*" (?P<status>\d{3}) ', access_log)
        if int(m["project"]) == project.pk
    ]
    bodies = sorted(LogEntry.objects.filter(project=project).values_list("body", flat=True))
    assert bodies == ["first batch, one", "first batch, two"], output
    assert statuses[:2] == [200, 429], access_log
    assert 429 not in statuses[2:], access_log  # the third batch was never sent; the check-in (and the SDK's
    # client report of what it dropped) were accepted
    assert CheckIn.objects.get(monitor__project=project).status == "ok"
    assert Monitor.objects.get(project=project).slug == "after-logs"
    assert "Traceback" not in output
