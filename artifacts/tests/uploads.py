"""Test helpers: store built JavaScript files the way an upload by `sentry-cli sourcemaps upload` ends up stored
(without going through the upload endpoints, for tests of what reads them; artifacts.tests.bundles has fixed
bundles for the upload endpoints' own tests).

The zip is laid out as sentry-cli 3.8 makes it (observed by capturing an upload): each file under
`files/_/_/<path>`, and `manifest.json` = {"files": {<zip path>: {"type": "minified_source" | "source_map", "url":
"~/<path>", "headers": {"debug-id": ..., "sourcemap": <the file's sourceMappingURL>}}}, "debug_id": <bundle id>,
"org", "project", "release"?, "dist"?}. The rows are those the assemble endpoint writes: ArtifactBundle (blob = the
zip), a DebugIdArtifact per file with a debug id, and with a release a ReleaseFile per file pointing into the zip.
"""

import io
import json
import re
import uuid
import zipfile
from pathlib import Path

from django.contrib.auth import get_user_model

from artifacts.chunks import record_upload
from artifacts.lookup import source_mapping_url
from artifacts.models import ArtifactBundle, DebugIdArtifact, FileBlob, ReleaseFile
from artifacts.storage import store_blob

_DEBUG_ID_COMMENT = re.compile(rb"^//# debugId=([0-9a-fA-F-]{36})\s*$", re.MULTILINE)
_DEBUG_ID_FIELD = re.compile(rb'"debugId"\s*:\s*"([0-9a-fA-F-]{36})"')


def _map_debug_id(content: bytes) -> str:
    """A map's debugId, also from a map that a test broke after `inject` wrote it."""
    found = _DEBUG_ID_FIELD.findall(content)
    return found[-1].decode() if found else ""


def uploader(name: str = "uploader"):
    """A user who uploads (assemble_bundle counts only the chunks its caller uploaded)."""
    return get_user_model().objects.get_or_create(username=name)[0]


def upload_blob(data: bytes, user) -> FileBlob:
    """`data` stored as a chunk `user` uploaded (what the chunk-upload endpoint records)."""
    blob = store_blob(data)
    record_upload(blob, user.pk)
    return blob


def debug_id_of(path: Path) -> str:
    """The debug id `sentry-cli sourcemaps inject` wrote into a minified file or a map ('' when none)."""
    content = path.read_bytes()
    if path.suffix == ".map":
        return _map_debug_id(content)
    found = _DEBUG_ID_COMMENT.findall(content)
    return found[-1].decode() if found else ""


def upload_zip(files: dict[str, bytes], release: str = "", dist: str = "") -> tuple[bytes, dict]:
    """The zip sentry-cli uploads for `files` ({path relative to the upload folder: content}), and its manifest."""
    manifest_files = {}
    for path, content in files.items():
        entry: dict = {"url": f"~/{path}", "headers": {}}
        if path.endswith(".map"):
            entry["type"] = "source_map"
            debug_id = _map_debug_id(content)
        else:
            entry["type"] = "minified_source"
            found = _DEBUG_ID_COMMENT.findall(content)
            debug_id = found[-1].decode() if found else ""
            if source_mapping_url(content):
                entry["headers"]["sourcemap"] = source_mapping_url(content)
        if debug_id:
            entry["headers"]["debug-id"] = debug_id
        manifest_files[f"files/_/_/{path}"] = entry
    manifest = {"files": manifest_files, "debug_id": str(uuid.uuid4()), "org": "culvert", "project": "app"}
    if release:
        manifest["release"] = release
    if dist:
        manifest["dist"] = dist
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in files.items():
            archive.writestr(f"files/_/_/{path}", content)
        archive.writestr("manifest.json", json.dumps(manifest))
    return buffer.getvalue(), manifest


def store_bundle(project, files: dict[str, bytes], release: str = "", dist: str = "") -> ArtifactBundle:
    """`files` stored as one artifact bundle of `project`, with the rows an upload makes."""
    data, manifest = upload_zip(files, release, dist)
    bundle = ArtifactBundle.objects.create(
        bundle_id=manifest["debug_id"],
        blob=store_blob(data),
        release=release,
        dist=dist,
        artifact_count=len(files),
    )
    bundle.projects.add(project)
    for zip_path, entry in manifest["files"].items():
        debug_id = entry["headers"].get("debug-id")
        if debug_id:
            DebugIdArtifact.objects.create(
                debug_id=debug_id, bundle=bundle, file_type=entry["type"], path=zip_path, url=entry["url"]
            )
        if release:
            ReleaseFile.objects.create(
                project=project,
                release=release,
                dist=dist,
                name=entry["url"],
                bundle=bundle,
                bundle_path=zip_path,
                headers={"Sourcemap": entry["headers"]["sourcemap"]} if "sourcemap" in entry["headers"] else {},
                size=len(files[zip_path.removeprefix("files/_/_/")]),
            )
    return bundle


def store_folder(project, folder: Path, release: str = "", dist: str = "") -> ArtifactBundle:
    """Every .js and .map file under `folder` as one bundle (what `sentry-cli sourcemaps upload <folder>` sends)."""
    files = {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.suffix in (".js", ".mjs", ".cjs", ".map")
    }
    return store_bundle(project, files, release, dist)


def store_release_file(project, release: str, name: str, content: bytes, headers=None, dist: str = "") -> ReleaseFile:
    """One file uploaded on its own (the legacy release-files API)."""
    blob = store_blob(content)
    return ReleaseFile.objects.create(
        project=project, release=release, dist=dist, name=name, blob=blob, headers=headers or {}, size=len(content)
    )
