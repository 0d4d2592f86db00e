"""JavaScript frames mapped back to the source people wrote, at digest, before grouping and titles.

A browser or a bundled Node app reports positions in minified files (`app.min.js` line 1 column 5213, function `a`),
which neither people nor grouping can use: every build renames the functions. With the maps sentry-cli uploaded
(found by artifacts.lookup) each such frame gets its original file, line, column, enclosing function and source
lines; its minified values stay in `frame["data"]["minified"]`, so the event page can show both.

Which frames: those with a line and a column, of a `javascript`/`node` event or in a `.js`/`.mjs`/`.cjs` file, and
not node's own (`node:internal/...`). A frame is looked up when the SDK reported a debug id for its file, or when the
event's release has uploaded files. A frame that cannot be mapped stays as sent, and the event says why in its
`errors` list ({type, data: {url, reason}}, one entry per file and kind): when a debug id promised a map, or when the
frame came without source lines (a file the SDK could read itself is not worth a complaint). A frame with neither a
debug id nor release files is not looked up; it gets a `js_no_uploads` entry when it looks minified (a `.min.` file
or a column past MINIFIED_COLUMN), so that the event page can say what to upload.

Function names: a map knows the original name of the identifier at each position; at a frame's position that is
the function being *called* there, i.e. the name of the next frame inwards. So a frame is named by the enclosing
function that symbolic finds from the minified source and the map's names, else by the name its caller's position
maps to, else it keeps its minified name.

Nothing here may cost an event: every failure is caught (per frame, and once around everything) and recorded; the
work is bounded by settings.SYMBOLICATE_MAX_FRAMES and the lookup's size limits.
"""

import logging
import re
import uuid

from django.conf import settings

from artifacts.lookup import Resolved, SourceLookup, Unresolved, join_url
from events.safe import values_of

logger = logging.getLogger(__name__)

JS_PLATFORMS = {"javascript", "node"}
CONTEXT_LINES = 5  # before and after the frame's line, as the SDKs send
MAX_CONTEXT_LINE_CHARS = 500  # a line of original source longer than this is cut (the page shows 400)
MAX_NAME_CHARS = 1024  # a file or function name from a map (anyone who can upload writes them)
MAX_ERRORS = 50  # recorded per event
MAX_DEBUG_IMAGES = 1000
MINIFIED_COLUMN = 250  # a frame past this column, in a file with no upload at all, is taken for minified code
_JS_FILE = re.compile(r"\.[mc]?js$", re.IGNORECASE)
_NOT_A_FILE = ("node:", "<anonymous>", "native", "[native code]", "internal/", "data:")
_LIBRARY = re.compile(r"(?:^|/)node_modules/|^webpack/(?:bootstrap|runtime)|\(webpack\)|webpack/runtime/|/~/")
_BUNDLER_URL = re.compile(r"^(?:webpack|rollup|vite|turbopack)[a-z-]*://[^/]*/", re.IGNORECASE)
_FUNCTION_DECORATION = re.compile(r"^(?:async |new |get |set )+|\s*\[as [^\]]*\]$")


class _Unmapped(Exception):
    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


class _Errors:
    """What went wrong, once per (kind, file), in the order found."""

    def __init__(self):
        self.entries: dict[tuple[str, str], dict] = {}

    def add(self, kind: str, url: str, reason: str) -> None:
        if (kind, url) not in self.entries and len(self.entries) < MAX_ERRORS:
            details = {"url": url[:MAX_NAME_CHARS], "reason": reason[:MAX_NAME_CHARS]}
            self.entries[(kind, url)] = {"type": kind, "data": details}

    def store(self, data: dict) -> None:
        if not self.entries:
            return
        existing = data.get("errors")
        data["errors"] = [*(existing if isinstance(existing, list) else []), *self.entries.values()]


def symbolicate(data: dict, lookup: SourceLookup) -> int:
    """Map the (normalized) event's JavaScript frames in place; returns how many were mapped. Never raises."""
    errors = _Errors()
    try:
        mapped = _symbolicate(data, lookup, errors)
    except Exception as error:
        logger.exception("symbolication of event %s failed; its frames stay as sent", data.get("event_id"))
        errors.add("js_symbolication_failed", "", f"symbolication stopped: {error!r}")
        mapped = 0
    errors.store(data)
    return mapped


