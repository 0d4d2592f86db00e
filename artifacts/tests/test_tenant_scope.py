"""Tenant scope of what sentry-cli names in an upload (issue 19): bundle ids, debug ids, release-file names and chunk
checksums are matched only within what the caller may use. Alice writes to Shop, Bob (a write token, a member of
Blog only) tries every identifier of Shop's that he can learn (CI logs print bundle ids and checksums, Shop's served
JavaScript carries its debug ids): nothing of Shop's changes, and no event of Blog is mapped with Shop's maps.
Uploads go through the API endpoints sentry-cli calls, events through the envelope endpoint, digest as it runs."""

import hashlib
import io
import json
import uuid
import zipfile
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from api.models import ApiToken, Scope
from artifacts.lookup import Resolved, SourceLookup
from artifacts.models import ArtifactBundle, DebugIdArtifact, FileBlob, ReleaseFile
from artifacts.release_deletion import delete_releases
from artifacts.tests.uploads import store_bundle
from events.models import Event
from projects.models import Project, ProjectMembership, Role
from releases.models import Release
from testing.utils import auth_header, make_envelope

CHUNKS = "/api/0/organizations/main/chunk-upload/"
ASSEMBLE = "/api/0/organizations/main/artifactbundle/assemble/"
SHOP_BUNDLE_ID = "5b0b5b0b-0000-4000-8000-000000000001"
SHOP_DEBUG_ID = "5b0b5b0b-0000-4000-8000-00000000d001"
URL = "http://shop.example.com/static/app.min.js"
MINIFIED = b'function a(){throw new Error("x")}a();\n//# sourceMappingURL=app.min.js.map\n'
SHOP_SECRET = "const secretOfShop = 42;"
SHOP_SOURCE = "http://shop.example.com/static/src/checkout.js"  # the map's source, next to the map
BLOG_SOURCE = "http://shop.example.com/static/src/blog.js"


def source_map(source: str, line: str) -> bytes:
    return json.dumps(
        {"version": 3, "file": "app.min.js", "sources": [source], "sourcesContent": [line + "\n"], "mappings": "AAAA"}
    ).encode()


SHOP_MAP = source_map("src/checkout.js", SHOP_SECRET)
BLOG_MAP = source_map("src/blog.js", "const ownOfBlog = 1;")


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def bundle_zip(bundle_id: str, files: dict[str, tuple[bytes, dict]]) -> bytes:
    """A bundle as sentry-cli lays it out: {url path: (content, manifest entry)}, under the given bundle id."""
    manifest = {"files": {}, "debug_id": bundle_id, "org": "main"}
    out = io.BytesIO()

    def member(name: str) -> zipfile.ZipInfo:  # a fixed date: the same files make the same zip (and checksum)
        return zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))

    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, (content, entry) in files.items():
            zf.writestr(member(f"files/_/_/{path}"), content)
            manifest["files"][f"files/_/_/{path}"] = {"url": f"~/{path}", **entry}
        zf.writestr(member("manifest.json"), json.dumps(manifest))
    return out.getvalue()


def app_bundle(bundle_id: str, map_bytes: bytes, debug_id: str | None = None) -> bytes:
    """app.min.js and its map (with the debug id, when given)."""
    ids = {"debug-id": debug_id} if debug_id else {}
    return bundle_zip(
        bundle_id,
        {
            "static/app.min.js": (
                MINIFIED,
                {"type": "minified_source", "headers": {**ids, "sourcemap": "app.min.js.map"}},
            ),
            "static/app.min.js.map": (map_bytes, {"type": "source_map", "headers": ids}),
        },
    )


@pytest.fixture
def shop(db):
    return Project.objects.create(name="Shop", slug="shop")


@pytest.fixture
def blog(db):
    return Project.objects.create(name="Blog", slug="blog")


def writer(project, name: str) -> dict:
    """The headers of a write token of a member of `project` (of it only)."""
    user = get_user_model().objects.create_user(name)
    ProjectMembership.objects.create(project=project, user=user, role=Role.MEMBER)
    return {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.create_for(user, 'ci', scope=Scope.WRITE)[1]}"}


