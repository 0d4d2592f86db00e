"""Finding a JavaScript file's source map among what sentry-cli uploaded (artifacts.models), for symbolication.

Two ways, the two that the SDKs and sentry-cli offer:
1. by debug id: `sentry-cli sourcemaps inject` writes one id into a minified file and into its map, the SDK reports
   it per file in the event's `debug_meta.images` ({type: "sourcemap", code_file, debug_id}), and a bundle of the
   event's project that holds the id (DebugIdArtifact rows) has the map and usually the minified file;
2. by release + dist + file name: ReleaseFile rows named `~/path` (any origin) or by their full URL. The minified
   file names its map in a `//# sourceMappingURL=` comment or a `Sourcemap` / `X-SourceMap` header, relative to
   its own URL; the map is then found by name the same way, or decoded when it is a data: URL.

One `SourceLookup` serves one digest batch of one project: the events of a deploy share a handful of maps, and each
is read and parsed once (failures too: a broken map is found broken once). Everything read is bounded
(settings.SOURCEMAP_MAX_BYTES per file, zip members by what they decompress to), and a failure is a value
(`Unresolved`, with a reason meant for people), never an exception for the caller to forget.
"""

from __future__ import annotations

import base64
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.utils import timezone

from artifacts.models import ArtifactBundle, DebugIdArtifact, ReleaseFile
from artifacts.storage import blob_path as blob_path  # where a blob's file is (FILE_STORE=file), for tests
from artifacts.storage import blob_size, open_checksum, sha1_of

if TYPE_CHECKING:
    # symbolic (its Rust library through cffi: ~7 MB and 70 modules) is loaded where a map is first read, so a
    # process that never symbolicates (the web server, the alerts worker, digest of non-JavaScript events) skips it
    from symbolic.sourcemap import SourceMapView, SourceView

MAX_CACHED_BYTES = 64 * 1024 * 1024  # parsed files kept for one batch; past this the cache starts over
LAST_USED_RESOLUTION = timedelta(days=1)  # a bundle's date_last_used is bumped at most this often
LAST_SEEN_RESOLUTION = timedelta(minutes=10)  # and its last_symbolicated_at (the artifacts page's "last used")
_URL_PREFIX = re.compile(r"^[a-z][a-z0-9+.-]*://[^/]*", re.IGNORECASE)
_SOURCE_MAPPING_URL = re.compile(rb"^[ \t]*//[#@][ \t]*sourceMappingURL=([^\s'\"]+)[ \t]*\r?$", re.MULTILINE)


class Unreadable(Exception):
    """A file that is there but cannot be used; the message says why, for the event page."""

    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


@dataclass(frozen=True)
class FileRef:
    """Where an uploaded file's bytes are: a blob of its own, or a member of a bundle's zip."""

    checksum: str
    member: str = ""
    url: str = ""
    headers: tuple = ()  # (name, value) pairs as uploaded
    bundle_pk: int | None = None

    def header(self, name: str) -> str:
        return next((str(v) for k, v in self.headers if str(k).lower() == name.lower()), "")


@dataclass
class Resolved:
    """A minified file's map, parsed, with what is needed to name the original sources."""

    sourcemap: SourceMapView
    map_url: str  # where the map is (sources are relative to it); a data: map counts as the minified file's URL
    minified: SourceView | None  # for the original names of enclosing functions; None when it was not uploaded
    resolved_with: str  # "debug-id" or "release"
    inline: bool = False  # the map was a data: URL in the minified file


@dataclass
class Unresolved:
    """No usable map: `kind` is one of the event error types (digest.symbolicate), `reason` says it in words."""

    kind: str
    reason: str
    url: str = ""


@dataclass
class _Cache:
    parsed: dict = field(default_factory=dict)  # (kind, checksum, member) -> object or Unreadable
    size: int = 0

    def get(self, key):
        return self.parsed.get(key)

    def put(self, key, value, size: int):
        if self.size + size > MAX_CACHED_BYTES:
            self.parsed.clear()
            self.size = 0
        self.parsed[key] = value
        self.size += size


