"""Refusals are quiet and bounded (issue 19, part 5).

Django's SuspiciousOperation family (more query or form fields than DATA_UPLOAD_MAX_NUMBER_FIELDS, a body over
DATA_UPLOAD_MAX_MEMORY_SIZE, a bad Host header) answers 400, with a JSON `detail` under the APIs, and leaves one
WARNING line in the log, not a traceback; the access log quotes at most MAX_LOGGED_TARGET characters of a request's
target, however long it is.
"""

import inspect
import logging
import urllib.error
import urllib.request
from urllib.parse import urlencode

import django.contrib.sessions.exceptions
import django.core.exceptions
import pytest
from django.conf import settings

from api.models import ApiToken, Scope
from bugsink.webserver import MAX_LOGGED_TARGET, logged_target
from issues.models import Issue, TurningPoint
from projects.models import ProjectMembership
from testing.utils import make_issue, start_web_server, wait_until

FIELDS = 1100
MANY_FIELDS = urlencode([(f"field{i}", "v" * 80) for i in range(FIELDS)])  # about 100 KB


def security_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("django.security.")]


def assert_one_quiet_line(caplog, name: str) -> logging.LogRecord:
    (record,) = security_records(caplog)
    assert record.name == f"django.security.{name}"
    assert record.levelname == "WARNING" and record.exc_info is None and record.exc_text is None
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(record.getMessage()) <= 301 and "\n" not in record.getMessage()
    return record


@pytest.fixture
def someone(db, django_user_model):
    """A user, so that the login page is the login page (with no user at all it leads to the first-run setup)."""
    return django_user_model.objects.create_user("someone", "someone@example.com", "pw")