@pytest.fixture
def alice(shop):
    return writer(shop, "alice")


@pytest.fixture
def bob(blog):
    return writer(blog, "bob")


def send_chunks(client, auth, chunks: list[bytes]) -> None:
    files = []
    for chunk in chunks:
        upload = io.BytesIO(chunk)
        upload.name = sha1(chunk)
        files.append(upload)
    assert client.post(CHUNKS, {"file": files}, **auth).status_code == 200


def assemble(client, auth, checksum: str, chunks: list[str], projects: list[str], **extra) -> dict:
    body = {"checksum": checksum, "chunks": chunks, "projects": projects, **extra}
    response = client.post(ASSEMBLE, body, content_type="application/json", **auth)
    assert response.status_code == 200, response.content
    return response.json()


def upload(client, auth, data: bytes, projects: list[str], **extra) -> None:
    """What `sentry-cli sourcemaps upload` does: ask, send what is missing, assemble."""
    first = assemble(client, auth, sha1(data), [sha1(data)], projects, **extra)
    if first["state"] == "not_found":
        send_chunks(client, auth, [data])
    assert assemble(client, auth, sha1(data), [sha1(data)], projects, **extra)["state"] == "ok"


def send_js_event(client, project, debug_id: str | None = None, release: str | None = None) -> dict:
    """A browser error thrown in app.min.js line 1 column 1; returns the first frame as digest stored it."""
    event = {
        "event_id": uuid.uuid4().hex,
        "platform": "javascript",
        "exception": {
            "values": [
                {
                    "type": "Error",
                    "value": "x",
                    "stacktrace": {"frames": [{"abs_path": URL, "filename": URL, "lineno": 1, "colno": 1}]},
                }
            ]
        },
    }
    if debug_id:
        event["debug_meta"] = {"images": [{"type": "sourcemap", "code_file": URL, "debug_id": debug_id}]}
    if release:
        event["release"] = release
    response = client.post(
        f"/api/{project.pk}/envelope/",
        data=make_envelope(event),
        content_type="application/x-sentry-envelope",
        **auth_header(project),
    )
    assert response.status_code == 200, response.content
    stored = Event.objects.get(project=project, event_id=event["event_id"])
    if project.slug != "shop":
        assert "secretOfShop" not in stored.data_json
    return stored.data["exception"]["values"][0]["stacktrace"]["frames"][0]


def test_bundle_ids_an_upload_claiming_another_projects_bundle_id_leaves_that_bundle_alone(
    client, shop, blog, alice, bob
):
    upload(client, alice, app_bundle(SHOP_BUNDLE_ID, SHOP_MAP, SHOP_DEBUG_ID), ["shop"])
    shop_bundle = ArtifactBundle.objects.get()
    long_ago = timezone.now() - timedelta(days=30)
    ArtifactBundle.objects.filter(pk=shop_bundle.pk).update(date_uploaded=long_ago, date_last_used=long_ago)

    # a one-file bundle whose manifest claims Shop's bundle id, uploaded with a release
    claim = bundle_zip(SHOP_BUNDLE_ID, {"x.js": (b"var x;\n", {"type": "minified_source", "headers": {}})})
    upload(client, bob, claim, ["blog"], version="9.9")

    shop_bundle.refresh_from_db()
    assert list(shop_bundle.projects.all()) == [shop]
    assert (shop_bundle.release, shop_bundle.date_uploaded, shop_bundle.date_last_used) == ("", long_ago, long_ago)
    assert not ReleaseFile.objects.filter(bundle=shop_bundle).exists()
    blog_bundle = ArtifactBundle.objects.get(projects=blog)
    assert blog_bundle.pk != shop_bundle.pk and blog_bundle.blob.checksum == sha1(claim)
    assert str(blog_bundle.bundle_id) == SHOP_BUNDLE_ID  # kept as the client wrote it, and matched with nothing
    assert list(ReleaseFile.objects.filter(project=blog).values_list("name", "bundle")) == [("~/x.js", blog_bundle.pk)]


