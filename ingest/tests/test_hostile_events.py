"""What a DSN holder can send is kept, bounded and renders: hostile event content through HTTP on the live server.

Each case is an event (as raw JSON text, so that it can hold what json.dumps would never write: lone surrogates,
numbers of thousands of digits, 1e999, NaN) sent to the live server's envelope endpoint. Every one must be answered
200, stored as an Event (not quarantined), bounded in size, and every page that shows it must render: the issue
page's tabs, the event's raw JSON and download, the issue list. All cases share one fingerprint with a harmless
first event, as an attacker who knows an issue's fingerprint would do to the issue's page.

The same test runs on SQLite, PostgreSQL and MariaDB (make test, test-postgres, test-mariadb).
"""

import json
import urllib.request
import uuid

import pytest
from django.contrib.auth import get_user_model

from events.models import Event
from issues.models import Issue
from projects.models import Project
from testing.utils import auth_header

pytestmark = [pytest.mark.live]

BIG = "9" * 4000
FRAME = '{"filename": "app.py", "function": "f", "in_app": true, %s}'
EXCEPTION = '"exception": {"values": [{"type": "E", "value": "v", "stacktrace": {"frames": [%s]}%s}]}'

# name: the event's JSON members (without the braces), added to a shared fingerprint
CASES = {
    "percent width": '"logentry": {"message": "pad %20000000s end", "params": ["x"]}',
    "star width": '"logentry": {"message": "pad %*d end", "params": [20000000, 1]}',
    "brace width": '"logentry": {"message": "pad {:>20000000} end", "params": ["x"]}',
    "precision": '"logentry": {"message": "pad %.20000000f end", "params": [1.5]}',
    "attribute": '"logentry": {"message": "{0.nope}", "params": ["x"]}',
    "item of a list": '"logentry": {"message": "{0[a]}", "params": [[1, 2]]}',
    "%c of a huge int": f'"logentry": {{"message": "%c", "params": [{BIG}]}}',
    "%d of 1e999": '"logentry": {"message": "%d", "params": [1e999]}',
    "lone surrogate in the message": '"message": "a \\ud800 b"',
    "lone surrogate in extra": '"extra": {"k\\udc00": "v\\ud800"}',
    "lone surrogate in a tag": '"tags": {"t": "\\udfff"}',
    "lone surrogate in the release": '"release": "1.0\\ud800"',
    "NUL everywhere": '"message": "a\\u0000b", "release": "r\\u0000", "tags": {"a\\u0000": "b\\u0000"}',
    "4000-digit timestamp": f'"timestamp": {BIG}, "message": "m"',
    "NaN timestamp": '"timestamp": NaN, "message": "m"',
    "superscript line number": EXCEPTION % (FRAME % '"lineno": "²", "colno": "³"', ""),
    "4000-digit line number": EXCEPTION % (FRAME % f'"lineno": {BIG}', ""),
    "5000-digit line number": EXCEPTION % (FRAME % f'"lineno": 1{"0" * 5000}', ""),
    "surrogate in a frame var": EXCEPTION % (FRAME % '"vars": {"x": "\\ud800", "\\udc00": [1e999]}', ""),
    "superscript exception_id": EXCEPTION % (FRAME % '"lineno": 1', ', "mechanism": {"exception_id": "³"}'),
    "400-digit breadcrumb timestamp": f'"breadcrumbs": [{{"timestamp": {"9" * 400}, "message": "b"}}], "message": "m"',
    "breadcrumb timestamp as a word": '"breadcrumbs": {"values": [{"timestamp": "²", "data": 7}]}, "message": "m"',
    "wrong types everywhere": (
        '"level": [1], "platform": {"a": 1}, "user": "ann", "request": [], "contexts": "x", '
        '"exception": {"values": "no"}, "breadcrumbs": 5, "threads": {"values": [7]}, "message": "m"'
    ),
    "deep nesting": '"extra": {"d": ' + '{"d": ' * 300 + "1" + "}" * 300 + '}, "message": "m"',
}


def send(base_url: str, project: Project, members: str) -> tuple[int, dict]:
    event_id = uuid.uuid4().hex
    body = f'{{"event_id": "{event_id}", "fingerprint": ["shared"], {members}}}'.encode()
    envelope = b"\n".join([json.dumps({"event_id": event_id}).encode(), b'{"type": "event"}', body]) + b"\n"
    request = urllib.request.Request(
        f"{base_url}/api/{project.pk}/envelope/",
        data=envelope,
        method="POST",
        headers={"X-Sentry-Auth": auth_header(project)["HTTP_X_SENTRY_AUTH"]},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def test_hostile_event_content_is_stored_bounded_and_renders(transactional_db, live_server_url, client):
    project = Project.objects.create(name="Hostile")
    status, _ = send(live_server_url, project, '"message": "the first, harmless event"')
    assert status == 200

    answers = {name: send(live_server_url, project, members) for name, members in CASES.items()}
    refused = {name: answer for name, answer in answers.items() if answer[0] != 200}
    assert not refused, f"answered other than 200: {refused}"

    ids = {name: uuid.UUID(answer[1]["id"]) for name, answer in answers.items()}
    stored = {e.event_id: e for e in Event.objects.filter(project=project)}
    missing = [name for name, event_id in ids.items() if event_id not in stored]
    assert not missing, f"answered 200 but not stored: {missing}"

    issue = Issue.objects.get(project=project)  # one fingerprint: one issue
    assert issue.event_count == len(CASES) + 1
    assert len(issue.calculated_value) <= 1024
    for event in stored.values():
        assert len(event.data_json) < 2_000_000
        assert len(event.calculated_value) <= 1024

    admin = get_user_model().objects.create_superuser("hostile-admin", "a@example.com", "pw")
    client.force_login(admin)
    issue_url = f"/issues/{issue.pk}"
    pages = [f"/projects/{project.pk}/issues/", "/issues/"]
    pages += [f"{issue_url}/{tab}" for tab in ("", "details/", "breadcrumbs/", "events/", "tags/", "history/")]
    for event_id in ids.values():
        event = stored[event_id]
        pages += [
            f"{issue_url}/events/{event.pk}/{tab}" for tab in ("", "details/", "breadcrumbs/", "json/", "download/")
        ]
    failures = []
    for page in pages:
        response = client.get(page)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        if response.status_code != 200:
            failures.append((page, response.status_code))
        body.decode("utf-8")  # what went out is valid UTF-8
    assert not failures, failures
    assert len(client.get(f"/projects/{project.pk}/issues/").content) < 500_000, "the list stays small"
