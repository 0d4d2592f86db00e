"""End to end: secrets sent by real clients never reach the disk or a page.

The real `sentry-cli send-event` sends its whole process environment as `extra.environ` (the reported leak: a
DB_PASSWORD stored and shown); the real Python `sentry-sdk` scrubs only exact top-level names, so a secret in a
local variable named db_password, in a nested dict, in a custom header or in breadcrumb data reaches the server,
and a logging call's arguments reach it twice: in the event and in the structured log (each SDK major runs,
ingest/tests/sdks.py). Both send to a live server, which digests inline before it answers. Then the stored events
and logs hold [Filtered] where the secrets were, and no file of the test run (the data folders, the ingest store,
the SQLite database with its WAL, the server's log) nor any page of the event (or the project's Logs page) contains
a secret's bytes.
"""

import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.urls import reverse

from events.models import Event
from events.scrub import FILTERED, MARKER_KEY
from ingest.tests.test_real_sdks import CLIENTS_DIR, client_env, dsn_for, run_client, wait_for_events
from issues.models import Issue
from logs.models import LogEntry
from projects.models import Project
from testing.settings import TEST_DATA_DIR
from testing.utils import require_service, wait_until

SENTRY_CLI = Path(sys.executable).parent / "sentry-cli"
MAX_FILES = 50_000  # the walk over the run's folders is bounded

pytestmark = [pytest.mark.live]


def files_containing(needles: list[bytes], roots: list[Path]) -> list[str]:
    found, seen = [], 0
    for root in roots:
        for path in Path(root).rglob("*"):
            seen += 1
            assert seen < MAX_FILES, "more files than a test run makes"
            if not path.is_file() or path.is_symlink():
                continue
            try:
                content = path.read_bytes()
            except OSError:
                continue  # removed meanwhile (a temporary of another process)
            found += [f"{path}: {needle!r}" for needle in needles if needle in content]
    return found


def disk_roots(tmp_path_factory) -> list[Path]:
    """Everything this test run writes: its data folder (the SQLite test database, the live server's ingest store
    and data) and pytest's temporary folders (each test's ingest store, the live server's log)."""
    roots = [TEST_DATA_DIR, tmp_path_factory.getbasetemp(), Path(settings.INGEST_STORE_DIR)]
    return [root for root in roots if Path(root).exists()]


def pages_of(event: Event) -> dict[str, bytes]:
    admin = get_user_model().objects.create_superuser(f"admin-{uuid.uuid4().hex[:8]}", password="x")
    client = Client()
    client.force_login(admin)
    urls = [reverse("issue:events", args=[event.issue_id]), reverse("issues:project", args=[event.project_id])]
    urls.append(reverse("logs:project", args=[event.project_id]))
    for name in ("issue:event", "issue:event_details", "issue:event_breadcrumbs", "issue:event_json"):
        urls.append(reverse(name, args=[event.issue_id, event.pk]))
    urls.append(reverse("issue:event_download", args=[event.issue_id, event.pk]))
    pages = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        pages[url] = response.content
    return pages


def assert_nowhere(secrets: list[str], events: list[Event], tmp_path_factory) -> None:
    needles = [secret.encode() for secret in secrets]
    for event in events:
        assert not [s for s in secrets if s in event.data_json], event.data_json
        for url, content in pages_of(event).items():
            assert not [n for n in needles if n in content], url
    for issue in Issue.objects.filter(project=events[0].project):
        assert not [s for s in secrets if s in f"{issue.calculated_type} {issue.calculated_value} {issue.culprit}"]
    assert files_containing(needles, disk_roots(tmp_path_factory)) == []


@pytest.fixture
def project(transactional_db):
    return Project.objects.create(name=f"Scrubbed {uuid.uuid4().hex[:6]}")


