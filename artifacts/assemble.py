"""Assembling an uploaded artifact bundle (`sentry-cli sourcemaps upload`): join its chunks, check the result, read
the zip defensively and record what symbolication looks up.

Assembly runs inside the assemble request: a bundle is at most ARTIFACT_MAX_FILE_SIZE, and the client polls the same
call until it says `ok` or `error`, so the first call that finds every chunk does the work and answers `ok`.

The zip is the client's: every limit is checked from the central directory before anything is decompressed (member
count, each member's and the total declared size), member names may not climb out of the bundle or be absolute, and
each member is then read to its end in bounded pieces, which makes zipfile check its CRC: a member whose data
expands past what its header declares fails that check instead of expanding. Any failure is the `error` state with a
detail the CLI prints; nothing is recorded then.

Recorded, per project the upload is for: a bundle with the zip as its blob, one DebugIdArtifact per manifest file
with a debug id, and with a release one ReleaseFile per file, pointing into the bundle (headers as the manifest has
them, `Sourcemap` under that name).

Tenant scope. Everything a client names here is only a claim, matched within what the caller may use:
- chunks (and the assembled file) count only when the caller uploaded them (artifacts.chunks): a checksum learnt from
  someone else's CI log does not make their content the caller's;
- the bundle id in the manifest identifies nothing: an upload joins (refreshes) only the bundle of the same project
  with the same content, so it never touches another project's bundle, its dates, its release or its files.
"""

import hashlib
import json
import uuid
import zipfile
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from artifacts.chunks import record_upload, uploaded_by
from artifacts.models import ArtifactBundle, DebugIdArtifact, FileBlob, ReleaseFile
from artifacts.storage import blob_on_disk, open_blob, open_checksum, store_blob_pieces
from releases.actions import ensure_release

MANIFEST = "manifest.json"
MAX_MANIFEST_SIZE = 16 * 1024 * 1024
READ_SIZE = 1024 * 1024
FILE_TYPES = {choice.value for choice in DebugIdArtifact.FileType}
# a namespace for bundle ids derived from a bundle's checksum when its manifest has none
BUNDLE_NAMESPACE = uuid.UUID("6f1d3c5e-9a3b-4b8e-8f57-1f2a2c7d0b11")


class BundleError(Exception):
    """The upload cannot become a bundle; the message is the detail the client sees."""


@dataclass
class AssembleResult:
    state: str  # created, not_found, ok, error (sentry-cli's ChunkedFileState)
    missing_chunks: list[str] = field(default_factory=list)
    detail: str | None = None

    def as_json(self) -> dict:
        return {"state": self.state, "missingChunks": self.missing_chunks, "detail": self.detail}


@dataclass
class ManifestFile:
    path: str
    url: str
    file_type: str
    headers: dict
    size: int

    @property
    def debug_id(self) -> uuid.UUID | None:
        for key, value in self.headers.items():
            if key.lower() == "debug-id" and isinstance(value, str):
                try:
                    return uuid.UUID(value.strip()[:36])
                except ValueError:
                    return None
        return None


@dataclass
class BundleContents:
    bundle_id: uuid.UUID
    files: list[ManifestFile]


def assemble_bundle(
    checksum: str, chunks: list[str], projects: list, *, user_id: int, version: str = "", dist: str = ""
) -> AssembleResult:
    """The state of the bundle `checksum` made of `chunks`, for `projects` (the caller's to write), assembling it
    when every chunk is here and uploaded by the caller, `user_id`."""
    try:
        blob = FileBlob.objects.filter(checksum=checksum).first()
        if blob is None or not blob_on_disk(checksum) or not uploaded_by(user_id, [checksum]):
            missing = missing_chunks(chunks, user_id)
            if missing:
                return AssembleResult("not_found", missing)
            # joined even when the file is stored already (by someone else): that checks that the caller's chunks
            # make it, whatever checksum they claim
            blob = join_chunks(checksum, chunks)
            record_upload(blob, user_id)
        if blob.size > settings.ARTIFACT_MAX_FILE_SIZE:
            raise BundleError(too_large(blob.size))
        contents = read_bundle(checksum)
    except BundleError as e:
        return AssembleResult("error", detail=str(e))
    for project in projects:
        record_bundle(blob, contents, project, version, dist)
    return AssembleResult("ok")


