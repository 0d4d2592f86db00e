"""End to end: the real, unmodified Sentry SDKs (PyPI `sentry-sdk`, npm `@sentry/node`) against a live server.

Each SDK runs in a child process (ingest/tests/sdk_clients/), so its global state, logging integration and
exit hooks never touch pytest's process. The child flushes before it exits and prints the event ids the SDK
assigned; since the server digests inline before it answers, those events are in the database by then (we still
poll briefly, bounded). Only 127.0.0.1 is contacted, and proxy settings are removed from the child's environment.

The conformance tests run each SDK's current major and its previous one (the `each_*_sdk` fixtures); the versions,
and how they are installed into .cache/ (not tracked by git) at test time, are in ingest/tests/sdks.py.
"""

import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from events.models import Event
from ingest.tests.sdks import CURRENT_NODE_MAJOR, NODE_SDKS, NpmSdk, PythonSdk, node_sdk_for
from issues.models import Issue
from projects.models import Project, ProjectMembership, Role
from releases.models import Release
from testing.utils import wait_until

CLIENTS_DIR = Path(__file__).resolve().parent / "sdk_clients"
NODE_SDK_VERSION = NODE_SDKS[CURRENT_NODE_MAJOR]  # the one the tests that are not about conformance run
CLIENT_TIMEOUT = 60

pytestmark = [pytest.mark.live]


# --- helpers --------------------------------------------------------------------------------------------------------


def dsn_for(project: Project, live_server_url: str) -> str:
    port = urlsplit(live_server_url).port
    return f"http://{project.sentry_key}@127.0.0.1:{port}/{project.pk}"


def client_env(**extra) -> dict[str, str]:
    """The test's environment without anything that would redirect or reconfigure an SDK."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.upper().startswith("SENTRY_") and not name.lower().endswith("_proxy")
    }
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.update(extra)
    return env


def run_client(command: list[str], env: dict[str, str]) -> dict:
    """Run one SDK client to completion (bounded) and return its RESULT line, parsed."""
    try:
        result = subprocess.run(
            command, cwd=CLIENTS_DIR, env=env, capture_output=True, text=True, timeout=CLIENT_TIMEOUT
        )
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"{command[1]} did not finish within {CLIENT_TIMEOUT} s:\n{error.stdout}\n{error.stderr}")
    output = f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
    assert result.returncode == 0, output
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    assert len(lines) == 1, output
    parsed = json.loads(lines[0].removeprefix("RESULT "))
    parsed["output"] = output
    return parsed


def wait_for_events(project: Project, event_ids: list[str], output: str) -> list[Event]:
    """The project's events, in capture order, once all of `event_ids` are stored (bounded poll)."""
    expected = [event_id.replace("-", "") for event_id in event_ids]
    assert all(re.fullmatch(r"[0-9a-f]{32}", event_id) for event_id in expected), expected

    def stored_events() -> dict[str, Event]:
        return {event.event_id.hex: event for event in Event.objects.filter(project=project)}

    def all_stored() -> dict[str, Event] | None:
        stored = stored_events()
        return stored if len(stored) >= len(expected) else None

    stored = wait_until(
        all_stored,
        10,
        message=f"the {len(expected)} events the SDK sent",
        details=lambda: f"stored {sorted(stored_events())}, the SDK sent {expected}\n{output}",
    )
    assert sorted(stored) == sorted(expected), f"stored {sorted(stored)}, the SDK sent {expected}\n{output}"
    return [stored[event_id] for event_id in expected]


def run_python_client(
    project: Project, live_server_url: str, scenario: str, sdk: PythonSdk | None = None
) -> tuple[list[Event], dict]:
    """The Python SDK sends from one background thread, in capture order: an issue's title is its first capture's.
    `sdk`: the version to run (ingest/tests/sdks.py); without it, the one in .venv."""
    script = CLIENTS_DIR / "python_client.py"
    env = client_env(**(sdk.env() if sdk else {}))
    result = run_client([sys.executable, str(script), dsn_for(project, live_server_url), scenario], env)
    if sdk:
        assert result["sdk_version"] == sdk.version, result["output"]
    return wait_for_events(project, result["event_ids"], result["output"]), result


def the_issue(project: Project) -> Issue:
    issues = list(Issue.objects.filter(project=project))
    assert len(issues) == 1, [issue.title() for issue in issues]
    return issues[0]


def exception_types(event: Event) -> list[str]:
    return [exc["type"] for exc in event.data["exception"]["values"]]


# --- Python sentry-sdk ----------------------------------------------------------------------------------------------