@pytest.fixture
def token(db, project, django_user_model):
    user = django_user_model.objects.create_user("dev", "dev@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user)
    return {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.create_for(user, 'cli', Scope.WRITE)[1]}"}


def test_too_many_query_fields_on_a_page_is_a_400_and_one_line(client, caplog, someone):
    caplog.set_level(logging.INFO)
    response = client.get(f"/accounts/login/?{MANY_FIELDS}")
    assert response.status_code == 400
    assert not response["Content-Type"].startswith("application/json")  # a browser's page
    record = assert_one_quiet_line(caplog, "TooManyFieldsSent")
    assert "(GET /accounts/login/)" in record.getMessage()


def test_too_many_query_fields_under_the_api_is_a_json_400(client, caplog, project, token):
    caplog.set_level(logging.INFO)
    response = client.get(f"/api/0/projects/main/{project.slug}/issues/?{MANY_FIELDS}", **token)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "at most 1000" in response.json()["detail"]
    assert_one_quiet_line(caplog, "TooManyFieldsSent")


def test_too_many_query_fields_at_ingest_is_a_json_400_a_browser_sdk_can_read(client, caplog, project):
    """(Ingest answers this one itself, as it answers every malformed request: no traceback either.)"""
    caplog.set_level(logging.INFO)
    response = client.post(
        f"/api/{project.pk}/envelope/?sentry_key={project.sentry_key}&{MANY_FIELDS}",
        data=b'{}\n{"type":"event"}\n{}\n',
        content_type="application/x-sentry-envelope",
    )
    assert response.status_code == 400
    assert response.json()["detail"] and response["Access-Control-Allow-Origin"] == "*"
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_bulk_put_of_more_than_1000_ids_is_a_json_400_and_changes_nothing(client, caplog, project, token):
    caplog.set_level(logging.INFO)
    issue = make_issue(project)
    ids = urlencode([("id", str(issue.pk))] * 1001)
    response = client.put(
        f"/api/0/projects/main/{project.slug}/issues/?{ids}", {"status": "resolved"}, "application/json", **token
    )
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert "at most 1000" in response.json()["detail"]
    assert not Issue.objects.get(pk=issue.pk).is_resolved
    assert not TurningPoint.objects.filter(kind=TurningPoint.Kind.RESOLVED).exists()
    assert_one_quiet_line(caplog, "TooManyFieldsSent")


def test_a_form_body_over_the_limit_is_a_400_and_one_line(client, caplog, settings, someone):
    caplog.set_level(logging.INFO)
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = client.post("/accounts/login/", {"username": "x" * 20_000, "password": "y"})
    assert response.status_code == 400
    assert_one_quiet_line(caplog, "RequestDataTooBig")


@pytest.mark.django_db
def test_a_bad_host_under_the_api_is_a_json_400(client, caplog):
    caplog.set_level(logging.INFO)
    response = client.get("/api/0/projects/", HTTP_HOST="scanner.example")
    assert response.status_code == 400 and "Host header" in response.json()["detail"]
    assert_one_quiet_line(caplog, "DisallowedHost")


def test_every_suspicious_operation_django_has_is_logged_as_one_line():
    """By class: a SuspiciousOperation subclass that settings.SUSPICIOUS_OPERATIONS leaves out would still log a
    traceback at ERROR."""
    modules = (django.core.exceptions, django.contrib.sessions.exceptions)
    found = {
        name
        for module in modules
        for name, value in inspect.getmembers(module, inspect.isclass)
        if issubclass(value, django.core.exceptions.SuspiciousOperation)
    }
    assert found <= set(settings.SUSPICIOUS_OPERATIONS)
    for name in settings.SUSPICIOUS_OPERATIONS:
        assert "one_line_warning" in settings.LOGGING["loggers"][f"django.security.{name}"]["filters"]


# --- the access log -----------------------------------------------------------------------------------------------


def test_logged_target_is_bounded_and_says_how_much_was_left_out():
    assert logged_target("/api/0/", "") == "/api/0/"
    assert logged_target("/a", "b=1") == "/a?b=1"
    long = logged_target("/accounts/login/", MANY_FIELDS)
    assert len(long) < MAX_LOGGED_TARGET + 40
    assert long.startswith("/accounts/login/?field0=") and long.endswith(" chars]")
    left_out = len("/accounts/login/?") + len(MANY_FIELDS) - MAX_LOGGED_TARGET
    assert f"…[+{left_out} chars]" in long
    assert logged_target("/a\nb\x1b[31m", "") == "/a\\x0ab\\x1b[31m"


@pytest.mark.live
def test_a_live_server_logs_a_huge_refused_request_in_two_short_lines(transactional_db, tmp_path, project, token):
    """The real web server with its access log on: the 400s, one line from Django each, one access line each of
    bounded length; no traceback, and the 100 KB query strings are not in the log."""
    log = tmp_path / "server.log"
    with start_web_server(tmp_path, extra_env={"ACCESS_LOG": "true"}) as url:
        for path, headers in (
            (f"/accounts/login/?{MANY_FIELDS}", {}),
            (
                f"/api/0/projects/main/{project.slug}/issues/?{MANY_FIELDS}",
                {"Authorization": token["HTTP_AUTHORIZATION"]},
            ),
        ):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(urllib.request.Request(url + path, headers=headers), timeout=30)
            assert refused.value.code == 400
        assert b'"detail"' in refused.value.read()  # the API's answer is JSON

        def logged():
            lines = log.read_text(errors="replace").splitlines()
            access = [line for line in lines if '"GET /' in line and '" 400 ' in line]
            return (lines, access) if len(access) == 2 else None

        lines, access = wait_until(logged, 30, message="the access lines", details=lambda: log.read_text()[-3000:])
    refusals = [line for line in lines if "django.security.TooManyFieldsSent" in line]
    assert len(refusals) == 2 and all("WARNING" in line for line in refusals)
    assert not [line for line in lines if "Traceback" in line or " ERROR " in line]
    assert all(len(line) < MAX_LOGGED_TARGET + 200 for line in lines)
    assert all(line.endswith(' chars] HTTP/1.1" 400 -') for line in access)