def join_url(base: str, reference: str) -> str:
    """`reference` resolved against `base` like a browser would, for http(s) URLs, app:/// and webpack:// style URLs
    (which urllib does not join) and plain file paths alike."""
    if _URL_PREFIX.match(reference) or reference.startswith("data:"):
        return reference
    match = _URL_PREFIX.match(base)
    prefix = match.group(0) if match else ""
    path = base[len(prefix) :].split("?", 1)[0].split("#", 1)[0]
    joined = reference if reference.startswith("/") else posixpath.join(posixpath.dirname(path), reference)
    normalized = posixpath.normpath(joined) if joined else joined
    if normalized.startswith("//"):  # normpath keeps a leading "//": it would read as a host
        normalized = "/" + normalized.lstrip("/")
    return prefix + (normalized if normalized != "." else "")


def release_names(url: str) -> list[str]:
    """The ReleaseFile names that stand for `url`, the most specific first: the URL itself, without its query, and
    as `~/path` (sentry-cli's name for a file on any origin)."""
    names = [url]
    bare = url.split("#", 1)[0].split("?", 1)[0]
    names.append(bare)
    match = _URL_PREFIX.match(bare)
    path = bare[len(match.group(0)) :] if match else bare
    if path.startswith("/"):
        names.append(f"~{path}")
    elif path.startswith("~/"):
        names.append(path)
    return list(dict.fromkeys(n for n in names if n))


def source_mapping_url(content: bytes) -> str:
    """The last `//# sourceMappingURL=` of a minified file ('' when it names none)."""
    found = _SOURCE_MAPPING_URL.findall(content)
    return found[-1].decode("utf-8", "replace") if found else ""


def decode_data_url(url: str, limit: int) -> bytes:
    header, comma, payload = url[len("data:") :].partition(",")
    if not comma:
        raise Unreadable("js_invalid_source", "the inline source map (data: URL) has no data")
    if len(payload) > limit * 2:
        raise Unreadable("js_too_large", f"the inline source map is larger than {limit} bytes")
    try:
        data = base64.b64decode(payload) if header.lower().endswith(";base64") else unquote_to_bytes(payload)
    except ValueError as error:
        raise Unreadable("js_invalid_source", f"the inline source map cannot be decoded: {error}") from error
    if len(data) > limit:
        raise Unreadable("js_too_large", f"the inline source map is larger than {limit} bytes")
    return data


def read_file(ref: FileRef, limit: int) -> bytes:
    """The bytes of an uploaded file, at most `limit` of them (else Unreadable "js_too_large"). A zip member is read
    by what it decompresses to, whatever its header claims."""
    try:
        if not ref.member:
            if blob_size(ref.checksum) > limit:
                raise Unreadable("js_too_large", f"{ref.url or 'the file'} is larger than {limit} bytes")
            with open_checksum(ref.checksum) as f:
                return f.read()
        with open_checksum(ref.checksum) as f, zipfile.ZipFile(f) as bundle:
            try:
                info = bundle.getinfo(ref.member)
            except KeyError:
                raise Unreadable("js_no_source", f"the bundle has no file {ref.member}") from None
            if info.file_size > limit:
                raise Unreadable("js_too_large", f"{ref.url or ref.member} is larger than {limit} bytes")
            with bundle.open(info) as member:
                data = member.read(limit + 1)
    except Unreadable:
        raise
    except Exception as error:  # a missing blob file, a corrupt zip, an unsupported compression, a bad CRC
        raise Unreadable("js_invalid_source", f"the uploaded file cannot be read: {error}") from error
    if len(data) > limit:
        raise Unreadable("js_too_large", f"{ref.url or ref.member} is larger than {limit} bytes")
    return data