@pytest.fixture
def py_project(transactional_db):
    return Project.objects.create(name="Python shop")


def test_python_chained_exception(each_python_sdk, py_project, live_server_url):
    (event,), _ = run_python_client(py_project, live_server_url, "chained", each_python_sdk)

    issue = the_issue(py_project)
    assert issue.title() == "RuntimeError: could not load order"
    assert issue.event_count == 1
    assert issue.level == "error"
    assert issue.culprit == "__main__ in load_order"  # the raised exception's crashing in-app frame
    assert event.issue_id == issue.id
    assert event.title() == "RuntimeError: could not load order"
    # oldest first, the raised exception last
    assert exception_types(event) == ["ValueError", "RuntimeError"]
    assert [exc["value"] for exc in event.data["exception"]["values"]] == [
        "could not convert string to float: 'twelve'",
        "could not load order",
    ]


def test_python_capture_message(each_python_sdk, py_project, live_server_url):
    (event,), _ = run_python_client(py_project, live_server_url, "message", each_python_sdk)

    issue = the_issue(py_project)
    assert issue.title() == "hello from python"
    assert (issue.level, event.level) == ("info", "info")
    assert issue.event_count == 1
    assert "exception" not in event.data


def test_python_logging_groups_on_the_unformatted_message(each_python_sdk, py_project, live_server_url):
    events, _ = run_python_client(py_project, live_server_url, "log_messages", each_python_sdk)

    issue = the_issue(py_project)
    assert issue.event_count == 3
    assert issue.title() == "user alice failed"  # the first event's formatted message
    assert issue.level == "error"
    assert [event.title() for event in events] == ["user alice failed", "user bob failed", "user carol failed"]
    assert {event.data["logentry"]["message"] for event in events} == {"user %s failed"}
    assert [event.data["logentry"]["params"] for event in events] == [["alice"], ["bob"], ["carol"]]
    assert sorted(event.digest_order for event in events) == [1, 2, 3]


def test_python_custom_fingerprint(each_python_sdk, py_project, live_server_url):
    events, _ = run_python_client(py_project, live_server_url, "fingerprint", each_python_sdk)

    issue = the_issue(py_project)
    assert issue.event_count == 2
    assert issue.title() == "ValueError: card declined"
    assert [event.title() for event in events] == ["ValueError: card declined", "KeyError: 'no such address'"]
    assert [event.data["fingerprint"] for event in events] == [["checkout-failure"], ["checkout-failure"]]


def test_python_release_and_environment(each_python_sdk, py_project, live_server_url):
    (event,), _ = run_python_client(py_project, live_server_url, "release", each_python_sdk)

    assert (event.release, event.environment) == ("shop@1.4.2", "staging")
    assert list(Release.objects.filter(project=py_project).values_list("version", flat=True)) == ["shop@1.4.2"]
    issue = the_issue(py_project)
    assert (issue.first_release, issue.last_release) == ("shop@1.4.2", "shop@1.4.2")
    assert issue.title() == "ValueError: card declined"


def test_python_same_error_same_call_site_is_one_issue(each_python_sdk, py_project, live_server_url):
    events, _ = run_python_client(py_project, live_server_url, "repeated", each_python_sdk)

    issue = the_issue(py_project)
    assert issue.event_count == 5
    assert issue.title() == "ZeroDivisionError: division by zero"
    assert issue.culprit == "__main__ in divide"
    assert sorted(event.digest_order for event in events) == [1, 2, 3, 4, 5]
    assert {event.issue_id for event in events} == {issue.id}


def test_python_logging_error_is_an_event_only_where_the_major_says_so(each_python_sdk, py_project, live_server_url):
    """2.x turns `logging.error` into an event by default; 3.x only with LoggingIntegration(event_level=...), which
    the README's snippet shows (test_python_logging_groups_on_the_unformatted_message runs it on both majors)."""
    events, _ = run_python_client(py_project, live_server_url, "log_default", each_python_sdk)
    titles = [event.title() for event in events]
    if each_python_sdk.major == "2":
        assert titles == ["user dave failed", "after the log line"]
    else:
        # 3.x does not set the logging integration up at all unless asked: no event, not even a breadcrumb
        assert titles == ["after the log line"]
        assert "logging" not in events[0].data["sdk"]["integrations"]
        assert "breadcrumbs" not in events[0].data


