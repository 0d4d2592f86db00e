"""Events through /api/0/: an issue's events (summaries and full), latest/oldest/one, a project's event by id, in
Sentry's shape; pages walk every event; stored hostile events never make the API fail."""

import json
import uuid

import pytest
from django.contrib.auth import get_user_model

from api.models import ApiToken, Scope
from events.models import Event
from events.tests.test_hostile_events import HUGE_DIGITS, TALL_DIGITS, event_json, frame_json, store
from issues.models import Issue
from projects.models import Project, ProjectMembership
from testing.utils import exception_event

ORG = "main"

PYTHON_EVENT = exception_event(
    "ZeroDivisionError",
    "division by zero",
    frames=[
        {"filename": "lib/x.py", "function": "outer", "lineno": 3, "in_app": False},
        {
            "filename": "app/views.py",
            "abs_path": "/srv/app/views.py",
            "module": "app.views",
            "function": "handle",
            "lineno": 10,
            "colno": 5,
            "in_app": True,
            "pre_context": ["def handle():", "    a = 1"],
            "context_line": "    return a / 0",
            "post_context": [""],
            "vars": {"a": "1"},
        },
    ],
    release="2.1.0",
    environment="production",
    tags={"customer": "acme"},
    user={"id": "42", "email": "u@example.com", "segment": "paid"},
    contexts={"os": {"name": "Linux", "version": "6.1"}},
    extra={"attempt": 3},
    modules={"django": "5.2"},
    sdk={"name": "sentry.python", "version": "2.75.0"},
    breadcrumbs={"values": [{"timestamp": "2024-06-20T08:33:20Z", "category": "http", "message": "GET /x"}]},
    request={
        "url": "https://example.com/x",
        "method": "POST",
        "query_string": "a=1&b=two",
        "headers": {"User-Agent": "curl"},
        "cookies": "session=abc; theme=dark",
        "data": {"field": "value"},
    },
    logentry={"message": "failed %s", "formatted": "failed now", "params": ["now"]},
)


@pytest.fixture
def token(db, project):
    user = get_user_model().objects.create_user("alice")
    ProjectMembership.objects.create(project=project, user=user)
    return ApiToken.create_for(user, "read", scope=Scope.READ)[1]


@pytest.fixture
def get(client, token):
    def get(url, **params):
        return client.get(url, params, HTTP_AUTHORIZATION=f"Bearer {token}")

    return get


def test_full_event_shape(get, project, send_event):
    event_id = uuid.uuid4().hex
    assert send_event(project, {**PYTHON_EVENT, "event_id": event_id}).status_code == 200
    issue = Issue.objects.get()
    data = get(f"/api/0/projects/{ORG}/myapp/events/{event_id}/").json()
    assert data["id"] == data["eventID"] == event_id and data["groupID"] == str(issue.pk)
    assert data["projectID"] == str(project.pk)
    assert data["title"] == "ZeroDivisionError: division by zero" and data["message"] == "failed now"
    assert data["platform"] == "python" and data["type"] == "error"
    assert data["dateCreated"].endswith("Z") and data["dateReceived"].endswith("Z")
    assert {"key": "customer", "value": "acme"} in data["tags"]
    assert {"key": "environment", "value": "production"} in data["tags"]
    assert data["release"]["version"] == "2.1.0" and data["environment"] == "production"
    assert data["user"]["id"] == "42" and data["user"]["email"] == "u@example.com"
    assert data["user"]["data"] == {"segment": "paid"}
    assert data["contexts"]["os"]["name"] == "Linux" and data["context"] == {"attempt": 3}
    assert data["packages"] == {"django": "5.2"}
    assert data["sdk"] == {"name": "sentry.python", "version": "2.75.0"}
    assert data["metadata"]["type"] == "ZeroDivisionError" and data["culprit"]
    assert len(data["fingerprints"]) == 1 and data["errors"] == []
    assert data["previousEventID"] is None and data["nextEventID"] is None

    entries = {entry["type"]: entry["data"] for entry in data["entries"]}
    assert [entry["type"] for entry in data["entries"]] == ["exception", "message", "breadcrumbs", "request"]
    exc = entries["exception"]["values"][0]
    assert exc["type"] == "ZeroDivisionError" and exc["value"] == "division by zero"
    frame = exc["stacktrace"]["frames"][1]
    assert frame["filename"] == "app/views.py" and frame["absPath"] == "/srv/app/views.py"
    assert frame["lineNo"] == 10 and frame["colNo"] == 5 and frame["inApp"] is True
    assert frame["context"] == [[8, "def handle():"], [9, "    a = 1"], [10, "    return a / 0"], [11, ""]]
    assert frame["vars"] == {"a": "1"}
    assert exc["stacktrace"]["hasSystemFrames"] is True and exc["stacktrace"]["framesOmitted"] is None
    assert entries["message"]["formatted"] == "failed now"
    crumb = entries["breadcrumbs"]["values"][0]
    assert crumb["category"] == "http" and crumb["timestamp"] == "2024-06-20T08:33:20Z"
    request = entries["request"]
    assert request["method"] == "POST" and request["query"] == [["a", "1"], ["b", "two"]]
    assert request["headers"] == [["User-Agent", "curl"]]
    # stored scrubbed (events.scrub, on by default): every cookie's value goes, the names stay
    assert request["cookies"] == [["session", "[Filtered]"], ["theme", "[Filtered]"]]
    assert request["data"] == {"field": "value"}


