"""Browsers' CSP reports at /api/<id>/security/?sentry_key=<key>, in both the report-uri (application/csp-report)
and report-to (application/reports+json) formats: each violation becomes an event, titled by what was blocked and
grouped by directive and blocked origin; bad input gets a 4xx with a JSON detail."""

import json

import pytest
from django.test import TestCase

from events.models import Event
from ingest.security import MAX_REPORTS, blocked_origin, title
from issues.models import Issue


def report_uri_body(blocked="https://cdn.example/lib.js?v=3", directive="script-src-elem", **extra) -> bytes:
    report = {
        "document-uri": "https://shop.example/checkout",
        "referrer": "https://shop.example/",
        "violated-directive": directive,
        "effective-directive": directive,
        "original-policy": "default-src 'self'; report-uri /api/1/security/?sentry_key=k",
        "disposition": "enforce",
        "blocked-uri": blocked,
        "status-code": 200,
        "script-sample": "",
        **extra,
    }
    return json.dumps({"csp-report": report}).encode()


def report_to_entry(blocked="https://cdn.example/a.js", directive="script-src-elem", kind="csp-violation") -> dict:
    return {
        "type": kind,
        "age": 10,
        "url": "https://shop.example/cart",
        "user_agent": "Mozilla/5.0 Chrome/130",
        "body": {
            "documentURL": "https://shop.example/cart",
            "blockedURL": blocked,
            "effectiveDirective": directive,
            "originalPolicy": "script-src 'self'",
            "disposition": "enforce",
            "statusCode": 200,
            "lineNumber": 3,
        },
    }


def post(client, project, body: bytes, content_type="application/csp-report", key=None, query=""):
    key = project.sentry_key if key is None else key
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            f"/api/{project.pk}/security/?sentry_key={key}{query}",
            data=body,
            content_type=content_type,
            HTTP_USER_AGENT="Mozilla/5.0 Firefox/133",
        )


def test_a_report_uri_report_becomes_an_issue_titled_by_what_was_blocked(client, project):
    response = post(client, project, report_uri_body(), query="&sentry_environment=prod&sentry_release=shop@2")
    assert response.status_code == 200, response.content
    assert response["Access-Control-Allow-Origin"] == "*"
    event = Event.objects.get(project=project)
    assert event.issue.title() == "Blocked 'script' from 'cdn.example'"
    assert (event.level, event.platform, event.environment, event.release) == ("error", "javascript", "prod", "shop@2")
    data = event.data
    assert data["contexts"]["csp"]["blocked-uri"] == "https://cdn.example/lib.js?v=3"
    assert data["request"]["headers"]["User-Agent"] == "Mozilla/5.0 Firefox/133"
    assert data["tags"] == {"effective-directive": "script-src-elem", "blocked-origin": "cdn.example"}


def test_reports_group_by_directive_and_blocked_origin(client, project):
    post(client, project, report_uri_body("https://cdn.example/one.js"))
    post(client, project, report_uri_body("https://cdn.example/two.js?x=1"))
    post(client, project, report_uri_body("https://other.example/one.js"))
    post(client, project, report_uri_body("https://cdn.example/pic.png", directive="img-src"))
    titles = sorted((issue.title(), issue.event_count) for issue in Issue.objects.filter(project=project))
    assert titles == [
        ("Blocked 'image' from 'cdn.example'", 1),
        ("Blocked 'script' from 'cdn.example'", 2),
        ("Blocked 'script' from 'other.example'", 1),
    ]


def test_a_report_to_batch_becomes_one_event_per_csp_violation(client, project):
    entries = [report_to_entry(), report_to_entry("inline"), report_to_entry(kind="deprecation")]
    response = post(client, project, json.dumps(entries).encode(), content_type="application/reports+json")
    assert response.status_code == 200, response.content
    assert len(response.json()["ids"]) == 2
    titles = sorted(Issue.objects.filter(project=project).values_list("calculated_value", flat=True))
    assert titles == ["Blocked 'script' from 'cdn.example'", "Blocked unsafe inline 'script'"]
    event = Event.objects.filter(project=project).first()
    assert event.data["request"]["headers"]["User-Agent"] == "Mozilla/5.0 Chrome/130"


@pytest.mark.parametrize(
    "blocked, directive, expected",
    [
        ("inline", "script-src-elem", "Blocked unsafe inline 'script'"),
        ("eval", "script-src", "Blocked unsafe eval() 'script'"),
        ("wasm-eval", "script-src", "Blocked unsafe WebAssembly eval 'script'"),
        ("data", "img-src", "Blocked 'image' from 'data:'"),
        ("data:image/png;base64,AAAA", "img-src", "Blocked 'image' from 'data:'"),
        ("blob:https://shop.example/1-2", "worker-src", "Blocked 'worker' from 'blob:'"),
        ("self", "style-src-attr", "Blocked 'style' from 'self'"),
        ("https://shop.example/x.css", "style-src", "Blocked 'style' from 'self'"),
        ("https://cdn.example:8443/f.woff", "font-src", "Blocked 'font' from 'cdn.example:8443'"),
        ("https://api.example/v1", "connect-src", "Blocked 'connect' from 'api.example'"),
        ("https://a.example/", "frame-ancestors", "Blocked 'frame-ancestors' from 'a.example'"),
    ],
)
def test_titles(blocked, directive, expected):
    report = {"blocked-uri": blocked, "document-uri": "https://shop.example/page"}
    assert title(directive, blocked_origin(report)) == expected


@pytest.mark.parametrize(
    "body, content_type, status, detail",
    [
        (b"", "application/csp-report", 400, "empty body"),
        (b"{not json", "application/csp-report", 400, "not JSON"),
        (b'{"csp-report": {"blocked-uri": "x"}}', "application/csp-report", 400, "without effective-directive"),
        (b'[{"type": "deprecation", "body": {}}]', "application/reports+json", 400, "no CSP violation"),
        (b"[1]", "application/reports+json", 400, "not a CSP report"),
        (b'"text"', "application/json", 400, "not a CSP report"),
        (b"{}", "text/plain", 415, "unsupported Content-Type"),
        (json.dumps([report_to_entry()] * (MAX_REPORTS + 1)).encode(), "application/reports+json", 400, "more than"),
        (b"[" * 100_000, "application/json", 400, "not JSON"),
    ],
)
def test_bad_input_gets_a_4xx_with_a_detail(client, project, body, content_type, status, detail):
    response = post(client, project, body, content_type=content_type)
    assert response.status_code == status, response.content
    assert detail in response.json()["detail"]
    assert Event.objects.count() == 0


def test_keys_and_methods(client, project):
    assert post(client, project, report_uri_body(), key="").status_code == 401
    assert post(client, project, report_uri_body(), key="0" * 32).status_code == 403
    assert (
        client.post("/api/999999/security/?sentry_key=x", data=b"{}", content_type="application/json").status_code
        == 404
    )
    assert client.get(f"/api/{project.pk}/security/?sentry_key={project.sentry_key}").status_code == 405
    preflight = client.options(f"/api/{project.pk}/security/")
    assert preflight.status_code == 200 and "POST" in preflight["Access-Control-Allow-Methods"]


def test_a_body_over_the_limit_is_refused(client, project):
    from ingest.views import MAX_SECURITY_REPORT_SIZE

    body = report_uri_body(**{"script-sample": "x" * MAX_SECURITY_REPORT_SIZE})
    assert post(client, project, body).status_code == 413
