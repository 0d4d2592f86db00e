"""Source-map uploads with FILE_STORE=database: sentry-cli's chunk upload and assemble, the legacy release-file
upload, what symbolication reads (artifacts.lookup) and retention, all through the same code as with files, the
contents in rows of the main database (blobs.store) and nothing under ARTIFACTS_DIR."""

import hashlib
import io
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from api.tests.test_release_files import FILES
from api.tests.test_release_files import upload as upload_release_file
from api.tests.test_uploads import assemble, auth, split, upload_chunks, user  # noqa: F401 (fixtures)
from artifacts.assemble import assemble_bundle, read_bundle_member
from artifacts.lookup import FileRef, Unreadable, read_file
from artifacts.models import ArtifactBundle, FileBlob, ReleaseFile
from artifacts.retention import expire_artifacts
from artifacts.storage import blob_on_disk, read_blob, store_blob
from artifacts.tests.bundles import MINIFIED, SOURCE_MAP, bundle_zip
from artifacts.tests.uploads import upload_blob, uploader
from blobs.models import Blob, BlobChunk
from blobs.store import CHUNK_SIZE, DatabaseBlobFile
from releases.models import Release

DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def database_store(settings, tmp_path):
    settings.FILE_STORE = "database"
    settings.ARTIFACTS_DIR = tmp_path / "artifacts"


def no_files(folder: Path) -> bool:
    return not folder.exists() or not any(p.is_file() for p in folder.rglob("*"))


def noise(size: int) -> bytes:
    out, counter = bytearray(), 0
    while len(out) < size:
        out += hashlib.sha256(counter.to_bytes(8, "big")).digest()
        counter += 1
    return bytes(out[:size])


def test_chunk_upload_and_assemble_keep_the_bundle_in_the_database(client, auth, project, settings):  # noqa: F811
    """A bundle over several chunk rows (the map holds 4 MiB of hex digits, about 2.4 MiB zipped), sent as
    sentry-cli sends it: several upload chunks, some gzip'd, then assemble."""
    big_map = SOURCE_MAP[:-1] + b',"x_padding":"' + noise(2 * CHUNK_SIZE).hex().encode() + b'"}'
    data = bundle_zip(files={"files/_/_/app.min.js": MINIFIED, "files/_/_/app.min.js.map": big_map})
    assert len(data) > 2 * CHUNK_SIZE
    settings.CHUNK_UPLOAD_CHUNK_SIZE = CHUNK_SIZE
    chunks = split(data, CHUNK_SIZE)
    assert assemble(client, auth, data, chunks, version="2.0").json()["state"] == "not_found"
    assert upload_chunks(client, auth, chunks[:1]).status_code == 200
    assert upload_chunks(client, auth, chunks[1:], gzipped=True).status_code == 200
    assert assemble(client, auth, data, chunks, version="2.0").json() == {
        "state": "ok",
        "missingChunks": [],
        "detail": None,
    }
    bundle = ArtifactBundle.objects.get()
    assert bundle.blob.size == len(data) and read_blob(bundle.blob) == data
    stored = Blob.objects.get(key=f"artifact/{bundle.blob.checksum}")
    assert stored.size == len(data) and stored.chunks.count() == 3
    assert read_bundle_member(bundle, "files/_/_/app.min.js.map", 10 * CHUNK_SIZE) == big_map
    assert read_file(FileRef(bundle.blob.checksum, "files/_/_/app.min.js", "~/app.min.js"), 10_000) == MINIFIED
    with pytest.raises(Unreadable, match="larger than"):
        read_file(FileRef(bundle.blob.checksum, "files/_/_/app.min.js.map", "~/app.min.js.map"), 1000)
    assert ReleaseFile.objects.filter(release="2.0").count() == 2
    assert assemble(client, auth, data, chunks, version="2.0").json()["state"] == "ok"  # polled again
    assert Blob.objects.filter(key=f"artifact/{bundle.blob.checksum}").count() == 1
    assert no_files(Path(settings.ARTIFACTS_DIR))


