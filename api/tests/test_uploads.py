"""Chunked uploads and artifact bundle assembly through the Django client: the options, chunks (plain and gzip'd,
checked against their names, bounded), assembly states, what is recorded, and every kind of hostile input."""

import gzip
import hashlib
import io
import json
import zipfile

import pytest
from django.contrib.auth import get_user_model

from api.models import ApiToken, Scope
from artifacts.assemble import read_bundle_member
from artifacts.models import ArtifactBundle, DebugIdArtifact, FileBlob, ReleaseFile
from artifacts.storage import blob_path
from artifacts.tests.bundles import DEBUG_ID, MINIFIED, SOURCE_MAP, bundle_zip
from projects.models import Project, ProjectMembership, Role
from releases.models import Release

CHUNKS = "/api/0/organizations/main/chunk-upload/"
ASSEMBLE = "/api/0/organizations/main/artifactbundle/assemble/"


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


@pytest.fixture
def user(db, project):
    user = get_user_model().objects.create_user("dev", "dev@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user, role=Role.ADMIN)
    return user


def token_for(user, scope=Scope.WRITE) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.create_for(user, scope, scope=scope)[1]}"}


@pytest.fixture
def auth(user):
    return token_for(user)


def upload_chunks(client, auth, chunks: list[bytes], gzipped: bool = False, names=None):
    field = "file_gzip" if gzipped else "file"
    files = []
    for i, chunk in enumerate(chunks):
        body = gzip.compress(chunk) if gzipped else chunk
        upload = io.BytesIO(body)
        upload.name = names[i] if names else sha1(chunk)
        files.append(upload)
    return client.post(CHUNKS, {field: files}, **auth)


def assemble(client, auth, data: bytes, chunks: list[bytes], **extra):
    body = {"checksum": sha1(data), "chunks": [sha1(c) for c in chunks], "projects": ["myapp"], **extra}
    return client.post(ASSEMBLE, body, content_type="application/json", **auth)