def _frame_lists(data: dict):
    containers = [*values_of(data.get("exception")), *values_of(data.get("threads")), data]
    for container in containers:
        stacktrace = container.get("stacktrace")
        if isinstance(stacktrace, dict) and isinstance(stacktrace.get("frames"), list):
            yield [f for f in stacktrace["frames"] if isinstance(f, dict)]


def debug_ids(data: dict) -> dict[str, str]:
    """{code_file: debug id} from the event's debug_meta images of type "sourcemap"."""
    meta = data.get("debug_meta")
    images = meta.get("images") if isinstance(meta, dict) else None
    found = {}
    for image in images[:MAX_DEBUG_IMAGES] if isinstance(images, list) else []:
        if not isinstance(image, dict) or image.get("type") != "sourcemap":
            continue
        code_file, debug_id = image.get("code_file"), image.get("debug_id")
        if isinstance(code_file, str) and isinstance(debug_id, str):
            try:
                found[code_file] = str(uuid.UUID(debug_id.strip()[:36]))
            except ValueError:
                continue
    return found


def _url_of(frame: dict) -> str:
    for key in ("abs_path", "filename"):
        if isinstance(frame.get(key), str) and frame[key]:
            return frame[key]
    return ""


def _is_candidate(frame: dict, url: str, js_event: bool) -> bool:
    if not url or url.startswith(_NOT_A_FILE):
        return False
    if isinstance(frame.get("data"), dict) and "minified" in frame["data"]:
        return False  # mapped already
    if not isinstance(frame.get("lineno"), int) or not isinstance(frame.get("colno"), int):
        return False
    if frame["lineno"] < 1 or frame["colno"] < 1:
        return False
    return js_event or bool(_JS_FILE.search(url.split("?", 1)[0].split("#", 1)[0]))


def _symbolicate(data: dict, lookup: SourceLookup, errors: _Errors) -> int:
    js_event = data.get("platform") in JS_PLATFORMS
    images = debug_ids(data)
    release = data.get("release") if isinstance(data.get("release"), str) else ""
    dist = data.get("dist") if isinstance(data.get("dist"), str) else ""
    budget = settings.SYMBOLICATE_MAX_FRAMES
    mapped = 0
    for frames in _frame_lists(data):
        caller_token = None  # frames are outermost first: the previous frame called this one
        for frame in frames:
            token, caller_name = None, caller_token.name if caller_token is not None else None
            caller_token = None
            url = _url_of(frame)
            if not _is_candidate(frame, url, js_event):
                continue
            debug_id = images.get(url) or images.get(frame.get("filename") or "") or ""
            if not debug_id and not (release and lookup.has_release_files(release, dist)):
                if _looks_minified(frame, url):
                    errors.add("js_no_uploads", url, _nothing_uploaded(release, dist))
                continue
            if budget <= 0:
                errors.add(
                    "js_too_many_frames", "", f"only the first {settings.SYMBOLICATE_MAX_FRAMES} frames were mapped"
                )
                continue
            budget -= 1
            resolved = lookup.resolve(url, debug_id, release, dist)
            if isinstance(resolved, Unresolved):
                if debug_id or not frame.get("context_line"):
                    errors.add(resolved.kind, resolved.url, resolved.reason)
                continue
            try:
                token = _map_frame(frame, url, resolved, caller_name, errors)
            except _Unmapped as error:
                errors.add(error.kind, url, error.reason)
                continue
            except Exception as error:  # symbolic on a map it accepted but cannot answer for
                errors.add("js_invalid_source", url, f"the frame at line {frame['lineno']} cannot be mapped: {error}")
                continue
            caller_token = token
            mapped += 1
    return mapped