def test_chunks_that_do_not_make_the_checksum_store_nothing(client, auth):  # noqa: F811
    data = bundle_zip()
    chunks = split(data, 256)
    upload_chunks(client, auth, chunks)
    wrong = bundle_zip(debug_id="a0000000-0000-4000-8000-000000000001")
    response = assemble(client, auth, wrong, chunks).json()
    assert response["state"] == "error" and "do not have the checksum" in response["detail"]
    assert not blob_on_disk(hashlib.sha1(wrong).hexdigest()) and not ArtifactBundle.objects.exists()
    assert Blob.objects.count() == len(chunks)  # the chunks only


def test_a_corrupt_bundle_is_an_error_not_a_500(client, auth):  # noqa: F811
    data = b"PK\x03\x04 not really a zip" * 10
    upload_chunks(client, auth, [data])
    response = assemble(client, auth, data, [data]).json()
    assert response["state"] == "error" and "not a readable zip" in response["detail"]


def test_a_release_file_upload_is_read_by_symbolication(client, auth, project, settings):  # noqa: F811
    Release.objects.create(project=project, version="1.0", date_released="2026-01-01T00:00Z")
    content = b"//" + noise(CHUNK_SIZE).hex().encode()
    response = upload_release_file(client, auth, url=FILES, content=content, name="~/static/app.min.js")
    assert response.status_code == 201, response.content
    row = ReleaseFile.objects.get()
    assert read_file(FileRef(row.blob.checksum, "", row.name), 4 * CHUNK_SIZE) == content
    with pytest.raises(Unreadable, match="larger than"):
        read_file(FileRef(row.blob.checksum, "", row.name), CHUNK_SIZE)
    assert no_files(Path(settings.ARTIFACTS_DIR))


def test_a_blob_whose_rows_are_gone_is_unreadable_not_a_crash(project):
    blob = store_blob(b"//# sourceMappingURL=app.min.js.map\n")
    Blob.objects.all().delete()
    with pytest.raises(Unreadable) as caught:
        read_file(FileRef(blob.checksum, "", "~/app.min.js"), 1000)
    assert caught.value.kind == "js_invalid_source"


def test_retention_deletes_the_rows_of_unused_blobs(project, settings):
    settings.ARTIFACT_BLOB_GRACE_SECONDS = 3600
    data = bundle_zip()
    uploading = uploader()
    upload_blob(data, uploading)
    chunk = store_blob(b"a chunk nobody assembled")
    checksum = hashlib.sha1(data).hexdigest()
    assert assemble_bundle(checksum, [checksum], [project], user_id=uploading.pk).state == "ok"
    now = timezone.now()
    ArtifactBundle.objects.update(date_last_used=now - 91 * DAY)
    FileBlob.objects.update(created_at=now - 2 * DAY)
    report = expire_artifacts(now)
    assert (report.bundles, report.blobs) == (1, 2)
    assert not FileBlob.objects.exists() and not Blob.objects.exists() and not BlobChunk.objects.exists()
    assert not blob_on_disk(chunk.checksum)


def test_the_zip_is_read_lazily(project, monkeypatch):
    """A bundle is read from its rows a chunk at a time: a member near the start needs the first and last rows
    (local header, central directory), not all of them."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("first.js", b"first")
        zf.writestr("padding.bin", noise(3 * CHUNK_SIZE))
    blob = store_blob(buffer.getvalue())
    fetched = []
    real = DatabaseBlobFile._chunk

    def counting(self, index):
        fetched.append(index)
        return real(self, index)

    monkeypatch.setattr(DatabaseBlobFile, "_chunk", counting)
    assert read_file(FileRef(blob.checksum, "first.js", "~/first.js"), 100) == b"first"
    assert set(fetched) == {0, 3}