def split(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def test_options(client, auth, settings):
    options = client.get(CHUNKS, **auth).json()
    assert options["url"] == "http://testserver" + CHUNKS
    assert options["chunkSize"] == settings.CHUNK_UPLOAD_CHUNK_SIZE and options["hashAlgorithm"] == "sha1"
    assert {"artifact_bundles", "release_files"} <= set(options["accept"]) and options["compression"] == ["gzip"]
    for key in ("chunksPerRequest", "maxRequestSize", "maxFileSize", "concurrency"):
        assert options[key] > 0


def test_upload_assemble_and_what_is_recorded(client, auth, project, settings):
    settings.CHUNK_UPLOAD_CHUNK_SIZE = 256
    data = bundle_zip()
    chunks = split(data, 256)
    assert len(chunks) > 2
    first = assemble(client, auth, data, chunks, version="2.0", dist="web").json()
    assert first["state"] == "not_found" and first["missingChunks"] == [sha1(c) for c in chunks]
    assert upload_chunks(client, auth, chunks[:1]).status_code == 200
    assert upload_chunks(client, auth, chunks[1:], gzipped=True).status_code == 200
    assert upload_chunks(client, auth, chunks[:1]).status_code == 200  # again: stored once
    assert FileBlob.objects.filter(checksum=sha1(chunks[0])).count() == 1
    done = assemble(client, auth, data, chunks, version="2.0", dist="web").json()
    assert done == {"state": "ok", "missingChunks": [], "detail": None}

    bundle = ArtifactBundle.objects.get()
    assert str(bundle.bundle_id) == "d200aca5-db79-5d49-aedb-f201065a9459"
    assert blob_path(bundle.blob.checksum).read_bytes() == data
    assert (bundle.release, bundle.dist, bundle.artifact_count) == ("2.0", "web", 2)
    assert list(bundle.projects.all()) == [project]
    ids = {(str(d.debug_id), d.file_type, d.path, d.url) for d in DebugIdArtifact.objects.all()}
    assert ids == {
        (DEBUG_ID, "minified_source", "files/_/_/app.min.js", "~/app.min.js"),
        (DEBUG_ID, "source_map", "files/_/_/app.min.js.map", "~/app.min.js.map"),
    }
    minified = ReleaseFile.objects.get(name="~/app.min.js")
    assert (minified.release, minified.dist, minified.bundle, minified.bundle_path) == (
        "2.0",
        "web",
        bundle,
        "files/_/_/app.min.js",
    )
    assert minified.headers["Sourcemap"] == "app.min.js.map" and minified.size == len(MINIFIED)
    assert read_bundle_member(bundle, minified.bundle_path, 10_000) == MINIFIED
    assert read_bundle_member(bundle, "files/_/_/app.min.js.map", 10_000) == SOURCE_MAP
    assert Release.objects.filter(project=project, version="2.0").exists()

    # polling again, or uploading the same bundle again, changes nothing
    assert assemble(client, auth, data, chunks, version="2.0", dist="web").json()["state"] == "ok"
    assert ArtifactBundle.objects.count() == 1 and ReleaseFile.objects.count() == 2


def test_bundle_without_release_has_no_release_files(client, auth):
    data = bundle_zip()
    upload_chunks(client, auth, [data])
    assert assemble(client, auth, data, [data]).json()["state"] == "ok"
    assert DebugIdArtifact.objects.count() == 2 and not ReleaseFile.objects.exists()
    assert not Release.objects.exists()


@pytest.mark.parametrize(
    "name, body, gzipped, status, detail",
    [
        ("0" * 40, b"hello", False, 400, "does not match"),
        ("not-a-sha", b"hello", False, 400, "SHA-1"),
        (None, b"x" * 2000, False, 413, "at most"),
        (None, b"\0" * 5_000_000, True, 413, "decompressed"),
        (None, b"hello", "broken", 400, "not valid gzip"),
    ],
)
def test_bad_chunks(client, auth, settings, name, body, gzipped, status, detail):
    settings.CHUNK_UPLOAD_CHUNK_SIZE = 1024
    if gzipped == "broken":
        upload = io.BytesIO(b"this is not gzip")
        upload.name = sha1(body)
        response = client.post(CHUNKS, {"file_gzip": [upload]}, **auth)
    else:
        response = upload_chunks(client, auth, [body], gzipped=gzipped, names=[name or sha1(body)])
    assert response.status_code == status
    assert detail in response.json()["detail"]
    assert not FileBlob.objects.exists()


def test_chunk_request_limits(client, auth, settings):
    settings.CHUNK_UPLOAD_MAX_REQUEST_SIZE = 1000
    response = upload_chunks(client, auth, [b"y" * 2000])
    assert response.status_code == 413 and response.json()["detail"]
    settings.CHUNK_UPLOAD_MAX_REQUEST_SIZE = 10**6
    settings.CHUNK_UPLOAD_CHUNKS_PER_REQUEST = 2
    response = upload_chunks(client, auth, [b"a", b"b", b"c"])
    assert response.status_code == 400 and "At most 2" in response.json()["detail"]
    assert client.post(CHUNKS, {}, **auth).status_code == 400


def zip_of(members: dict[str, bytes], manifest=None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
        if manifest is not None:
            zf.writestr("manifest.json", json.dumps(manifest))
    return out.getvalue()


@pytest.mark.parametrize(
    "make, detail",
    [
        (lambda: b"not a zip at all", "not a readable zip"),
        (lambda: zip_of({"big.js": b"\0" * 3_000_000}, {"files": {}}), "unzips to"),
        (lambda: zip_of({f"f{i}.js": b"x" for i in range(30)}, {"files": {}}), "has 31 files"),
        (lambda: zip_of({"../evil.js": b"x"}, {"files": {}}), "unsafe name"),
        (lambda: zip_of({"/etc/passwd": b"x"}, {"files": {}}), "unsafe name"),
        (lambda: zip_of({"a.js": b"x"}), "no manifest.json"),
        (lambda: zip_of({"a.js": b"x"}, {"files": {"b.js": {}}}), "not in the bundle"),
        (lambda: zip_of({"a.js": b"x"}, ["nope"]), "must be an object"),
        (lambda: zip_of({"manifest.json": b"{nope"}), "not JSON"),
    ],
)
def test_hostile_bundles_end_in_the_error_state(client, auth, settings, make, detail):
    settings.ARTIFACT_BUNDLE_MAX_UNZIPPED_SIZE = 1_000_000
    settings.ARTIFACT_BUNDLE_MAX_FILES = 30
    data = make()
    upload_chunks(client, auth, [data])
    response = assemble(client, auth, data, [data], version="1.0")
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "error" and detail in body["detail"]
    assert not ArtifactBundle.objects.exists() and not ReleaseFile.objects.exists()


def test_member_whose_data_lies_about_its_size_is_refused(client, auth):
    """A member whose header declares fewer bytes than its data holds: cut at the declared size, the CRC fails."""
    content = b"A" * 1000
    data = bytearray(zip_of({"a.js": content}, {"files": {}}))
    # declared uncompressed size 1000 (0x3e8) -> 10, in the local header and the central directory
    data = bytes(data).replace((1000).to_bytes(4, "little"), (10).to_bytes(4, "little"))
    upload_chunks(client, auth, [data])
    body = assemble(client, auth, data, [data]).json()
    assert body["state"] == "error" and body["detail"]


def test_joined_chunks_must_match_the_checksum(client, auth):
    upload_chunks(client, auth, [b"part one"])
    body = {"checksum": "1" * 40, "chunks": [sha1(b"part one")], "projects": ["myapp"]}
    response = client.post(ASSEMBLE, body, content_type="application/json", **auth).json()
    assert response["state"] == "error" and "do not have the checksum" in response["detail"]


def test_too_large_a_file_is_the_error_state(client, auth, settings):
    settings.ARTIFACT_MAX_FILE_SIZE = 100
    data = bundle_zip()
    upload_chunks(client, auth, [data])
    body = assemble(client, auth, data, [data]).json()
    assert body["state"] == "error" and "at most 100" in body["detail"]


@pytest.mark.parametrize(
    "body, detail",
    [
        ({"checksum": "xyz", "chunks": ["a" * 40], "projects": ["myapp"]}, "checksum"),
        ({"checksum": "a" * 40, "chunks": [], "projects": ["myapp"]}, "chunks"),
        ({"checksum": "a" * 40, "chunks": ["A" * 40], "projects": ["myapp"]}, "SHA-1"),
        ({"checksum": "a" * 40, "chunks": ["a" * 40]}, "projects"),
        ({"checksum": "a" * 40, "chunks": ["a" * 40], "projects": ["nope"]}, "Invalid project"),
        ({"checksum": "a" * 40, "chunks": ["a" * 40], "projects": ["myapp"], "version": "a/b"}, "may not hold a slash"),
        ({"checksum": "a" * 40, "chunks": ["a" * 40], "projects": ["myapp"], "dist": 5}, "dist"),
        ("[]", "JSON object"),
    ],
)
def test_bad_assemble_requests_are_400(client, auth, body, detail):
    response = client.post(ASSEMBLE, body, content_type="application/json", **auth)
    assert response.status_code == 400 and detail in response.json()["detail"]


def test_access(client, user, auth):
    Project.objects.create(name="Theirs")
    data = bundle_zip()
    read = token_for(user, Scope.READ)
    assert client.get(CHUNKS, **read).status_code == 200
    response = upload_chunks(client, read, [data])
    assert response.status_code == 403 and response.json()["detail"]
    assert assemble(client, read, data, [data]).status_code == 403
    assert client.get("/api/0/organizations/other/chunk-upload/", **auth).status_code == 404
    other = client.post(
        "/api/0/organizations/other/artifactbundle/assemble/", {}, content_type="application/json", **auth
    )
    assert other.status_code == 404
    assert assemble(client, auth, data, [data], projects=["theirs"]).status_code == 400
    assert client.get(CHUNKS).status_code == 401
    assert not FileBlob.objects.exists()


def test_release_assemble_the_older_chunked_path(client, auth, project):
    Release.objects.create(project=project, version="3.0", date_released="2026-01-01T00:00Z")
    data = bundle_zip()
    upload_chunks(client, auth, [data])
    url = "/api/0/organizations/main/releases/3.0/assemble/"
    body = {"checksum": sha1(data), "chunks": [sha1(data)]}
    assert client.post(url, body, content_type="application/json", **auth).json()["state"] == "ok"
    assert set(ReleaseFile.objects.values_list("release", "name")) == {
        ("3.0", "~/app.min.js"),
        ("3.0", "~/app.min.js.map"),
    }
    missing = client.post(
        "/api/0/organizations/main/releases/9.9/assemble/", body, content_type="application/json", **auth
    )
    assert missing.status_code == 404