def test_issue_events_latest_oldest_and_pages(get, project, send_event):
    ids = [uuid.uuid4().hex for _ in range(5)]
    for event_id in ids:
        send_event(project, {**exception_event(), "event_id": event_id})
    issue = Issue.objects.get()
    url = f"/api/0/issues/{issue.short_id}/events/"
    assert get(url + "latest/").json()["id"] == ids[-1]
    oldest = get(url + "oldest/").json()
    assert oldest["id"] == ids[0] and oldest["nextEventID"] == ids[1] and oldest["previousEventID"] is None
    assert get(url + f"{ids[2]}/").json()["previousEventID"] == ids[1]
    assert get(f"/api/0/organizations/{ORG}/issues/{issue.pk}/events/latest/").json()["id"] == ids[-1]
    for missing in (uuid.uuid4().hex, "nope", "1" * 36):
        response = get(url + f"{missing}/")
        assert response.status_code == 404 and response.json()["detail"]

    seen, page_url, params = [], url, {"per_page": 2}
    for _ in range(10):
        response = get(page_url, **params)
        page = response.json()
        assert all("entries" not in event for event in page)
        seen += [event["eventID"] for event in page]
        next_link = [part for part in response["Link"].split(", ") if 'rel="next"' in part][0]
        if 'results="true"' not in next_link:
            break
        page_url, params = next_link.split(">")[0].lstrip("<").replace("http://testserver", ""), {}
    assert seen == list(reversed(ids))
    full = get(url, full="true").json()
    assert len(full) == 5 and all(event["entries"][0]["type"] == "exception" for event in full)


def test_events_search_and_visibility(get, project, send_event):
    send_event(project, exception_event(tags={"customer": "acme"}))
    send_event(project, exception_event(tags={"customer": "other"}))
    issue = Issue.objects.get()
    found = get(f"/api/0/issues/{issue.pk}/events/", query="customer:acme").json()
    assert [tag["value"] for tag in found[0]["tags"] if tag["key"] == "customer"] == ["acme"] and len(found) == 1

    other = Project.objects.create(name="Other", slug="other")
    event_id = uuid.uuid4().hex
    send_event(other, {**exception_event(), "event_id": event_id})
    theirs = Issue.objects.get(project=other)
    assert get(f"/api/0/issues/{theirs.pk}/events/").status_code == 404
    assert get(f"/api/0/projects/{ORG}/other/events/{event_id}/").status_code == 404
    # the event id under a project the user sees, but another project's event: 404 too
    assert get(f"/api/0/projects/{ORG}/myapp/events/{event_id}/").status_code == 404