class SourceLookup:
    """Maps for the frames of one project's events, during one digest batch (see the module docstring)."""

    def __init__(self, project_id: int):
        self.project_id = project_id
        self._cache = _Cache()
        self._rows: dict = {}  # database answers, by question
        self._bumped: set[tuple[str, int]] = set()

    @property
    def limit(self) -> int:
        return settings.SOURCEMAP_MAX_BYTES

    # --- what the database knows ------------------------------------------------------------------------------

    def _memo(self, key, compute):
        if key not in self._rows:
            self._rows[key] = compute()
        return self._rows[key]

    def has_release_files(self, release: str, dist: str) -> bool:
        return self._memo(
            ("release?", release, dist),
            lambda: ReleaseFile.objects.filter(project_id=self.project_id, release=release, dist=dist).exists(),
        )

    def _debug_id_files(self, debug_id: str) -> dict[str, FileRef]:
        """{file_type: FileRef} for the debug id, from the newest bundle of the project that has its map."""

        def compute():
            rows = list(
                DebugIdArtifact.objects.filter(debug_id=debug_id, bundle__projects__id=self.project_id)
                .select_related("bundle__blob")
                .order_by("-bundle__date_uploaded", "-bundle_id")[:20]
            )
            map_bundle = next((r.bundle_id for r in rows if r.file_type == DebugIdArtifact.FileType.SOURCE_MAP), None)
            rows.sort(key=lambda r: r.bundle_id != map_bundle)  # stable: the map's bundle first, then the newest
            found: dict[str, FileRef] = {}
            for row in rows:
                if row.file_type not in found:
                    found[row.file_type] = FileRef(row.bundle.blob.checksum, row.path, row.url, (), row.bundle_id)
                    self._note_use(row.bundle)
            return found

        return self._memo(("debug-id", debug_id), compute)

    def _release_file(self, release: str, dist: str, url: str) -> FileRef | None:
        names = release_names(url)

        def compute():
            rows = list(
                ReleaseFile.objects.filter(project_id=self.project_id, release=release, dist=dist, name__in=names)
                .select_related("blob", "bundle__blob")
                .order_by("-date_created", "-pk")
            )
            for name in names:
                for row in rows:
                    if row.name != name:
                        continue
                    headers = tuple(row.headers.items()) if isinstance(row.headers, dict) else ()
                    if row.bundle is not None:
                        self._note_use(row.bundle)
                        return FileRef(row.bundle.blob.checksum, row.bundle_path, row.name, headers, row.bundle_id)
                    if row.blob is not None:
                        self._note_use(row)
                        return FileRef(row.blob.checksum, "", row.name, headers)
            return None

        return self._memo(("release", release, dist, tuple(names)), compute)

    def _note_use(self, row: ArtifactBundle | ReleaseFile) -> None:
        """Keep what symbolication reads (a bundle, a release file) from retention's reach (artifacts.retention):
        bump its date_last_used, at most daily; and its last_symbolicated_at, shown on the release's artifacts page,
        at most every LAST_SEEN_RESOLUTION. At most one UPDATE per row and batch, none most of the time."""
        key = (type(row).__name__, row.pk)
        if key in self._bumped:
            return
        self._bumped.add(key)
        now = timezone.now()
        changes = {}
        if row.date_last_used is None or now - row.date_last_used >= LAST_USED_RESOLUTION:
            changes["date_last_used"] = now
        if row.last_symbolicated_at is None or now - row.last_symbolicated_at >= LAST_SEEN_RESOLUTION:
            changes["last_symbolicated_at"] = now
        if changes:
            type(row).objects.filter(pk=row.pk).update(**changes)

    # --- reading and parsing, once per batch ----------------------------------------------------------------------

    def _parsed(self, kind: str, ref: FileRef, parse):
        key = (kind, ref.checksum, ref.member)
        cached = self._cache.get(key)
        if cached is None:
            try:
                data = read_file(ref, self.limit)
                cached = parse(data)
                size = len(data)
            except Unreadable as error:
                cached, size = error, 0
            self._cache.put(key, cached, size)
        if isinstance(cached, Unreadable):
            raise cached
        return cached

    def _minified(self, ref: FileRef) -> tuple[SourceView, str]:
        """The minified file as a SourceView, and the map reference it carries ('' for none)."""

        def parse(data: bytes):
            from symbolic.sourcemap import SourceView

            try:
                return SourceView.from_bytes(data), source_mapping_url(data)
            except Exception as error:
                raise Unreadable("js_invalid_source", f"the minified file cannot be read: {error}") from error

        return self._parsed("minified", ref, parse)

    def _sourcemap(self, ref: FileRef) -> SourceMapView:
        return self._parsed("map", ref, parse_sourcemap)

    def _inline_sourcemap(self, url: str) -> SourceMapView:
        key = ("inline", sha1_of(url.encode("utf-8", "surrogatepass")), "")
        cached = self._cache.get(key)
        if cached is None:
            try:
                cached = parse_sourcemap(decode_data_url(url, self.limit))
            except Unreadable as error:
                cached = error
            self._cache.put(key, cached, len(url))
        if isinstance(cached, Unreadable):
            raise cached
        return cached

    # --- the question ---------------------------------------------------------------------------------------------

    def resolve(self, url: str, debug_id: str, release: str, dist: str) -> Resolved | Unresolved:
        """The map for the minified file at `url`: by `debug_id` when the SDK reported one, else (or when no bundle
        has it) by `release` + `dist` + file name."""
        reasons = []
        if debug_id:
            try:
                found = self._by_debug_id(url, debug_id)
            except Unreadable as error:
                return Unresolved(error.kind, error.reason, url)
            if found is not None:
                return found
            reasons.append(f"no source map with debug id {debug_id} was uploaded for this project")
        if release:
            try:
                found = self._by_release(url, release, dist)
            except Unreadable as error:
                return Unresolved(error.kind, error.reason, url)
            if isinstance(found, Unresolved):
                return found
            if found is not None:
                return found
            what = f"release {release}" + (f" (dist {dist})" if dist else "")
            reasons.append(f"{what} has no file {release_names(url)[-1]}")
        elif not debug_id:
            reasons.append("the event names no release and the SDK reported no debug id for this file")
        return Unresolved("js_no_source", "; ".join(reasons), url)

    def _by_debug_id(self, url: str, debug_id: str) -> Resolved | None:
        files = self._debug_id_files(debug_id)
        map_ref = files.get(DebugIdArtifact.FileType.SOURCE_MAP)
        if map_ref is None:
            return None
        minified, reference = None, ""
        minified_ref = files.get(DebugIdArtifact.FileType.MINIFIED_SOURCE)
        if minified_ref is not None:
            try:
                minified, reference = self._minified(minified_ref)
            except Unreadable:
                minified = None  # only needed for function names; the map alone still maps positions
            reference = reference or minified_ref.header("sourcemap")
        map_url = join_url(url, reference) if reference and not reference.startswith("data:") else url
        return Resolved(self._sourcemap(map_ref), map_url, minified, "debug-id")

    def _by_release(self, url: str, release: str, dist: str) -> Resolved | Unresolved | None:
        minified_ref = self._release_file(release, dist, url)
        if minified_ref is None:
            return None
        minified, reference = self._minified(minified_ref)
        reference = minified_ref.header("sourcemap") or minified_ref.header("x-sourcemap") or reference
        if not reference:
            return Unresolved("js_no_source", f"{minified_ref.url} names no source map (no sourceMappingURL)", url)
        if reference.startswith("data:"):
            return Resolved(self._inline_sourcemap(reference), url, minified, "release", inline=True)
        map_url = join_url(url, reference)
        map_ref = self._release_file(release, dist, map_url)
        if map_ref is None:
            return Unresolved("js_missing_source", f"the source map {map_url} was not uploaded for {release}", url)
        return Resolved(self._sourcemap(map_ref), map_url, minified, "release")


def parse_sourcemap(data: bytes) -> SourceMapView:
    from symbolic.sourcemap import SourceMapView

    if data[:3] == b"\xef\xbb\xbf":
        data = data[3:]
    if data.startswith(b")]}'"):  # the XSSI guard some servers put before JSON
        data = data.partition(b"\n")[2]
    try:
        return SourceMapView.from_json_bytes(data)
    except Exception as error:
        raise Unreadable("js_invalid_source", f"the source map cannot be parsed: {error}") from error