def test_debug_ids_an_event_naming_another_projects_debug_id_is_not_mapped_with_its_map(client, shop, blog, alice, bob):
    upload(client, alice, app_bundle(SHOP_BUNDLE_ID, SHOP_MAP, SHOP_DEBUG_ID), ["shop"])
    mapped = send_js_event(client, shop, debug_id=SHOP_DEBUG_ID)
    assert (mapped["filename"], mapped["context_line"]) == (SHOP_SOURCE, SHOP_SECRET)

    # the debug id is public (Shop serves it in its JavaScript): Blog's event naming it gets no map
    frame = send_js_event(client, blog, debug_id=SHOP_DEBUG_ID)
    assert frame["abs_path"] == URL and "data" not in frame
    # nor after Bob uploads a bundle claiming Shop's bundle id (the advisory's path)
    claim = bundle_zip(SHOP_BUNDLE_ID, {"x.js": (b"var x;\n", {"type": "minified_source", "headers": {}})})
    upload(client, bob, claim, ["blog"])
    frame = send_js_event(client, blog, debug_id=SHOP_DEBUG_ID)
    assert frame["abs_path"] == URL and "context_line" not in frame
    errors = Event.objects.filter(project=blog).latest("pk").data["errors"]
    assert any(SHOP_DEBUG_ID in e["data"]["reason"] and "this project" in e["data"]["reason"] for e in errors)
    assert not DebugIdArtifact.objects.filter(debug_id=SHOP_DEBUG_ID, bundle__projects=blog).exists()


def test_release_file_names_resolve_within_the_events_own_project(client, shop, blog, alice, bob):
    shop_zip, blog_zip = app_bundle(SHOP_BUNDLE_ID, SHOP_MAP), app_bundle(SHOP_BUNDLE_ID, BLOG_MAP)
    upload(client, alice, shop_zip, ["shop"], version="1.0")
    # Blog's own build, same file names and release, in a bundle claiming Shop's bundle id
    upload(client, bob, blog_zip, ["blog"], version="1.0")

    blog_frame = send_js_event(client, blog, release="1.0")
    assert (blog_frame["filename"], blog_frame["context_line"]) == (BLOG_SOURCE, "const ownOfBlog = 1;")
    shop_frame = send_js_event(client, shop, release="1.0")
    assert (shop_frame["filename"], shop_frame["context_line"]) == (SHOP_SOURCE, SHOP_SECRET)
    names = {(rf.project.slug, rf.name, rf.bundle.blob.checksum) for rf in ReleaseFile.objects.select_related("bundle")}
    assert names == {
        ("shop", "~/static/app.min.js", sha1(shop_zip)),
        ("shop", "~/static/app.min.js.map", sha1(shop_zip)),
        ("blog", "~/static/app.min.js", sha1(blog_zip)),
        ("blog", "~/static/app.min.js.map", sha1(blog_zip)),
    }


def test_chunk_checksums_an_assemble_uses_only_the_callers_own_chunks(client, shop, blog, alice, bob, settings):
    settings.CHUNK_UPLOAD_CHUNK_SIZE = 256
    data = app_bundle(SHOP_BUNDLE_ID, SHOP_MAP, SHOP_DEBUG_ID)
    chunks = [data[i : i + 256] for i in range(0, len(data), 256)]
    send_chunks(client, alice, chunks)
    assert assemble(client, alice, sha1(data), [sha1(c) for c in chunks], ["shop"])["state"] == "ok"

    # Bob names Shop's chunks and file by their checksums, without sending them: they are missing, for him
    answer = assemble(client, bob, sha1(data), [sha1(c) for c in chunks], ["blog"])
    assert answer == {"state": "not_found", "missingChunks": [sha1(c) for c in chunks], "detail": None}
    # a chunk of his own does not make Shop's file either
    send_chunks(client, bob, [b"bob's own bytes"])
    answer = assemble(client, bob, sha1(data), [sha1(b"bob's own bytes")], ["blog"])
    assert answer["state"] == "error" and "do not have the checksum" in answer["detail"]
    assert not ArtifactBundle.objects.filter(projects=blog).exists()

    # content he sends himself is his to use (stored once, whoever sent it)
    send_chunks(client, bob, chunks)
    assert assemble(client, bob, sha1(data), [sha1(c) for c in chunks], ["blog"])["state"] == "ok"
    assert FileBlob.objects.filter(checksum=sha1(data)).count() == 1
    assert [list(b.projects.all()) for b in ArtifactBundle.objects.order_by("pk")] == [[shop], [blog]]