def missing_chunks(chunks: list[str], user_id: int) -> list[str]:
    """The chunks not stored, or not uploaded by `user_id` (who must send them to use them)."""
    theirs = uploaded_by(user_id, chunks)
    return [c for c in dict.fromkeys(chunks) if c not in theirs or not blob_on_disk(c)]


def too_large(size: int) -> str:
    return f"The file is {size} bytes; at most {settings.ARTIFACT_MAX_FILE_SIZE} are accepted."


def join_chunks(checksum: str, chunks: list[str]) -> FileBlob:
    sizes = dict(FileBlob.objects.filter(checksum__in=set(chunks)).values_list("checksum", "size"))
    total = sum(sizes[c] for c in chunks)
    if total > settings.ARTIFACT_MAX_FILE_SIZE:
        raise BundleError(too_large(total))
    digest = hashlib.sha1(usedforsecurity=False)

    def pieces():
        for chunk in chunks:
            with open_checksum(chunk) as f:
                while piece := f.read(READ_SIZE):
                    digest.update(piece)
                    yield piece

    def check() -> None:
        if digest.hexdigest() != checksum:
            raise BundleError(
                f"The chunks joined do not have the checksum {checksum} (they have {digest.hexdigest()})."
            )

    return store_blob_pieces(checksum, pieces(), check)


def safe_member_name(name: str) -> bool:
    if not name or name.startswith("/") or "\\" in name or "\x00" in name or len(name) > 1024:
        return False
    parts = name.split("/")
    return ".." not in parts and not (len(parts[0]) == 2 and parts[0][1] == ":")


def read_bundle(checksum: str) -> BundleContents:
    try:
        with open_checksum(checksum) as f, zipfile.ZipFile(f) as zf:
            return read_zip(zf, checksum)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, ValueError) as e:
        raise BundleError(f"The bundle is not a readable zip file: {e}") from None


def read_zip(zf: zipfile.ZipFile, checksum: str) -> BundleContents:
    infos = zf.infolist()
    if len(infos) > settings.ARTIFACT_BUNDLE_MAX_FILES:
        raise BundleError(
            f"The bundle has {len(infos)} files; at most {settings.ARTIFACT_BUNDLE_MAX_FILES} are accepted."
        )
    total = sum(info.file_size for info in infos)
    if total > settings.ARTIFACT_BUNDLE_MAX_UNZIPPED_SIZE:
        raise BundleError(
            f"The bundle unzips to {total} bytes; at most {settings.ARTIFACT_BUNDLE_MAX_UNZIPPED_SIZE} are accepted."
        )
    members = {}
    for info in infos:
        if not safe_member_name(info.filename):
            raise BundleError(f"The bundle holds a file with an unsafe name: {info.filename[:200]!r}.")
        if info.flag_bits & 0x1:
            raise BundleError("The bundle holds an encrypted file.")
        if info.filename in members:
            raise BundleError(f"The bundle holds {info.filename[:200]!r} twice.")
        members[info.filename] = info
    for info in infos:
        read_member(zf, info)  # to its end: zipfile checks the CRC, and never reads past the declared size
    if MANIFEST not in members:
        raise BundleError("The bundle has no manifest.json.")
    if members[MANIFEST].file_size > MAX_MANIFEST_SIZE:
        raise BundleError("The bundle's manifest.json is too large.")
    try:
        manifest = json.loads(zf.read(MANIFEST))
    except (ValueError, UnicodeDecodeError):
        raise BundleError("The bundle's manifest.json is not JSON.") from None
    return parse_manifest(manifest, members, checksum)


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    read = 0
    with zf.open(info) as member:
        while piece := member.read(READ_SIZE):
            read += len(piece)
            if read > info.file_size:
                raise BundleError(f"{info.filename[:200]!r} holds more than its declared size.")


