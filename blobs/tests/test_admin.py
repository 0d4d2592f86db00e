"""The stored contents in the admin: listed and shown (the chunks by their length, never their bytes), never added,
changed or deleted there (they go with the rows that name them)."""

import pytest
from django.urls import reverse

from blobs.models import Blob, BlobChunk
from events.models import ATTACHMENT_CONTENTS, attachment_name


@pytest.fixture
def stored(db, settings, project):
    settings.FILE_STORE = "database"
    name = attachment_name(project.pk, "a" * 40)
    ATTACHMENT_CONTENTS.put(name, b"secret bytes \x00\xff")
    return Blob.objects.get()


def test_contents_are_shown_not_edited(admin_client, stored):
    listing = admin_client.get(reverse("admin:blobs_blob_changelist"), {"q": "attachment"})
    assert listing.status_code == 200 and stored.key in listing.content.decode()
    page = admin_client.get(reverse("admin:blobs_blob_change", args=[stored.pk]))
    assert page.status_code == 200 and "15" in page.content.decode()
    chunk = BlobChunk.objects.get()
    chunks = admin_client.get(reverse("admin:blobs_blobchunk_changelist"))
    assert chunks.status_code == 200 and "secret bytes" not in chunks.content.decode()
    chunk_page = admin_client.get(reverse("admin:blobs_blobchunk_change", args=[chunk.pk]))
    assert chunk_page.status_code == 200 and "secret bytes" not in chunk_page.content.decode()
    assert admin_client.get(reverse("admin:blobs_blob_add")).status_code == 403
    delete = reverse("admin:blobs_blob_delete", args=[stored.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert admin_client.post(reverse("admin:blobs_blob_change", args=[stored.pk]), {"key": "x"}).status_code == 403
    assert Blob.objects.get().key == stored.key and BlobChunk.objects.count() == 1