def _looks_minified(frame: dict, url: str) -> bool:
    """A frame worth a "nothing was uploaded" note: one the SDK could not show source lines for, in a file that is
    minified by its name or by a column no hand-written line reaches. An unminified file (a dev server's) is not."""
    if frame.get("context_line"):
        return False
    path = url.split("?", 1)[0].split("#", 1)[0]
    return ".min." in path.rsplit("/", 1)[-1] or frame["colno"] > MINIFIED_COLUMN


def _nothing_uploaded(release: str, dist: str) -> str:
    if not release:
        return "the event names no release and the SDK reported no debug id for this file"
    what = f"release {release}" + (f" (dist {dist})" if dist else "")
    return f"{what} has no uploaded files and the SDK reported no debug id for this file"


def _short_function_name(name) -> str | None:
    """The minified name as the minified source has it: node says `Object.f`, `async a`, `new C`, `x [as y]`."""
    if not isinstance(name, str) or not name or name in ("?", "<anonymous>"):
        return None
    name = _FUNCTION_DECORATION.sub("", name.strip())
    name = name.rpartition(".")[2]
    return name if name and name != "<anonymous>" else None


def display_filename(abs_path: str) -> str:
    """The original file's name as people write it: bundler URLs (webpack://app/./src/a.js) lose their prefix."""
    match = _BUNDLER_URL.match(abs_path)
    if not match:
        return abs_path
    rest = abs_path[match.end() :]
    return rest[2:] if rest.startswith("./") else rest


def _map_frame(frame: dict, url: str, resolved: Resolved, caller_name: str | None, errors: _Errors):
    line, column = frame["lineno"] - 1, frame["colno"] - 1
    minified_name = frame.get("function")
    short_name = _short_function_name(minified_name)
    sourcemap = resolved.sourcemap
    if short_name and resolved.minified is not None:
        token = sourcemap.lookup(line, column, short_name, resolved.minified)
    else:
        token = sourcemap.lookup(line, column)
    if token is None or token.dst_line != line:
        raise _Unmapped(
            "js_invalid_sourcemap_location",
            f"the source map has no mapping for line {frame['lineno']}, column {frame['colno']}",
        )
    source = (token.src or "")[:MAX_NAME_CHARS]
    abs_path = join_url(resolved.map_url, source)[:MAX_NAME_CHARS] if source else url

    minified = {
        key: frame[key] for key in ("abs_path", "filename", "function", "module", "lineno", "colno") if key in frame
    }
    frame_data = frame.get("data") if isinstance(frame.get("data"), dict) else {}
    frame["data"] = {
        **frame_data,
        "symbolicated": True,
        "resolved_with": resolved.resolved_with,
        "sourcemap": "(inline)" if resolved.inline else resolved.map_url,
        "minified": minified,
    }
    frame["abs_path"] = abs_path
    frame["filename"] = display_filename(abs_path)
    frame.pop("module", None)  # derived from the minified file's name; the original file says it better
    frame["lineno"] = token.src_line + 1
    frame["colno"] = token.src_col + 1
    function = token.function_name or caller_name
    if function:
        frame["function"] = function[:MAX_NAME_CHARS]
    if _LIBRARY.search(abs_path):
        frame["in_app"] = False
    for key in ("pre_context", "context_line", "post_context"):
        frame.pop(key, None)  # the minified file's lines, not the original's
    view = sourcemap.get_sourceview(token.src_id) if token.src_id is not None else None
    if view is None:
        errors.add(
            "js_missing_sources_content",
            abs_path,
            f"the source map has no sourcesContent for {source or abs_path}: the original lines cannot be shown",
        )
    else:
        _set_context(frame, view, token.src_line)
    return token


def _set_context(frame: dict, view, line: int) -> None:
    count = len(view)
    if line >= count:
        return

    def cut(text: str) -> str:
        return text if len(text) <= MAX_CONTEXT_LINE_CHARS else text[:MAX_CONTEXT_LINE_CHARS] + "…"

    frame["pre_context"] = [cut(text) for text in view[max(0, line - CONTEXT_LINES) : line]]
    frame["context_line"] = cut(view[line])
    frame["post_context"] = [cut(text) for text in view[line + 1 : min(count, line + 1 + CONTEXT_LINES)]]