def parse_manifest(manifest, members: dict, checksum: str) -> BundleContents:
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files", {}), dict):
        raise BundleError("The bundle's manifest.json must be an object with a files object.")
    files = []
    for path, entry in manifest.get("files", {}).items():
        if not isinstance(entry, dict):
            raise BundleError(f"The manifest's entry for {path[:200]!r} must be an object.")
        if path not in members:
            raise BundleError(f"The manifest names {path[:200]!r}, which is not in the bundle.")
        headers = entry.get("headers") or {}
        url = entry.get("url") or ""
        file_type = entry.get("type") or ""
        if not isinstance(headers, dict) or not isinstance(url, str) or not isinstance(file_type, str):
            raise BundleError(f"The manifest's entry for {path[:200]!r} is malformed.")
        # no NUL characters: PostgreSQL refuses them in text and jsonb
        headers = {
            without_nul(str(k))[:256]: without_nul(str(v))[:1024]
            for k, v in headers.items()
            if isinstance(v, str | int)
        }
        url = without_nul(url)[:1024]
        files.append(ManifestFile(path, url, file_type, normalize_headers(headers), members[path].file_size))
    bundle_id = None
    for key in ("debug_id", "bundle_id"):
        value = manifest.get(key) or (manifest.get("attributes") or {}).get(key)
        if isinstance(value, str):
            try:
                bundle_id = uuid.UUID(value.strip()[:36])
                break
            except ValueError:
                pass
    return BundleContents(bundle_id or uuid.uuid5(BUNDLE_NAMESPACE, checksum), files)


def without_nul(value: str) -> str:
    return value.replace("\x00", "")


def normalize_headers(headers: dict) -> dict:
    """`Sourcemap` under that name whatever the case the client wrote (symbolication looks it up so)."""
    result = {}
    for key, value in headers.items():
        if key.lower() in ("sourcemap", "x-sourcemap"):
            result["Sourcemap"] = value
        else:
            result[key] = value
    return result


def record_bundle(blob: FileBlob, contents: BundleContents, project, version: str, dist: str) -> ArtifactBundle:
    """The project's bundle of this content, made or (uploaded again) refreshed, with its release files. Never
    another project's: the bundle id the client wrote in its manifest is not looked up at all. Two uploads of the
    same content to one project at the same moment may make two rows; lookups take the newest, retention both."""
    now = timezone.now()
    with transaction.atomic():
        bundle = ArtifactBundle.objects.select_for_update().filter(projects=project, blob=blob).order_by("-pk").first()
        if bundle is None:
            bundle = ArtifactBundle.objects.create(
                bundle_id=contents.bundle_id,
                blob=blob,
                release=version,
                dist=dist,
                artifact_count=len(contents.files),
                date_uploaded=now,
                date_last_used=now,
            )
            bundle.projects.add(project)
            DebugIdArtifact.objects.bulk_create(
                DebugIdArtifact(bundle=bundle, debug_id=f.debug_id, file_type=f.file_type, path=f.path, url=f.url)
                for f in contents.files
                if f.debug_id is not None and f.file_type in FILE_TYPES
            )
        else:
            changed = {"date_uploaded": now, "date_last_used": now}
            if version and not bundle.release:
                changed.update(release=version, dist=dist)
            ArtifactBundle.objects.filter(pk=bundle.pk).update(**changed)
        if version:
            ensure_release(project, version)
            record_release_files(project, version, dist, bundle, contents.files)
    return bundle


def record_release_files(project, version: str, dist: str, bundle: ArtifactBundle, files: list[ManifestFile]) -> None:
    """One ReleaseFile per bundle file; a name the release (and dist) had already now points at this upload."""
    named = [f for f in files if f.url]
    ReleaseFile.objects.filter(project=project, release=version, dist=dist, name__in=[f.url for f in named]).delete()
    ReleaseFile.objects.bulk_create(
        ReleaseFile(
            project=project,
            release=version,
            dist=dist,
            name=f.url,
            bundle=bundle,
            bundle_path=f.path,
            headers=f.headers,
            size=f.size,
        )
        for f in named
    )


def read_bundle_member(bundle: ArtifactBundle, path: str, limit: int) -> bytes:
    """A file of a stored bundle (for tests and symbolication), at most `limit` bytes or BundleError."""
    with open_blob(bundle.blob) as f, zipfile.ZipFile(f) as zf:
        info = zf.getinfo(path)
        if info.file_size > limit:
            raise BundleError(f"{path!r} is larger than {limit} bytes.")
        return zf.read(info)
