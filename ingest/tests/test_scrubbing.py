"""Scrubbing in digest (events.scrub): what is stored, what the event page says, what the quarantine keeps."""

import json
import time
import uuid

import pytest
from django.urls import reverse

from digest.batch import digest
from events.models import Event
from events.scrub import FILTERED, MARKER_KEY
from ingest import store
from ingest.raw import decode
from ingest.store import RawEvent, RawItem, store_raw_event
from projects.models import ProjectMembership
from testing.utils import exception_event

SECRET = "pw-" + uuid.uuid4().hex


def test_the_event_page_says_what_was_filtered(project, send_event, client, django_user_model):
    event = exception_event(
        value="login failed",
        extra={"db_password": SECRET, "environ": {"AWS_SECRET_ACCESS_KEY": SECRET, "HOME": "/root"}},
        request={"url": "https://shop.example/login", "headers": {"Authorization": f"Bearer {SECRET}"}},
    )
    response = send_event(project, event)
    stored = Event.objects.get(event_id=response.json()["id"])
    user = django_user_model.objects.create_user("member")
    ProjectMembership.objects.create(project=project, user=user)
    client.force_login(user)

    details = client.get(reverse("issue:event_details", args=[stored.issue_id, stored.pk])).content.decode()
    assert "3 values filtered by the server's data scrubber" in details
    for path in ("extra.db_password", "extra.environ.AWS_SECRET_ACCESS_KEY", "request.headers.Authorization"):
        assert f'<li dir="auto">{path}</li>' in details
    assert FILTERED in details and "/root" in details
    assert MARKER_KEY not in details, "the marker has its own place, not among 'Other data'"
    for name in ("issue:event", "issue:event_breadcrumbs"):
        assert "filtered by the server" in client.get(reverse(name, args=[stored.issue_id, stored.pk])).content.decode()
    for name in ("issue:event", "issue:event_details", "issue:event_json", "issue:event_download"):
        page = client.get(reverse(name, args=[stored.issue_id, stored.pk]))
        assert page.status_code == 200 and SECRET.encode() not in page.content


def test_an_event_without_secrets_has_no_notice(project, send_event, client, django_user_model):
    response = send_event(project, exception_event(extra={"order": "o-1"}))
    stored = Event.objects.get(event_id=response.json()["id"])
    assert MARKER_KEY not in json.loads(stored.data_json)
    user = django_user_model.objects.create_user("member")
    ProjectMembership.objects.create(project=project, user=user)
    client.force_login(user)
    page = client.get(reverse("issue:event_details", args=[stored.issue_id, stored.pk])).content.decode()
    assert "data scrubber" not in page


@pytest.fixture(params=["file", "database"])
def either_store(request, settings):
    settings.INGEST_STORE = request.param
    return request.param


def test_a_quarantined_event_is_kept_scrubbed(project, either_store, monkeypatch):
    """An event that digest cannot store goes to the quarantine as it would have been stored: scrubbed, its
    attachments kept beside it; in either ingest store."""
    import digest.batch as digest_module

    monkeypatch.setattr(digest_module, "RETRY_PAUSE_SECONDS", 0.01)

    def cannot_store(project, issue, grouping, p):
        raise ValueError("cannot store this one")

    monkeypatch.setattr(digest_module, "_event", cannot_store)
    attachment = RawItem({"type": "attachment", "filename": "log.txt"}, b"attached\x00bytes")
    key = store_raw_event(
        RawEvent(
            project_id=project.pk,
            event_id=uuid.uuid4().hex,
            received_at=time.time(),
            remote_addr="192.0.2.44",
            payload=json.dumps(exception_event(extra={"db_password": SECRET})).encode(),
            items=[attachment],
        )
    )
    assert SECRET.encode() in store.load_raw_event(key).payload
    assert digest(key) == 0
    assert store.in_quarantine(key)
    with store.open_quarantined(key) as quarantined:
        content = quarantined.read()
    assert SECRET.encode() not in content and b"192.0.2.44" not in content
    kept = decode(key, content)
    assert json.loads(kept.payload)["extra"] == {"db_password": FILTERED}
    assert kept.event_id == key.rpartition("-")[2]
    assert [(item.headers, item.payload) for item in kept.items] == [(attachment.headers, attachment.payload)]

    # retried by an admin once the bug is fixed, it is stored as it was kept
    monkeypatch.undo()
    store.release_from_quarantine(key)
    assert digest(key) == 1
    assert json.loads(Event.objects.get().data_json)["extra"] == {"db_password": FILTERED}
