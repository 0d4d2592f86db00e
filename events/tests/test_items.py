"""Attachments and user feedback: sent in envelopes through the real ingest endpoint, kept, linked to their event and
issue, shown, downloadable by members only, evicted with their event."""

import json
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from events.models import Attachment, Event, UserFeedback, attachment_file
from issues.models import Issue
from projects.models import Project, ProjectMembership
from testing.utils import auth_header, exception_event


def envelope(event: dict | None, items=(), event_id: str | None = None) -> bytes:
    """An envelope with an optional event and items given as (item headers, payload bytes)."""
    event_id = event_id or (event or {}).get("event_id") or uuid.uuid4().hex
    parts = [json.dumps({"event_id": event_id}).encode()]
    if event is not None:
        payload = json.dumps(event).encode()
        parts += [json.dumps({"type": "event", "length": len(payload)}).encode(), payload]
    for headers, payload in items:
        parts += [json.dumps({**headers, "length": len(payload)}).encode(), payload]
    return b"\n".join(parts) + b"\n"


def attachment(name: str, content: bytes, **headers) -> tuple[dict, bytes]:
    return {"type": "attachment", "filename": name, **headers}, content


def post(client, project, body: bytes):
    response = client.post(
        f"/api/{project.pk}/envelope/", data=body, content_type="application/x-sentry-envelope", **auth_header(project)
    )
    assert response.status_code == 200, response.content
    return response


@pytest.fixture
def member(db, project, django_user_model):
    user = django_user_model.objects.create_user("member")
    ProjectMembership.objects.create(project=project, user=user)
    return user


@pytest.fixture
def browser(member):
    client = Client()
    client.force_login(member)
    return client


def new_event(**extra) -> dict:
    return {**exception_event(**extra), "event_id": uuid.uuid4().hex}


def test_attachments_are_kept_listed_and_downloadable(client, browser, project, settings):
    settings.MAX_ATTACHMENT_SIZE = 1000
    event = new_event()
    post(
        client,
        project,
        envelope(
            event,
            [
                attachment("app.log", b"line 1\nline 2\n", content_type="text/plain"),
                attachment("page.html", b"<script>alert(1)</script>", content_type="text/html"),
                attachment("core.dmp", b"MDMP" + b"\0" * 40, attachment_type="event.minidump"),
                attachment("huge.bin", b"x" * 1001),
            ],
        ),
    )
    stored = Event.objects.get(event_id=event["event_id"])
    rows = {a.name: a for a in Attachment.objects.filter(event=stored)}
    assert sorted(rows) == ["app.log", "core.dmp", "huge.bin", "page.html"]
    assert rows["app.log"].size == 14 and rows["app.log"].content_type == "text/plain"
    assert attachment_file(project.pk, rows["app.log"].sha1).read_bytes() == b"line 1\nline 2\n"
    assert not rows["huge.bin"].is_stored and "1000-byte limit" in rows["huge.bin"].note
    assert rows["huge.bin"].size == 1001

    page = browser.get(f"/issues/{stored.issue_id}/events/{stored.pk}/details/").content.decode()
    assert "Attachments" in page and "app.log" in page and "huge.bin" in page and "1000-byte limit" in page
    assert "does not symbolicate native crashes yet" in page

    html = browser.get(f"/issues/{stored.issue_id}/events/{stored.pk}/attachments/{rows['page.html'].pk}/")
    assert html.status_code == 200
    assert html["Content-Type"] == "application/octet-stream"
    assert html["Content-Disposition"].startswith("attachment;") and "page.html" in html["Content-Disposition"]
    assert html["X-Content-Type-Options"] == "nosniff"
    assert b"".join(html.streaming_content) == b"<script>alert(1)</script>"
    missing = browser.get(f"/issues/{stored.issue_id}/events/{stored.pk}/attachments/{rows['huge.bin'].pk}/")
    assert missing.status_code == 404


def test_attachments_are_for_project_members_only(client, project, django_user_model):
    event = new_event()
    post(client, project, envelope(event, [attachment("secret.txt", b"s3cret")]))
    stored = Event.objects.get(event_id=event["event_id"])
    row = Attachment.objects.get()
    url = f"/issues/{stored.issue_id}/events/{stored.pk}/attachments/{row.pk}/"
    assert Client().get(url).status_code == 302  # to the login page
    outsider = django_user_model.objects.create_user("outsider")
    ProjectMembership.objects.create(project=Project.objects.create(name="Other"), user=outsider)
    other = Client()
    other.force_login(outsider)
    assert other.get(url).status_code == 404


def test_attachments_sent_after_their_event_are_linked(client, project):
    event = new_event()
    post(client, project, envelope(event))
    post(client, project, envelope(None, [attachment("late.txt", b"late")], event_id=event["event_id"]))
    assert Attachment.objects.get(name="late.txt").event == Event.objects.get(event_id=event["event_id"])
    # and before it: they wait, and the event takes them when it is digested
    early = new_event()
    post(client, project, envelope(None, [attachment("early.txt", b"early")], event_id=early["event_id"]))
    assert Attachment.objects.get(name="early.txt").event is None
    post(client, project, envelope(early))
    assert Attachment.objects.get(name="early.txt").event == Event.objects.get(event_id=early["event_id"])


def test_a_project_keeps_at_most_its_attachment_quota(client, project, settings):
    settings.MAX_PROJECT_ATTACHMENTS_SIZE = 10
    post(client, project, envelope(new_event(), [attachment("a.txt", b"12345678"), attachment("b.txt", b"1234")]))
    a, b = Attachment.objects.order_by("name")
    assert a.is_stored and not b.is_stored and "maximum of 10 bytes" in b.note