def test_sentry_cli_send_event_environment_is_scrubbed(project, live_server_url, tmp_path_factory):
    require_service(SENTRY_CLI.exists(), f"sentry-cli at {SENTRY_CLI} (requirements-dev.txt installs it)")
    secret = uuid.uuid4().hex
    db_password, aws_secret, url_password = f"db-{secret}", f"aws-{secret}", f"url-{secret}"
    env = client_env(
        SENTRY_DSN=dsn_for(project, live_server_url),
        DB_PASSWORD=db_password,
        AWS_SECRET_ACCESS_KEY=aws_secret,
        SENTRY_DISABLE_UPDATE_CHECK="true",
    )
    command = [
        str(SENTRY_CLI),
        "send-event",
        "-m",
        "deploy of %s failed",
        "-a",
        "shop",
        "-e",
        f"db_url:postgres://app:{url_password}@db.internal/shop",
        "-e",
        "payment:card 4111-1111-1111-1111 declined",
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    output = f"{result.stdout}\n{result.stderr}"
    assert result.returncode == 0, output

    event = wait_until(lambda: Event.objects.filter(project=project).first(), 10, message="the event sentry-cli sent")
    sent_id = re.search(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", output)
    assert sent_id and sent_id[0].replace("-", "") == event.event_id.hex, output
    data = json.loads(event.data_json)
    environ = data["extra"]["environ"]
    assert environ["DB_PASSWORD"] == FILTERED and environ["AWS_SECRET_ACCESS_KEY"] == FILTERED
    assert environ["SENTRY_DISABLE_UPDATE_CHECK"] == "true", "the rest of the environment is kept"
    assert data["extra"]["db_url"] == f"postgres://app:{FILTERED}@db.internal/shop"
    assert data["extra"]["payment"] == f"card {FILTERED} declined"
    assert {"extra.environ.DB_PASSWORD", "extra.environ.AWS_SECRET_ACCESS_KEY"} <= set(data[MARKER_KEY]["paths"])
    assert_nowhere([db_password, aws_secret, url_password, "4111-1111-1111-1111"], [event], tmp_path_factory)


def test_python_sdk_secrets_in_frames_headers_breadcrumbs_messages_and_logs(
    each_python_sdk, project, live_server_url, tmp_path_factory
):
    secret = uuid.uuid4().hex
    script = CLIENTS_DIR / "python_secrets_client.py"
    env = client_env(SCRUB_TEST_SECRET=secret, **each_python_sdk.env())
    result = run_client([sys.executable, str(script), dsn_for(project, live_server_url)], env)
    assert result["sdk_version"] == each_python_sdk.version, result["output"]
    error, log = wait_for_events(project, result["event_ids"], result["output"])

    data = json.loads(error.data_json)
    frame = data["exception"]["values"][-1]["stacktrace"]["frames"][-1]
    assert frame["function"] == "connect"
    assert frame["vars"]["db_password"] == FILTERED  # the SDK let it through: not an exact name on its list
    assert frame["vars"]["password"] == FILTERED  # the SDK's own filtering, kept
    caller = data["exception"]["values"][-1]["stacktrace"]["frames"][-2]
    assert caller["function"] == "main"
    connect_args = [frame["vars"]["settings"]]
    assert connect_args[0]["db"]["api_key"] == FILTERED and "db.internal" in connect_args[0]["db"]["host"]
    assert data["request"]["headers"]["X-Upstream-Token"] == FILTERED
    assert data["request"]["headers"]["Accept"] == "application/json"
    crumbs = [c for c in data["breadcrumbs"]["values"] if c.get("category") == "auth"]
    assert crumbs[0]["data"] == {"refresh_token": FILTERED, "user": "bob"}

    data = json.loads(log.data_json)
    assert data["logentry"]["params"] == [FILTERED]
    assert data["logentry"]["formatted"] == f"charging card {FILTERED} failed"
    assert data["extra"]["payment"] == f"card {FILTERED} declined"
    # the same logging call as a structured log (the logs stream; events digest inline, logs in the same request)
    line = wait_until(
        lambda: LogEntry.objects.filter(project=project, level="error").first(), 10, message="the SDK's log line"
    )
    assert line.body == f"charging card {FILTERED} failed" and line.template == "charging card %s failed"
    assert json.loads(line.attributes_json)["sentry.message.parameter.0"] == FILTERED

    secrets = [f"{secret}-{place}" for place in ("frame", "exact", "nested", "header", "crumb")]
    assert_nowhere([*secrets, "5500 0000 0000 0004", "4111 1111 1111 1111"], [error, log], tmp_path_factory)


def test_the_search_finds_what_an_unscrubbed_project_stores(transactional_db, live_server_url, tmp_path_factory):
    """The control: with the default scrubbers off, the same sentry-cli event leaves its secret in the stored event
    and, on SQLite, in the database file that the searches above read (so their empty results mean something)."""
    require_service(SENTRY_CLI.exists(), f"sentry-cli at {SENTRY_CLI} (requirements-dev.txt installs it)")
    project = Project.objects.create(name=f"Unscrubbed {uuid.uuid4().hex[:6]}", scrub_defaults=False)
    db_password = f"db-{uuid.uuid4().hex}"
    env = client_env(SENTRY_DSN=dsn_for(project, live_server_url), DB_PASSWORD=db_password)
    result = subprocess.run(
        [str(SENTRY_CLI), "send-event", "-m", "unscrubbed"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    event = wait_until(lambda: Event.objects.filter(project=project).first(), 10, message="the event sentry-cli sent")
    assert json.loads(event.data_json)["extra"]["environ"]["DB_PASSWORD"] == db_password
    if connection.vendor == "sqlite":
        assert files_containing([db_password.encode()], disk_roots(tmp_path_factory))