def test_python_http_breadcrumb_reads_as_a_request(each_python_sdk, py_project, live_server_url, client):
    """The stdlib integration's HTTP breadcrumb, in either major's keys, reads "GET <url> [200]" on the issue page
    (not as a bare "data" to unfold)."""
    (event,), _ = run_python_client(py_project, live_server_url, "http_breadcrumb", each_python_sdk)
    health = f"http://127.0.0.1:{urlsplit(live_server_url).port}/health/live"
    [crumb] = [crumb for crumb in event.data["breadcrumbs"]["values"] if crumb.get("type") == "http"]
    # the keys differ between majors, and within 2.x (2.76 mixes the old `url` with the newer names)
    keys = ("http.method", "url") if each_python_sdk.major == "2" else ("http.request.method", "url.full")
    data = crumb["data"]
    assert (data[keys[0]], data[keys[1]], data["http.response.status_code"]) == ("GET", health, 200), data
    member = get_user_model().objects.create_user("reader")
    ProjectMembership.objects.create(project=py_project, user=member)
    client.force_login(member)
    page = client.get(reverse("issue:breadcrumbs", args=[event.issue_id]))
    assert page.status_code == 200
    text = html.unescape(page.content.decode())
    summary = f"GET {health} [200 OK]" if each_python_sdk.major == "2" else f"GET {health} [200]"  # 2.x sends `reason`
    crumbs = text[text.find("table breadcrumbs") :]
    assert f'<div class="crumb-text crumb-summary" dir="auto">{summary}</div>' in text, crumbs


README = Path(__file__).resolve().parent.parent.parent / "README.md"


def readme_python_snippet() -> str:
    """The README's Python example (the first ```python block of "Point an SDK at it")."""
    text = README.read_text()
    section = text[text.index("## Point an SDK at it") :]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def run_python_snippet(snippet: str, sdk: PythonSdk, project: Project, tmp_path: Path, tail: str = "") -> list[str]:
    """Run a snippet people copy (its DSN already the live server's) with `tail` after it, as a script of its own
    on `sdk`, with one log line added; the titles of the events the project then has (two expected)."""
    script = tmp_path / "snippet.py"
    script.write_text(
        snippet
        + tail
        + '\nlogging.getLogger("myapp.orders").error("order %s failed", 1042)\n'
        + 'print("RESULT " + __import__("json").dumps({"sdk_version": sentry_sdk.VERSION}))\n'
    )
    result = run_client([sys.executable, str(script)], client_env(**sdk.env()))
    assert result["sdk_version"] == sdk.version

    def titles():
        found = sorted(event.title() for event in Event.objects.filter(project=project))
        return found if len(found) >= 2 else None

    return wait_until(titles, 10, message="the snippet's two events", details=lambda: result["output"])


def test_the_readmes_python_snippet_works_on_each_major(each_python_sdk, py_project, live_server_url, tmp_path):
    """As printed, with the DSN filled in and one log line added: the exception it captures and the log line's event
    (the LoggingIntegration line it shows for 3.x) both arrive; the SDK flushes at exit, as an application's does."""
    snippet = readme_python_snippet()
    assert 'dsn="http://0123abcd…@127.0.0.1:8000/1"' in snippet
    snippet = snippet.replace("http://0123abcd…@127.0.0.1:8000/1", dsn_for(py_project, live_server_url))
    assert run_python_snippet(snippet, each_python_sdk, py_project, tmp_path) == [
        "ZeroDivisionError: division by zero",
        "order 1042 failed",
    ]


def test_the_setup_pages_python_snippet_works_on_each_major(
    each_python_sdk, py_project, live_server_url, tmp_path, client, settings
):
    """The project's setup page shows a Python snippet with its DSN to copy: as shown, it runs on both majors (it
    once passed send_default_pii, which 3.x refuses), and keeps logging.error as events."""
    settings.BASE_URL = f"http://127.0.0.1:{urlsplit(live_server_url).port}"
    admin = get_user_model().objects.create_user("setter-upper")
    ProjectMembership.objects.create(project=py_project, user=admin, role=Role.ADMIN)
    client.force_login(admin)
    page = client.get(reverse("projects:setup", args=[py_project.pk]))
    assert page.status_code == 200
    found = re.search(r'<code id="snippet-python">(.*?)</code>', page.content.decode(), re.DOTALL)
    snippet = html.unescape(found.group(1))
    assert dsn_for(py_project, live_server_url) in snippet
    tail = "\ntry:\n    1 / 0\nexcept ZeroDivisionError:\n    sentry_sdk.capture_exception()\n"
    assert run_python_snippet(snippet, each_python_sdk, py_project, tmp_path, tail) == [
        "ZeroDivisionError: division by zero",
        "order 1042 failed",
    ]