def hostile_texts() -> list[str]:
    """One stored event per class of trouble of events/tests/test_hostile_events.py."""
    lone = "a\ud800b\udfffc"
    texts = [frame_json(lineno=odd, colno=odd, pre_context=["a", 1], post_context=None) for odd in ("²", None, [1])]
    texts.append(frame_json(lineno=1).replace('"lineno": 1', f'"lineno": {HUGE_DIGITS}'))
    texts.append(
        event_json(extra={"n": "@N@"}, contexts={"d": {"m": "@N@"}}).replace('"@N@"', "NaN").replace("NaN", "1e999", 1)
    )
    texts.append(event_json(timestamp="@T@", breadcrumbs=[{"timestamp": "@T@"}]).replace('"@T@"', TALL_DIGITS))
    texts.append(
        event_json(
            extra={lone: lone},
            tags={lone: lone},
            user={"id": lone},
            message=lone,
            logentry={"message": lone, "params": [lone]},
            request={"headers": {lone: lone}, "query_string": lone, "cookies": lone},
            exception={"values": [{"type": lone, "value": lone, "stacktrace": {"frames": [{"function": lone}]}}]},
        )
    )
    texts.append(event_json(extra={"nul": "a\x00b"}))
    texts.append(
        event_json(
            exception={"values": [None, "x", {"type": ["a"], "value": {"b": 1}, "stacktrace": {"frames": {"x": 1}}}]},
            threads={"values": [{"id": {"x": 1}, "stacktrace": {"frames": [None, {"vars": [1, 2]}]}}]},
            breadcrumbs={"values": {"not": "a list"}},
            request=["GET", "/"],
            contexts=[1, 2],
            tags=[["k", "v"], "odd"],
            user="someone",
            sdk="x",
            modules=["a"],
            fingerprint={"x": 1},
            logentry={"message": {"m": 1}, "params": "p"},
            level=["error"],
            errors=[1, {"type": ["x"]}],
        )
    )
    texts.append(event_json(request={"headers": [["a"]], "cookies": {"c": 1}, "query_string": [["q", 1]]}))
    texts.append(event_json(extra={"deep": "@D@"}).replace('"@D@"', "[" * 150 + "]" * 150))
    texts.append(event_json(extra={"deep": "@D@"}).replace('"@D@"', "[" * 100_000 + "]" * 100_000))
    texts += ["", "null", "[1, 2]", '"text"', "not json", "{", "NaN"]
    return texts


def strict(text: str):
    def refuse(name):
        raise ValueError(name)

    return json.loads(text, parse_constant=refuse)


def test_hostile_stored_events_never_fail(get, project):
    for n, stored in enumerate(hostile_texts()):
        event = store(project, stored)
        issue = event.issue
        urls = [
            f"/api/0/issues/{issue.pk}/events/",
            f"/api/0/issues/{issue.pk}/events/?full=true",
            f"/api/0/issues/{issue.pk}/events/latest/",
            f"/api/0/projects/{ORG}/myapp/events/{event.event_id.hex}/",
            f"/api/0/issues/{issue.pk}/",
        ]
        for url in urls:
            response = get(url)
            assert response.status_code == 200, (n, url, response.status_code)
            strict(response.content.decode("utf-8"))
    assert Event.objects.count() == len(hostile_texts())


def test_event_list_queries_are_bounded(get, project, send_event, django_assert_max_num_queries):
    for _ in range(20):
        send_event(project, PYTHON_EVENT)
    issue = Issue.objects.get()
    with django_assert_max_num_queries(6):
        assert len(get(f"/api/0/issues/{issue.pk}/events/", full="true").json()) == 20


def test_frames_omitted_by_trimming_are_said(get, project):
    frames = [{"filename": f"f{i}.py", "function": "f", "in_app": True} for i in range(3)]
    for omitted, expected in (([5, 120], [5, 120]), (["x", 1], None), ([1], None), ("5-7", None)):
        stacktrace = {"frames": frames, "frames_omitted": omitted}
        event = store(project, event_json(exception={"values": [{"type": "E", "stacktrace": stacktrace}]}))
        data = get(f"/api/0/issues/{event.issue_id}/events/latest/").json()
        assert data["entries"][0]["data"]["values"][0]["stacktrace"]["framesOmitted"] == expected, omitted
