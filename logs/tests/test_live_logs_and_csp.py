"""End to end against one live web server (as `make run` starts it): the real Python SDK's structured logs (each
major, ingest/tests/sdks.py) show formatted and searchable on the Logs page and link with the event of their trace;
a CSP report that real Chromium sends for a blocked script (a page served on 127.0.0.1 whose Content-Security-Policy
`report-uri` is our security endpoint) shows as an issue; and the server logs no traceback meanwhile."""

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from events.models import Event
from ingest.tests.test_real_sdks import client_env, dsn_for
from issues.models import Issue
from logs.models import LogEntry
from projects.models import Project, ProjectMembership
from testing.utils import free_port, start_web_server, wait_until

pytestmark = [pytest.mark.live]

CLIENT = Path(__file__).resolve().parent / "sdk_logs_client.py"


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        web = start_web_server(tmp_path_factory.mktemp("live-logs"))
        with web:
            yield web


def test_real_python_sdk_logs_are_kept_formatted_searchable_and_linked(
    each_python_sdk, transactional_db, server, client
):
    project = Project.objects.create(name="Shop", slug="shop")
    try:
        result = subprocess.run(
            [sys.executable, str(CLIENT), dsn_for(project, server.url)],
            env=client_env(**each_python_sdk.env()),
            capture_output=True,
            text=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"the SDK client did not finish: {error.stdout}\n{error.stderr}")
    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    sent = json.loads(line.removeprefix("RESULT "))
    assert sent["sdk_version"] == each_python_sdk.version
    event_id = sent["event_ids"][0]

    wait_until(
        lambda: (
            LogEntry.objects.filter(project=project).count() == 2
            and Event.objects.filter(project=project, event_id=event_id).exists()
        ),
        30,
        message="the SDK's logs and event to be stored",
        details=lambda: result.stderr[-3000:] + server.output()[-3000:],
    )
    paid = LogEntry.objects.get(project=project, level="info")
    assert paid.body == "Order 42 paid by ada"
    assert paid.template == "Order {order_id} paid by {user}"
    assert (paid.release, paid.environment) == ("shop@1.0", "production")
    event = Event.objects.get(project=project, event_id=event_id)
    assert event.trace_id and paid.trace_id == event.trace_id  # one trace: logs and error link each other

    user = get_user_model().objects.create_user("ada", password="pw")
    ProjectMembership.objects.create(project=project, user=user)
    client.force_login(user)
    logs_url = reverse("logs:project", args=[project.pk])
    html = client.get(logs_url).content.decode()
    assert "Order 42 paid by ada" in html and "Stock low for A-7" in html
    assert 'data-log-parameter="order_id">42<' in html
    assert reverse("issue:event", args=[event.issue_id, event.pk]) in html
    for query in ("warehouse:north", "level:warn", "stock", "sentry.message.parameter.sku:A-7"):
        found = client.get(logs_url, {"q": query}).content.decode()
        assert "Stock low for A-7" in found and "Order 42 paid" not in found, query
    event_page = client.get(reverse("issue:event", args=[event.issue_id, event.pk])).content.decode()
    assert "2 logs of this trace" in event_page
    assert "Traceback" not in server.output()


def page_server(csp: str):
    """A page on 127.0.0.1 with this Content-Security-Policy, loading a script from another origin."""
    blocked_port = free_port()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = f'<!doctype html><title>shop</title><script src="http://localhost:{blocked_port}/lib.js"></script>'
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Security-Policy", csp)
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), Page)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, blocked_port


def test_a_csp_report_from_chromium_shows_as_an_issue(transactional_db, server, chromium_page):
    project = Project.objects.create(name="Web", slug="web")
    report_uri = f"{server.url}/api/{project.pk}/security/?sentry_key={project.sentry_key}"
    httpd, blocked_port = page_server(f"script-src 'self'; report-uri {report_uri}")
    # the page (a stand-in for a user's site, not ours) violates its policy on purpose: that is what is reported
    chromium_page.console_watch.violations_expected = True
    try:
        chromium_page.goto(f"http://127.0.0.1:{httpd.server_port}/")
        wait_until(
            lambda: Issue.objects.filter(project=project).exists(),
            30,
            message="Chromium's CSP report to become an issue",
            details=lambda: server.output()[-3000:],
        )
    finally:
        httpd.shutdown()
        httpd.server_close()
    issue = Issue.objects.get(project=project)
    assert issue.title() == f"Blocked 'script' from 'localhost:{blocked_port}'"
    csp = Event.objects.get(issue=issue).data["contexts"]["csp"]
    assert csp["effective-directive"] == "script-src-elem"
    assert csp["blocked-uri"].startswith(f"http://localhost:{blocked_port}/lib.js")
    assert "Traceback" not in server.output()
