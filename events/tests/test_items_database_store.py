"""Attachments with FILE_STORE=database: kept as rows of the main database (blobs.store), downloaded from the event
page, shared by content within a project and removed with their last row; no file under ATTACHMENTS_DIR."""

import hashlib
from pathlib import Path

import pytest

from blobs.models import Blob, BlobChunk
from blobs.store import CHUNK_SIZE
from events.models import ATTACHMENT_CONTENTS, Attachment, Event, attachment_name
from events.tests.test_items import attachment, browser, envelope, member, new_event, post  # noqa: F401 (fixtures)
from issues.models import Issue


@pytest.fixture(autouse=True)
def database_store(settings, tmp_path):
    settings.FILE_STORE = "database"
    settings.ATTACHMENTS_DIR = tmp_path / "attachments"


def no_files(folder: Path) -> bool:
    return not folder.exists() or not any(p.is_file() for p in folder.rglob("*"))


def test_attachments_are_rows_and_download_from_the_event_page(client, browser, project, settings):  # noqa: F811
    settings.MAX_ATTACHMENT_SIZE = 3 * CHUNK_SIZE
    big = bytes(range(256)) * (CHUNK_SIZE // 256) + b"tail" * 1000  # over one chunk row
    event = new_event()
    post(
        client,
        project,
        envelope(event, [attachment("app.log", b"line 1\nline 2\n"), attachment("core.dmp", big)]),
    )
    stored = Event.objects.get(event_id=event["event_id"])
    rows = {a.name: a for a in Attachment.objects.filter(event=stored)}
    assert rows["core.dmp"].size == len(big) and rows["core.dmp"].is_stored
    assert ATTACHMENT_CONTENTS.read(attachment_name(project.pk, rows["core.dmp"].sha1)) == big
    assert Blob.objects.get(key=f"attachment/{project.pk}/{rows['core.dmp'].sha1}").size == len(big)
    assert BlobChunk.objects.filter(blob__key__endswith=rows["core.dmp"].sha1).count() == 2

    for name, content in (("app.log", b"line 1\nline 2\n"), ("core.dmp", big)):
        response = browser.get(f"/issues/{stored.issue_id}/events/{stored.pk}/attachments/{rows[name].pk}/")
        assert response.status_code == 200 and response["Content-Type"] == "application/octet-stream"
        assert response["Content-Length"] == str(len(content))
        assert b"".join(response.streaming_content) == content
    assert no_files(Path(settings.ATTACHMENTS_DIR))

    Blob.objects.filter(key__endswith=rows["app.log"].sha1).delete()  # lost (a restore without it): 404, no 500
    gone = browser.get(f"/issues/{stored.issue_id}/events/{stored.pk}/attachments/{rows['app.log'].pk}/")
    assert gone.status_code == 404


def test_attachment_rows_go_with_their_last_event(client, project, django_capture_on_commit_callbacks):
    first, second = new_event(), new_event()
    post(client, project, envelope(first, [attachment("shared.txt", b"same bytes")]))
    post(client, project, envelope(second, [attachment("shared.txt", b"same bytes")]))
    name = attachment_name(project.pk, Attachment.objects.first().sha1)
    assert Blob.objects.count() == 1 and ATTACHMENT_CONTENTS.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        Event.objects.get(event_id=first["event_id"]).delete()
    assert ATTACHMENT_CONTENTS.exists(name)  # the other event's attachment has the same content
    with django_capture_on_commit_callbacks(execute=True):
        Issue.objects.all().delete()
    assert not ATTACHMENT_CONTENTS.exists(name) and not Blob.objects.exists() and not BlobChunk.objects.exists()


def test_attachments_sent_before_their_event_wait_in_the_database(client, browser, project):  # noqa: F811
    early = new_event()
    post(client, project, envelope(None, [attachment("early.txt", b"early")], event_id=early["event_id"]))
    post(client, project, envelope(early))
    row = Attachment.objects.get(name="early.txt")
    stored = Event.objects.get(event_id=early["event_id"])
    assert row.event == stored
    response = browser.get(f"/issues/{stored.issue_id}/events/{stored.pk}/attachments/{row.pk}/")
    assert b"".join(response.streaming_content) == b"early"


@pytest.mark.parametrize("mode", ["database", "file"])
def test_content_over_the_project_quota_is_not_left_behind(
    client, project, settings, mode, django_capture_on_commit_callbacks
):
    """Digest stores an attachment's content before it knows that the project's quota is full; the content of one
    it then does not keep goes once the rows commit (a DSN holder cannot fill the store past the quota), unless a
    kept row has the same content."""
    settings.FILE_STORE = mode
    settings.MAX_PROJECT_ATTACHMENTS_SIZE = 10
    items = [attachment("a.txt", b"12345678"), attachment("b.txt", b"over quota"), attachment("c.txt", b"12345678")]
    with django_capture_on_commit_callbacks(execute=True):
        post(client, project, envelope(new_event(), items))
    rows = {a.name: a for a in Attachment.objects.all()}
    assert rows["a.txt"].is_stored and not rows["b.txt"].is_stored and not rows["c.txt"].is_stored
    over_quota = hashlib.sha1(b"over quota").hexdigest()
    assert not ATTACHMENT_CONTENTS.exists(attachment_name(project.pk, over_quota))
    assert ATTACHMENT_CONTENTS.read(attachment_name(project.pk, rows["a.txt"].sha1)) == b"12345678"
    if mode == "database":
        assert Blob.objects.count() == 1
    else:
        assert len([p for p in Path(settings.ATTACHMENTS_DIR).rglob("*") if p.is_file()]) == 1