# --- @sentry/node ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def node_sdk() -> Path:
    """The current @sentry/node's folder, to put on NODE_PATH (for the tests that are not about conformance)."""
    return node_sdk_for(CURRENT_NODE_MAJOR).node_modules


def run_node_client(sdk: NpmSdk | Path, project: Project, live_server_url: str, scenario: str):
    """`sdk`: one of ingest/tests/sdks.py's, or the `node_sdk` fixture's folder (the current version)."""
    version, node_modules = (sdk.version, sdk.node_modules) if isinstance(sdk, NpmSdk) else (NODE_SDK_VERSION, sdk)
    script = CLIENTS_DIR / "node_client.js"
    result = run_client(
        [shutil.which("node"), str(script), dsn_for(project, live_server_url), scenario],
        client_env(NODE_PATH=str(node_modules)),
    )
    assert result["sdk_version"] == version, result["output"]
    assert result["flushed"] is True, result["output"]
    return wait_for_events(project, result["event_ids"], result["output"]), result


@pytest.fixture
def node_project(transactional_db):
    return Project.objects.create(name="Node shop")


def test_the_readmes_javascript_snippet_runs_and_its_error_arrives_with_its_cause(
    node_sdk, node_project, live_server_url, tmp_path
):
    """As printed (issue 23: it used an undefined `err`), with the DSN filled in and a flush added at the end, as a
    script of its own on the current @sentry/node: it runs without error and its event arrives, the cause with it."""
    text = README.read_text()
    section = text[text.index("## Point an SDK at it") :]
    snippet = section.split("```js\n", 1)[1].split("```", 1)[0]
    assert '"http://0123abcd…@127.0.0.1:8000/1"' in snippet
    script = tmp_path / "snippet.js"
    script.write_text(
        snippet.replace("http://0123abcd…@127.0.0.1:8000/1", dsn_for(node_project, live_server_url))
        + '\nSentry.flush(10000).then((flushed) => console.log("RESULT " + JSON.stringify({flushed})));\n'
    )
    result = run_client([shutil.which("node"), str(script)], client_env(NODE_PATH=str(node_sdk)))
    assert result["flushed"] is True, result["output"]
    event = wait_until(lambda: Event.objects.filter(project=node_project).first(), 10, message="the snippet's event")
    assert event.title() == "Error: Could not read the settings"
    assert [exc["type"] for exc in event.data["exception"]["values"]] == ["SyntaxError", "Error"]
    assert event.release == "myapp@1.4.2"


def test_node_error_with_cause_and_message(each_node_sdk, node_project, live_server_url):
    """Sent chunked, without Content-Length, like every @sentry/node request: error, message, the same error."""
    (first, message, second), _ = run_node_client(each_node_sdk, node_project, live_server_url, "mixed")

    issues = {issue.title(): issue for issue in Issue.objects.filter(project=node_project)}
    assert sorted(issues) == ["Error: outer", "hello from node"]

    error_issue = issues["Error: outer"]
    assert error_issue.event_count == 2
    assert error_issue.level == "error"
    assert (error_issue.first_release, error_issue.last_release) == ("shop-web@2.0.1", "shop-web@2.0.1")
    assert [first.issue_id, second.issue_id] == [error_issue.id, error_issue.id]
    # the transport sends concurrently: arrival order is not capture order
    assert sorted([first.digest_order, second.digest_order]) == [1, 2]
    for event in (first, second):
        assert event.title() == "Error: outer"
        # the cause first, the error thrown last
        assert [exc["value"] for exc in event.data["exception"]["values"]] == ["inner", "outer"]
        assert exception_types(event) == ["Error", "Error"]
        assert (event.release, event.environment, event.platform) == ("shop-web@2.0.1", "ci", "node")

    message_issue = issues["hello from node"]
    assert message_issue.event_count == 1
    assert message.issue_id == message_issue.id
    assert (message_issue.level, message.level) == ("info", "info")
    assert message.title() == "hello from node"
    assert (message.release, message.environment) == ("shop-web@2.0.1", "ci")


def test_node_messages_with_stacks_from_one_place_are_separate_issues(each_node_sdk, node_project, live_server_url):
    """attachStacktrace: each message carries a synthetic exception with the same stack; the message decides."""
    (warm, slow), _ = run_node_client(each_node_sdk, node_project, live_server_url, "messages")
    assert warm.issue_id != slow.issue_id
    assert sorted(issue.title() for issue in Issue.objects.filter(project=node_project)) == [
        "cache warm-up skipped",
        "payment provider slow",
    ]
    assert warm.data["exception"]["values"][-1]["mechanism"]["synthetic"] is True