def test_an_upload_for_several_projects_makes_a_bundle_for_each(client, shop, blog, alice):
    ProjectMembership.objects.create(project=blog, user=get_user_model().objects.get(username="alice"))
    data = app_bundle(SHOP_BUNDLE_ID, SHOP_MAP, SHOP_DEBUG_ID)
    upload(client, alice, data, ["shop", "blog"], version="2.0")
    upload(client, alice, data, ["shop", "blog"], version="2.0")  # again: the same two bundles, refreshed
    bundles = list(ArtifactBundle.objects.order_by("pk"))
    assert [list(b.projects.all()) for b in bundles] == [[shop], [blog]]
    assert {b.blob_id for b in bundles} == {bundles[0].blob_id}
    assert DebugIdArtifact.objects.filter(bundle=bundles[1]).count() == 2
    assert ReleaseFile.objects.filter(project=blog, bundle=bundles[1]).count() == 2
    # deleting Blog's release leaves Shop's bundle whole
    delete_releases([Release.objects.get(project=blog, version="2.0")])
    assert list(ArtifactBundle.objects.all()) == [bundles[0]]
    assert send_js_event(client, shop, debug_id=SHOP_DEBUG_ID)["filename"] == SHOP_SOURCE


def test_split_shared_bundles_gives_each_project_a_bundle_of_its_own(shop, blog, capsys):
    # a bundle shared the way earlier versions shared them: one row, both projects, release files of both into it
    files = {"static/app.min.js": MINIFIED + b"//# debugId=" + SHOP_DEBUG_ID.encode() + b"\n"}
    files["static/app.min.js.map"] = SHOP_MAP[:-1] + f', "debugId": "{SHOP_DEBUG_ID}"}}'.encode()
    shared = store_bundle(shop, files, release="1.0")
    shared.projects.add(blog)
    for row in ReleaseFile.objects.filter(project=shop):
        ReleaseFile.objects.create(
            project=blog, release="1.0", name=row.name, bundle=shared, bundle_path=row.bundle_path, size=row.size
        )
    unshared = store_bundle(shop, {"other.js": b"var o;\n"})

    call_command("split_shared_bundles", "--dry-run")
    assert f"bundle {shared.pk} (id {shared.bundle_id}), projects blog, shop: would be split" in capsys.readouterr().out
    assert ArtifactBundle.objects.count() == 2

    call_command("split_shared_bundles")
    assert "split: 1 copies made" in capsys.readouterr().out
    assert list(shared.projects.all()) == [shop] and list(unshared.projects.all()) == [shop]
    copy = ArtifactBundle.objects.get(projects=blog)
    assert (copy.blob_id, copy.release, str(copy.bundle_id)) == (shared.blob_id, "1.0", str(shared.bundle_id))
    assert sorted(DebugIdArtifact.objects.filter(bundle=copy).values_list("file_type", "path")) == sorted(
        DebugIdArtifact.objects.filter(bundle=shared).values_list("file_type", "path")
    )
    assert set(ReleaseFile.objects.filter(project=blog).values_list("bundle", flat=True)) == {copy.pk}
    assert set(ReleaseFile.objects.filter(project=shop).values_list("bundle", flat=True)) == {shared.pk}
    for project in (shop, blog):  # each still finds its maps, by debug id and by release
        lookup = SourceLookup(project.pk)
        assert isinstance(lookup.resolve(URL, SHOP_DEBUG_ID, "", ""), Resolved)
        assert isinstance(lookup.resolve(URL, "", "1.0", ""), Resolved)

    call_command("split_shared_bundles")
    assert capsys.readouterr().out.strip() == "0 shared bundles"