def test_attachment_files_go_with_their_event(client, project, django_capture_on_commit_callbacks):
    first, second = new_event(), new_event()
    post(client, project, envelope(first, [attachment("shared.txt", b"same bytes")]))
    post(client, project, envelope(second, [attachment("shared.txt", b"same bytes")]))
    path = attachment_file(project.pk, Attachment.objects.first().sha1)
    assert path.exists()
    with django_capture_on_commit_callbacks(execute=True):
        Event.objects.get(event_id=first["event_id"]).delete()
    assert path.exists()  # the other event's attachment has the same content
    with django_capture_on_commit_callbacks(execute=True):
        Issue.objects.all().delete()
    assert not path.exists() and Attachment.objects.count() == 0


def user_report(event_id: str, comments: str = "It broke when I clicked Pay") -> tuple[dict, bytes]:
    body = {"event_id": event_id, "name": "Ada", "email": "ada@example.com", "comments": comments}
    return {"type": "user_report"}, json.dumps(body).encode()


def feedback_item(associated: str | None, message: str = "The page froze") -> tuple[dict, bytes]:
    context = {"message": message, "contact_email": "grace@example.com", "name": "Grace", "url": "https://shop/x"}
    if associated:
        context["associated_event_id"] = associated
    body = {"event_id": uuid.uuid4().hex, "type": "feedback", "contexts": {"feedback": context}}
    return {"type": "feedback"}, json.dumps(body).encode()


def test_user_report_before_its_event_is_linked_and_shown(client, browser, project):
    event = new_event()
    post(client, project, envelope(None, [user_report(event["event_id"])]))
    waiting = UserFeedback.objects.get()
    assert waiting.issue is None and waiting.comments == "It broke when I clicked Pay"
    post(client, project, envelope(event))
    linked = UserFeedback.objects.get()
    stored = Event.objects.get(event_id=event["event_id"])
    assert linked.event == stored and linked.issue_id == stored.issue_id
    assert (linked.name, linked.email, linked.source) == ("Ada", "ada@example.com", "user_report")

    page = browser.get(f"/issues/{stored.issue_id}/feedback/").content.decode()
    assert "It broke when I clicked Pay" in page and "Ada" in page and "ada@example.com" in page
    assert '<span class="count">1</span>' in page
    listed = browser.get(f"/projects/{project.pk}/issues/", {"q": "has:feedback"}).content.decode()
    assert stored.issue.short_id in listed


def test_feedback_item_links_to_an_existing_event(client, project):
    event = new_event()
    post(client, project, envelope(event))
    post(client, project, envelope(None, [feedback_item(event["event_id"])]))
    row = UserFeedback.objects.get()
    assert row.event.event_id.hex == event["event_id"] and row.issue is not None
    assert (row.name, row.email, row.url, row.source) == ("Grace", "grace@example.com", "https://shop/x", "feedback")


def test_feedback_without_an_event_is_kept_unlinked(client, project):
    post(client, project, envelope(None, [feedback_item(None, "General remark")]))
    row = UserFeedback.objects.get()
    assert row.comments == "General remark" and row.issue is None and row.event_uuid is None


@pytest.mark.parametrize(
    "payload",
    [b"not json", b"[]", b'{"contexts": {"feedback": "x"}}', b'{"contexts": {"feedback": {"message": ""}}}'],
)
def test_unreadable_feedback_does_not_cost_the_event(client, project, payload):
    event = new_event()
    post(client, project, envelope(event, [({"type": "feedback"}, payload)]))
    assert Event.objects.filter(event_id=event["event_id"]).exists()
    assert UserFeedback.objects.count() == 0


def test_hostile_attachment_headers_are_stored_safely(client, browser, project):
    event = new_event()
    headers = {"filename": "../../etc/passwd\x00\ud800" + "x" * 500, "content_type": 42, "attachment_type": None}
    post(client, project, envelope(event, [({"type": "attachment", **headers}, b"data")]))
    row = Attachment.objects.get()
    assert len(row.name) <= 255 and "\x00" not in row.name
    assert row.content_type == "" and row.attachment_type == "event.attachment"
    assert attachment_file(project.pk, row.sha1).parent == Path(settings.ATTACHMENTS_DIR) / str(project.pk)
    stored = Event.objects.get()
    assert browser.get(f"/issues/{stored.issue_id}/events/{stored.pk}/details/").status_code == 200
    download = browser.get(f"/issues/{stored.issue_id}/events/{stored.pk}/attachments/{row.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"data"


def test_feedback_over_its_limit_is_refused_with_detail(client, project):
    event = new_event()
    body = envelope(event, [feedback_item(event["event_id"], "x" * 70_000)])
    response = client.post(
        f"/api/{project.pk}/envelope/", data=body, content_type="application/x-sentry-envelope", **auth_header(project)
    )
    assert response.status_code == 413 and "feedback" in response.json()["detail"]


def test_attachment_without_length_over_its_limit_is_noted_not_kept(client, project, settings):
    settings.MAX_ATTACHMENT_SIZE = 100
    event = new_event()
    payload = json.dumps(event).encode()
    body = b"\n".join(
        [
            json.dumps({"event_id": event["event_id"]}).encode(),
            json.dumps({"type": "event", "length": len(payload)}).encode(),
            payload,
            b'{"type": "attachment", "filename": "big.txt"}',
            b"y" * 500,
            b'{"type": "attachment", "filename": "small.txt"}',
            b"small",
        ]
    )
    post(client, project, body)
    big, small = Attachment.objects.order_by("name")
    assert not big.is_stored and big.size == 500 and "100-byte limit" in big.note
    assert small.is_stored and attachment_file(project.pk, small.sha1).read_bytes() == b"small"
