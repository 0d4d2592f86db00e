"""Pure functions that turn a stored (normalized) event into structures the issue page's templates can loop over.

Stored events went through `digest.normalize`, but that is tolerant rather than strict, and events stored by older
code may differ: anything here may be missing, null, or of an unexpected type, and every function must still
return something renderable. Nothing here touches the database.

Display conventions:
- exceptions: the raised one first (the stored chain is oldest first), its causes below;
- frames: innermost first (the stored frames are outermost first, the crashing frame last);
- values: strings as they are, everything else as (pretty) JSON, long texts cut at MAX_VALUE_CHARS.
"""

import re
from datetime import datetime

from bugsink.bidi import visible_controls
from events import safe
from events.filenames import short_filename
from events.levels import LEVELS
from events.scrub import MARKER_KEY
from tags.extract import NOT_INDEXED_KEY, event_tags

MAX_VALUE_CHARS = safe.MAX_TEXT_CHARS
MAX_LINE_CHARS = 400  # minified JavaScript has "lines" of a megabyte; show a window around the column
MAX_FRAMES = 500  # per stack; the rest is summarized, the raw JSON has everything
MAX_CONTEXT_LINES = 50  # source lines shown before and after a frame's line (SDKs send 5)

# contexts in the order people look for them; others follow alphabetically
KNOWN_CONTEXTS = ("browser", "os", "client_os", "runtime", "device", "app", "gpu", "culture", "trace", "response")
CONTEXT_TITLES = {
    "os": "OS",
    "client_os": "Client OS",
    "gpu": "GPU",
    "app": "App",
    "trace": "Trace",
}

# top-level keys that have their own place on the page; the rest goes to "Other data"
SHOWN_KEYS = {
    "event_id",
    "timestamp",
    "received",
    "start_timestamp",
    "level",
    "platform",
    "release",
    "dist",
    "environment",
    "server_name",
    "logger",
    "transaction",
    "culprit",
    "fingerprint",
    "tags",
    "exception",
    "threads",
    "stacktrace",
    "breadcrumbs",
    "logentry",
    "message",
    "user",
    "request",
    "contexts",
    "extra",
    "modules",
    "sdk",
    "type",
    "project",
    MARKER_KEY,  # shown above the event (issues/_event_scrubbed.html)
    NOT_INDEXED_KEY,  # shown above the event (issues/_event_nav.html)
    "errors",
}
_TAG_KEY = re.compile(r"^[\w.\-]+$")


# --- values -----------------------------------------------------------------------------------------------------
# Every value a template shows goes through to_text/display (text) or to_int/to_datetime (numbers, moments), which
# are the total conversions of events.safe: they never raise and never return text that cannot be encoded.

truncate = safe.truncate


def to_text(value) -> str:
    """One line of text for a value that should be a string: '' for None, compact JSON for containers."""
    return safe.safe_text(value)


def display(value) -> str:
    """A value as shown in a key/value list: strings as they are, containers as indented JSON."""
    if value is None:
        return "null"
    if isinstance(value, dict | list | tuple):
        return truncate(safe.safe_json(value, indent=2))
    return to_text(value)


MAX_TOKEN_CHARS = 128  # ids and hashes (a trace_id is 32 hex digits, a SHA-256 64) are tokens up to this length
WIDE_TOKEN_CHARS = 16  # a longer token gets the row's whole width


def field(key, value, **extra) -> dict:
    """One row of a key/value list (`dl.kv`): {key, value, multiline, token, wide, time?}. A `token` is one word
    without spaces (an id, a hash, a version). A short one stays beside its key on one line; a `wide` one (longer
    than WIDE_TOKEN_CHARS: a trace_id, a hash) goes under its key, across the row's whole width, where it is shown
    whole (breaking only when it is wider than the card), never cut or scrolled out of sight in a narrow value
    column."""
    text = display(value)
    token = 0 < len(text) <= MAX_TOKEN_CHARS and not any(c.isspace() for c in text)
    wide = token and len(text) > WIDE_TOKEN_CHARS
    return {"key": to_text(key), "value": text, "multiline": "\n" in text, "token": token, "wide": wide, **extra}


def time_field(key, value) -> dict | None:
    """A row with a datetime (`time`) the template shows in the user's time zone, or None when unparseable."""
    when = to_datetime(value)
    if when is None:
        return field(key, value) if value not in (None, "") else None
    return {"key": key, "value": when.isoformat(), "multiline": False, "time": when}


def to_datetime(value) -> datetime | None:
    return safe.safe_datetime(value)


def to_int(value) -> int | None:
    """An integer from event data (line and column numbers, ids): ASCII digits only, within a browser's exact
    range; None otherwise."""
    return safe.safe_int(value)


def as_pairs(value) -> list[tuple[str, object]] | None:
    """(key, value) pairs of a dict or of a list of 2-item lists (headers, cookies, tags); None for other shapes."""
    if isinstance(value, dict):
        return [(to_text(k), v) for k, v in value.items()]
    if isinstance(value, list | tuple):
        pairs = []
        for item in value:
            if isinstance(item, list | tuple) and len(item) == 2:
                pairs.append((to_text(item[0]), item[1]))
            else:
                return None
        return pairs
    return None


def fields_of(value, order: tuple = (), skip: tuple = ()) -> list[dict]:
    """Key/value rows for a mapping (keys in `order` first); a non-mapping becomes one row."""
    pairs = as_pairs(value)
    if pairs is None:
        return [] if value in (None, "", [], {}) else [field("value", value)]
    rank = {key: i for i, key in enumerate(order)}
    pairs = [(k, v) for k, v in pairs if k not in skip]
    pairs.sort(key=lambda kv: rank.get(kv[0], len(rank)))
    return [field(k, v) for k, v in pairs]


def level_of(value) -> str:
    """A known level (safe as a CSS class suffix), or ''."""
    level = to_text(value).strip().lower()
    level = {"warn": "warning", "critical": "fatal", "err": "error", "log": "info"}.get(level, level)
    return level if level in LEVELS else ""


# --- stack traces -----------------------------------------------------------------------------------------------


def _cut_line(text: str, column: int | None) -> str:
    if len(text) <= MAX_LINE_CHARS:
        return text
    if column and column > MAX_LINE_CHARS // 2:
        start = max(0, column - MAX_LINE_CHARS // 2)
        window = text[start : start + MAX_LINE_CHARS]
        return f"…{window}…" if start + MAX_LINE_CHARS < len(text) else f"…{window}"
    return f"{text[:MAX_LINE_CHARS]}…"


def context_lines(frame: dict) -> list[dict]:
    """Source around the frame's line: [{lineno, text, current}], numbered when the frame has a line number."""
    lineno = to_int(frame.get("lineno"))
    colno = to_int(frame.get("colno"))
    pre = frame.get("pre_context") if isinstance(frame.get("pre_context"), list) else []
    post = frame.get("post_context") if isinstance(frame.get("post_context"), list) else []
    pre, post = pre[-MAX_CONTEXT_LINES:], post[:MAX_CONTEXT_LINES]  # the lines nearest the frame's line
    current = frame.get("context_line")
    if current is None and not pre and not post:
        return []
    lines = []
    for i, text in enumerate(pre):
        number = lineno - len(pre) + i if lineno is not None else None
        lines.append({"lineno": number, "text": _cut_line(to_text(text), None), "current": False})
    if current is not None:
        lines.append({"lineno": lineno, "text": _cut_line(to_text(current), colno), "current": True})
    for i, text in enumerate(post):
        number = lineno + 1 + i if lineno is not None else None
        lines.append({"lineno": number, "text": _cut_line(to_text(text), None), "current": False})
    return lines


# --- local variables ----------------------------------------------------------------------------------------------
# SDKs serialize a frame's locals themselves: the Python SDK sends every leaf as the repr it made ("'abc'" for a str,
# "42" for an int, "None"), inside real JSON lists and objects for lists, tuples and dicts. Showing those as JSON
# would quote each repr once more (["1","2","3"] for [1, 2, 3]); instead leaves are shown verbatim and containers
# as a tree, with a one-line preview in the same notation. Other SDKs send JSON scalars (null, true, 3): those are
# shown as JSON.

MAX_VAR_DEPTH = 10  # deeper containers are shown as one line of JSON (the SDKs stop well before)
MAX_VAR_ITEMS = 200  # per container; the rest is counted ("… 12 more"), the raw JSON has them
MAX_PREVIEW_CHARS = 100
# a leaf longer than this (or of more lines) is shown cut to a few lines, with a "Show more" toggle (static/js/issue.js)
LONG_VALUE_CHARS = 300
LONG_VALUE_LINES = 6


def _var_leaf(value) -> str:
    if isinstance(value, str):
        return truncate(safe.clean_str(value))
    return truncate(safe.safe_json(value))


def _preview(value, budget: int = MAX_PREVIEW_CHARS, depth: int = 0) -> str:
    """A container in one line, in the SDK's notation: [1, 2, 3] and {id: 1042, total: '129.90'}; cut with … once
    it is longer than `budget`."""
    if isinstance(value, dict | list | tuple) and depth >= MAX_VAR_DEPTH:
        return "…"
    if isinstance(value, dict):
        parts = (f"{to_text(k)}: {_preview(v, budget, depth + 1)}" for k, v in value.items())
        opening, closing = "{", "}"
    elif isinstance(value, list | tuple):
        parts, opening, closing = (_preview(v, budget, depth + 1) for v in value), "[", "]"
    else:
        text = _var_leaf(value)
        return text if len(text) <= budget else text[: budget - 1] + "…"
    text = opening
    for n, part in enumerate(parts):
        text += (", " if n else "") + part
        if len(text) > budget:
            return text[: budget - 1] + "…" + closing
    return text + closing


def var_node(value, depth: int = 0) -> dict:
    """A local variable's value as a tree for the template (issues/_event_var.html): a leaf is {text}, a container
    {kind: "list"|"dict", preview, count, children: [{key, value: node}], more}."""
    if not isinstance(value, dict | list | tuple):
        return _leaf_node(_var_leaf(value))
    if depth >= MAX_VAR_DEPTH:
        return _leaf_node(truncate(safe.safe_json(value)))
    pairs = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
    return {
        "kind": "dict" if isinstance(value, dict) else "list",
        "preview": _preview(value),
        "count": len(pairs),
        "children": [{"key": to_text(k), "value": var_node(v, depth + 1)} for k, v in pairs[:MAX_VAR_ITEMS]],
        "more": max(0, len(pairs) - MAX_VAR_ITEMS),
    }


def _leaf_node(text: str) -> dict:
    """{text} and, for a wall of text (LONG_VALUE_CHARS, LONG_VALUE_LINES), `long`: shown cut with a toggle."""
    if len(text) > LONG_VALUE_CHARS or text.count("\n") >= LONG_VALUE_LINES:
        return {"text": text, "long": True}
    return {"text": text}


def vars_view(variables) -> list[dict]:
    """A frame's locals as [{key, value: var_node}], in the order the SDK sent them; [] for anything but an object."""
    if not isinstance(variables, dict):
        return []
    return [{"key": to_text(k), "value": var_node(v)} for k, v in variables.items()]


def frame_view(frame: dict) -> dict:
    full_name = to_text(frame.get("filename")) or to_text(frame.get("abs_path"))
    filename = short_filename(full_name)  # relative to its origin; the full URL stays in the tooltip
    abs_path = to_text(frame.get("abs_path")) or full_name
    module = to_text(frame.get("module"))
    package = to_text(frame.get("package"))
    function = to_text(frame.get("function")) or to_text(frame.get("raw_function")) or to_text(frame.get("symbol"))
    lineno = to_int(frame.get("lineno"))
    colno = to_int(frame.get("colno"))
    variables = frame.get("vars")
    where = filename or module or package
    return {
        "minified": minified_view(frame),
        "filename": filename,
        "abs_path": abs_path if abs_path and abs_path != filename else "",
        "module": module if module and module != where else "",
        "package": package if package and package != where else "",
        "where": where or "<unknown>",
        "function": function,
        "lineno": lineno,
        "colno": colno,
        "address": to_text(frame.get("instruction_addr")),
        "in_app": frame.get("in_app") is True,
        "context": context_lines(frame),
        "vars": vars_view(variables),
        "is_crash": False,
        "vars_open": False,
    }


def minified_view(frame: dict) -> dict | None:
    """Where a symbolicated frame was in the minified file (digest.symbolicate keeps it in data.minified), for the
    toggle under the frame; None for a frame as the SDK sent it."""
    data = frame.get("data")
    minified = data.get("minified") if isinstance(data, dict) else None
    if not isinstance(minified, dict):
        return None
    where = to_text(minified.get("abs_path")) or to_text(minified.get("filename"))
    return {
        "where": short_filename(where) or "<unknown>",
        "full_where": where,
        "function": to_text(minified.get("function")),
        "lineno": to_int(minified.get("lineno")),
        "colno": to_int(minified.get("colno")),
        "sourcemap": to_text(data.get("sourcemap")),
        "resolved_with": to_text(data.get("resolved_with")),
    }


PROCESSING_ERROR_TITLES = {
    "js_no_uploads": "Nothing uploaded for this file",
    "js_no_source": "No source map found",
    "js_missing_source": "Source map not uploaded",
    "js_invalid_source": "Unreadable source map",
    "js_too_large": "Source map too large",
    "js_invalid_sourcemap_location": "Position not in the source map",
    "js_missing_sources_content": "Source map without sources",
    "js_too_many_frames": "Too many frames",
    "js_symbolication_failed": "Symbolication failed",
}
MAX_PROCESSING_ERRORS = 50

# what to do about each kind, {release} being the event's (or a placeholder); shown under the reason
PROCESSING_ERROR_HINTS = {
    "js_no_uploads": "Upload the build's files and maps: sentry-cli sourcemaps inject ./dist, then "
    "sentry-cli sourcemaps upload --release {release} ./dist (or a bundler plugin such as @sentry/vite-plugin).",
    "js_no_source": "Upload the minified file and its map from the build that served it: sentry-cli sourcemaps "
    "upload --release {release} ./dist; with debug ids, run sentry-cli sourcemaps inject on that build first.",
    "js_missing_source": "The minified file was uploaded but the map it names was not: upload the .map files too.",
    "js_invalid_source": "The uploaded file is there but cannot be read: upload the map your bundler wrote again.",
    "js_invalid_sourcemap_location": "The map does not describe this position: it is likely from another build of "
    "the file. Upload the map of the build that is deployed.",
    "js_missing_sources_content": "Build with sourcesContent in the map (most bundlers' default) to see the lines.",
    "js_too_large": "Raise SOURCEMAP_MAX_BYTES or split the bundle.",
}


def processing_errors_view(data: dict) -> list[dict]:
    """Why frames are not (fully) mapped to their original source: the event's `errors` ({type, data: {url,
    reason}}, as digest.symbolicate records them; other producers put url and reason at the top level)."""
    errors = data.get("errors")
    release = truncate(to_text(data.get("release"))) or "<release>"
    rows = []
    for entry in errors[:MAX_PROCESSING_ERRORS] if isinstance(errors, list) else []:
        if not isinstance(entry, dict) or entry.get("type") == "invalid_data":
            continue  # a value dropped as invalid is said above the event (invalid_data_notes)
        details = entry.get("data") if isinstance(entry.get("data"), dict) else entry
        kind = to_text(entry.get("type"))
        url = to_text(details.get("url"))
        rows.append(
            {
                "type": kind,
                "title": PROCESSING_ERROR_TITLES.get(kind, kind.replace("_", " ").capitalize() or "Error"),
                "url": truncate(short_filename(url)),
                "full_url": truncate(url),
                "reason": truncate(to_text(details.get("reason") or details.get("message"))),
                "hint": PROCESSING_ERROR_HINTS.get(kind, "").replace("{release}", release),
            }
        )
    return rows


INVALID_DATA_NAMES = {"release": "release"}


def invalid_data_notes(data: dict) -> list[str]:
    """What digest dropped from the event as invalid (digest.normalize: a release that breaks the naming rules), one
    sentence each, the value as it was sent with its invisible characters shown (bugsink.bidi)."""
    errors = data.get("errors") if isinstance(data, dict) else None
    notes = []
    for entry in errors[:MAX_PROCESSING_ERRORS] if isinstance(errors, list) else []:
        if not isinstance(entry, dict) or entry.get("type") != "invalid_data":
            continue
        name = to_text(entry.get("name"))
        what = f"The {INVALID_DATA_NAMES[name]}" if name in INVALID_DATA_NAMES else f"The value of {truncate(name)}"
        value = visible_controls(truncate(to_text(entry.get("value"))))
        reason = truncate(to_text(entry.get("reason")))
        notes.append(f"{what} “{value}” was dropped: {reason}." if reason else f"{what} “{value}” was dropped.")
    return notes


def frames_view(frames: list, in_app_only: bool = False, crashed: bool = True, removed=None) -> dict:
    """Frames innermost first; with `in_app_only`, runs of library frames become {"gap": n} entries (unless the
    stack has no in-app frame at all: then there is nothing better to show than all of them). `crashed` marks the
    innermost frame as where it crashed (the raised exception's stack, the crashed thread's). `removed` is the
    stack's `frames_omitted` ([start, end] of the frames taken out of its middle, by the SDK or by digest.trim):
    a {"removed": n} entry stands where they were."""
    frames = [f for f in frames if isinstance(f, dict)]
    omitted = max(0, len(frames) - MAX_FRAMES)
    views = [frame_view(f) for f in frames[omitted:]]  # the innermost MAX_FRAMES, built only those
    gap_at, removed_count = _removed_range(removed, len(frames))
    if removed_count and gap_at > omitted:
        views[gap_at - omitted]["removed_before"] = removed_count
    views.reverse()
    if views and crashed:
        views[0]["is_crash"] = True
        # the locals shown opened: those of the frame the exception was raised in, the innermost in-app frame (the
        # innermost frame when none is in-app); the others' start collapsed
        raised_in = next((v for v in views if v["in_app"]), views[0])
        raised_in["vars_open"] = True
    in_app_count = sum(1 for v in views if v["in_app"])
    collapse = in_app_only and in_app_count > 0
    entries: list[dict] = []
    for view in views:
        if collapse and not view["in_app"]:
            if entries and "gap" in entries[-1]:
                entries[-1]["gap"] += 1
            else:
                entries.append({"gap": 1})
        else:
            # what the frame shows opened: the crashing frame, and in-app frames that have something to show
            view["open"] = (
                view is views[0] or view["vars_open"] or (view["in_app"] and bool(view["context"] or view["vars"]))
            )
            entries.append({"frame": view})
        if view.get("removed_before"):
            entries.append({"removed": view["removed_before"]})
    return {
        "entries": entries,
        "count": len(views),
        "in_app_count": in_app_count,
        "library_count": len(views) - in_app_count,
        "omitted": omitted,
    }


def _removed_range(removed, frame_count: int) -> tuple[int, int]:
    """(index of the first frame after the removed ones, how many were removed) from a `frames_omitted` pair; (0, 0)
    when there is none or it makes no sense for this stack."""
    if not isinstance(removed, list) or len(removed) != 2:
        return 0, 0
    start, end = to_int(removed[0]), to_int(removed[1])
    if start is None or end is None or not 0 < start < frame_count or end <= start:
        return 0, 0
    return start, end - start


def _removed_of(container: dict):
    stacktrace = container.get("stacktrace")
    return stacktrace.get("frames_omitted") if isinstance(stacktrace, dict) else None


def _frames_of(container: dict) -> list:
    stacktrace = container.get("stacktrace")
    if not isinstance(stacktrace, dict):
        return []
    frames = stacktrace.get("frames")
    return frames if isinstance(frames, list) else []


def mechanism_view(mechanism) -> dict | None:
    if not isinstance(mechanism, dict):
        return None
    handled = mechanism.get("handled")
    return {
        "type": to_text(mechanism.get("type")),
        "handled": handled if isinstance(handled, bool) else None,
        "description": to_text(mechanism.get("description")),
        "help_link": to_text(mechanism.get("help_link")),
        "synthetic": mechanism.get("synthetic") is True,
        "is_exception_group": mechanism.get("is_exception_group") is True,
        "exception_id": to_int(mechanism.get("exception_id")),
        "parent_id": to_int(mechanism.get("parent_id")),
        "source": to_text(mechanism.get("source")),
    }


def exceptions_view(data: dict, in_app_only: bool = False) -> list[dict]:
    """The exception chain, the raised exception first and its causes below it."""
    chain = safe.values_of(data.get("exception"))
    result = []
    for position, exc in enumerate(reversed(chain)):
        result.append(
            {
                "type": to_text(exc.get("type")),
                "value": truncate(to_text(exc.get("value"))),
                "module": to_text(exc.get("module")),
                "mechanism": mechanism_view(exc.get("mechanism")),
                "thread_id": to_text(exc.get("thread_id")),
                "raised": position == 0,
                "relation": "",
                "stack": frames_view(_frames_of(exc), in_app_only, crashed=position == 0, removed=_removed_of(exc)),
            }
        )
    # how each exception below the raised one relates to the ones above: a member of an exception group (its
    # mechanism's parent_id names a group), or a cause / the exception being handled
    groups = {
        e["mechanism"]["exception_id"]
        for e in result
        if e["mechanism"] and e["mechanism"]["is_exception_group"] and e["mechanism"]["exception_id"] is not None
    }
    for exc in result[1:]:
        parent = exc["mechanism"]["parent_id"] if exc["mechanism"] else None
        exc["relation"] = "group" if parent is not None and parent in groups else "cause"
    return result


def threads_view(data: dict, in_app_only: bool = False) -> list[dict]:
    """Threads, the crashed one first, then the current one, then the others in the order sent."""
    threads = []
    for index, thread in enumerate(safe.values_of(data.get("threads"))):
        threads.append(
            {
                "id": to_text(thread.get("id")),
                "name": to_text(thread.get("name")),
                "crashed": thread.get("crashed") is True,
                "current": thread.get("current") is True,
                "main": thread.get("main") is True,
                "state": to_text(thread.get("state")),
                "stack": frames_view(
                    _frames_of(thread), in_app_only, crashed=thread.get("crashed") is True, removed=_removed_of(thread)
                ),
                "index": index,
            }
        )
    threads.sort(key=lambda t: (not t["crashed"], not t["current"], t["index"]))
    for position, thread in enumerate(threads):
        thread["open"] = position == 0
    return threads


def message_view(data: dict) -> dict | None:
    """The log message: {formatted, template (when it differs), params (rows)}, or None."""
    logentry = data.get("logentry")
    formatted = template = ""
    params = None
    if isinstance(logentry, dict):
        formatted = to_text(logentry.get("formatted"))
        template = to_text(logentry.get("message"))
        params = logentry.get("params")
    elif isinstance(logentry, str):
        formatted = logentry
    message = data.get("message")
    if isinstance(message, dict):
        formatted = formatted or to_text(message.get("formatted"))
        template = template or to_text(message.get("message"))
        params = params if params is not None else message.get("params")
    elif message is not None and not formatted:
        formatted = to_text(message)
    if not formatted and not template:
        return None
    if isinstance(params, list | tuple):
        param_rows = [field(str(i + 1), p) for i, p in enumerate(params)]
    elif isinstance(params, dict):
        param_rows = [field(k, v) for k, v in params.items()]
    elif params not in (None, ""):
        param_rows = [field("1", params)]
    else:
        param_rows = []
    shown = formatted or template
    return {
        "formatted": truncate(shown),
        "template": truncate(template) if template and template != shown else "",
        "params": param_rows,
    }


def stacktrace_view(data, in_app_only: bool = False) -> dict:
    """Everything the stack trace tab shows."""
    data = data if isinstance(data, dict) else {}
    exceptions = exceptions_view(data, in_app_only)
    threads = threads_view(data, in_app_only)
    # legacy events carry a bare top-level stacktrace (raven's captureMessage with stack)
    top_level = (
        frames_view(_frames_of(data), in_app_only, removed=_removed_of(data))
        if isinstance(data.get("stacktrace"), dict)
        else None
    )
    stacks = [e["stack"] for e in exceptions] + [t["stack"] for t in threads] + ([top_level] if top_level else [])
    return {
        "exceptions": exceptions,
        "threads": threads,
        "stacktrace": top_level if top_level and top_level["count"] else None,
        "message": message_view(data),
        "processing_errors": processing_errors_view(data),
        "has_in_app": any(s["in_app_count"] for s in stacks),
        "has_library": any(s["library_count"] for s in stacks),
        "frame_count": sum(s["count"] for s in stacks),
    }


# --- details ----------------------------------------------------------------------------------------------------


def _section(key: str, title: str, fields=(), groups=(), collapsed: bool = False, text: str = "") -> dict:
    return {
        "id": key,
        "title": title,
        "fields": [f for f in fields if f],
        "groups": [g for g in groups if g["fields"]],
        "collapsed": collapsed,
        "text": text,
    }


def _non_empty(section: dict) -> bool:
    return bool(section["fields"] or section["groups"] or section["text"])


def event_fields(data: dict) -> list[dict]:
    rows = [
        field("Event ID", data.get("event_id")) if data.get("event_id") else None,
        time_field("Occurred", data.get("timestamp")),
        time_field("Received", data.get("received")),
    ]
    for key, label in (
        ("level", "Level"),
        ("platform", "Platform"),
        ("release", "Release"),
        ("dist", "Distribution"),
        ("environment", "Environment"),
        ("server_name", "Server"),
        ("logger", "Logger"),
        ("transaction", "Transaction"),
        ("culprit", "Culprit"),
    ):
        if data.get(key) not in (None, ""):
            # names whose identity matters show their invisible characters (bugsink.bidi)
            value = visible_controls(to_text(data[key])) if key in ("release", "environment") else data[key]
            rows.append(field(label, value))
    fingerprint = data.get("fingerprint")
    if fingerprint not in (None, [], ""):
        rows.append(
            field("Fingerprint", ", ".join(map(to_text, fingerprint)) if isinstance(fingerprint, list) else fingerprint)
        )
    return [r for r in rows if r]


def request_section(request) -> dict:
    if not isinstance(request, dict):
        return _section("request", "Request", [field("request", request)] if request not in (None, "") else [])
    fields = []
    method = to_text(request.get("method")).upper()
    url = to_text(request.get("url"))
    if method or url:
        fields.append({"key": "URL", "value": f"{method} {url}".strip(), "multiline": False, "mono": True})
    query = request.get("query_string")
    if query not in (None, "", [], {}):
        pairs = as_pairs(query)
        if pairs is not None and not isinstance(query, str):
            query = "&".join(f"{k}={to_text(v)}" for k, v in pairs)
        fields.append(field("Query string", query))
    for key, label in (("data", "Body"), ("fragment", "Fragment"), ("api_target", "API target")):
        if request.get(key) not in (None, "", [], {}):
            fields.append(field(label, request[key]))
    cookies = request.get("cookies")
    groups = [{"title": "Headers", "fields": fields_of(request.get("headers"))}]
    if isinstance(cookies, str):
        groups.append({"title": "Cookies", "fields": [field(k.strip(), v) for k, _, v in _split_cookies(cookies)]})
    else:
        groups.append({"title": "Cookies", "fields": fields_of(cookies)})
    groups.append({"title": "Environment", "fields": fields_of(request.get("env"))})
    known = {"method", "url", "query_string", "data", "fragment", "api_target", "cookies", "headers", "env"}
    others = [field(k, v) for k, v in request.items() if k not in known and v not in (None, "", [], {})]
    return _section("request", "Request", fields + others, groups)


def _split_cookies(text: str):
    for part in text.split(";"):
        if part.strip():
            yield part.partition("=")


def contexts_section(contexts) -> dict:
    if not isinstance(contexts, dict):
        return _section("contexts", "Contexts")
    names = [n for n in KNOWN_CONTEXTS if n in contexts]
    names += sorted((n for n in contexts if n not in KNOWN_CONTEXTS), key=str)
    groups = []
    for name in names:
        context = contexts[name]
        title = CONTEXT_TITLES.get(name, to_text(name).replace("_", " ").capitalize())
        fields = fields_of(context, order=("name", "version", "raw_description", "model", "family"), skip=("type",))
        groups.append({"title": title, "fields": fields})
    return _section("contexts", "Contexts", groups=groups)


def sdk_section(sdk) -> dict:
    if not isinstance(sdk, dict):
        return _section("sdk", "SDK")
    fields = [field("Name", sdk["name"]) if sdk.get("name") else None]
    fields.append(field("Version", sdk["version"]) if sdk.get("version") else None)
    integrations = sdk.get("integrations")
    if isinstance(integrations, list) and integrations:
        fields.append(field("Integrations", ", ".join(to_text(i) for i in integrations)))
    packages = sdk.get("packages")
    if isinstance(packages, list) and packages:
        lines = [
            f"{to_text(p.get('name'))} {to_text(p.get('version'))}".strip() if isinstance(p, dict) else to_text(p)
            for p in packages
        ]
        fields.append(field("Packages", "\n".join(lines)))
    known = {"name", "version", "integrations", "packages"}
    fields += [field(k, v) for k, v in sdk.items() if k not in known and v not in (None, "", [], {})]
    return _section("sdk", "SDK", fields)


def tag_rows(data: dict) -> list[dict]:
    """The event's tags as indexed (see tags.extract), with the search query that finds events like it."""
    try:
        tags = event_tags(data)
    except Exception:  # an event that even the tag extractor cannot read has no tags worth showing
        tags = {}
    return [{"key": key, "value": value, "query": tag_query(key, value)} for key, value in sorted(tags.items())]


def tag_query(key: str, value: str) -> str:
    """The search (tags.search syntax) for events with this tag value; '' when the syntax cannot express it."""
    if not _TAG_KEY.match(key) or '"' in value:
        return ""
    return f'{key}:"{value}"' if (not value or any(c.isspace() for c in value)) else f"{key}:{value}"


def details_view(data) -> dict:
    """The details tab: {message, sections: [{id, title, fields, groups, collapsed}], tags}."""
    data = data if isinstance(data, dict) else {}
    user = data.get("user")
    sections = [
        _section("event", "Event", event_fields(data)),
        request_section(data.get("request")) if "request" in data else _section("request", "Request"),
        _section(
            "user", "User", fields_of(user, order=("id", "email", "username", "name", "ip_address", "geo", "segment"))
        ),
        contexts_section(data.get("contexts")),
        sdk_section(data.get("sdk")),
        _section("extra", "Extra", fields_of(data.get("extra"))),
    ]
    modules = data.get("modules")
    module_pairs = as_pairs(modules) or []
    sections.append(
        _section(
            "modules",
            f"Modules ({len(module_pairs)})",
            [field(k, v) for k, v in sorted(module_pairs, key=lambda kv: kv[0].lower())],
            collapsed=True,
        )
    )
    others = {k: v for k, v in data.items() if k not in SHOWN_KEYS and v not in (None, "", [], {})}
    sections.append(_section("other", "Other data", [field(k, v) for k, v in sorted(others.items())], collapsed=True))
    return {"message": message_view(data), "sections": [s for s in sections if _non_empty(s)], "tags": tag_rows(data)}


# --- the issue header -------------------------------------------------------------------------------------------

MAX_LOGGER_CHARS = 200


def event_logger(data) -> str:
    """The logger an event names (`logger`), as one short line for the issue header: a log message has no culprit,
    and the logger is what says where it came from. '' when the event names none."""
    data = data if isinstance(data, dict) else {}
    name = " ".join(to_text(data.get("logger")).split()) if data.get("logger") not in (None, "") else ""
    return name if len(name) <= MAX_LOGGER_CHARS else name[: MAX_LOGGER_CHARS - 1] + "…"


# --- breadcrumbs ------------------------------------------------------------------------------------------------


HTTP_CRUMB_CATEGORIES = {"http", "xhr", "fetch", "httplib", "requests", "urllib3", "aiohttp", "httpx"}
QUERY_CRUMB_CATEGORIES = {"query", "sql", "db", "db.query", "db.sql.query", "redis"}
MAX_SUMMARY_CHARS = 300  # one line in the table; the full message and data stay one click away
# Where an HTTP crumb keeps its method, URL and status, first match wins: the keys Python sentry-sdk 2.x and the
# JavaScript SDKs use, then the OpenTelemetry-style names sentry-sdk 3.x uses (`http.method` was its predecessor).
HTTP_CRUMB_KEYS = {
    "method": ("method", "http.request.method", "http.method"),
    "url": ("url", "url.full"),
    "status": ("status_code", "http.response.status_code"),
}


def _crumb_text(value) -> str:
    """A breadcrumb data value as one line ('' for nothing); strings as they are, containers as compact JSON."""
    if value in (None, "", [], {}):
        return ""
    return " ".join(to_text(value).split())


def _crumb_field(payload: dict, keys: tuple[str, ...]) -> str:
    """The first of `keys` that holds something, as one line ('' when none does)."""
    for key in keys:
        text = _crumb_text(payload.get(key))
        if text:
            return text
    return ""


def breadcrumb_summary(crumb: dict) -> str:
    """One line that says what a breadcrumb was, built from its data where the SDK left the message empty: an HTTP
    request as "POST /pay [502]", a navigation as "from → to", a query as its SQL, a log line as its message. SDKs
    put these in `data` (url, method, status_code in either naming, HTTP_CRUMB_KEYS; from, to, query, arguments),
    and anyone with a DSN can put anything there, so every value is read through the total conversions and the
    result is cut to one line."""
    payload = crumb.get("data")
    payload = payload if isinstance(payload, dict) else {}
    kind = _crumb_text(crumb.get("type")).lower()
    category = _crumb_text(crumb.get("category")).lower()
    message = _crumb_text(crumb.get("message"))
    summary = ""
    if kind == "http" or category in HTTP_CRUMB_CATEGORIES:
        method = _crumb_field(payload, HTTP_CRUMB_KEYS["method"]).upper()
        url = _crumb_field(payload, HTTP_CRUMB_KEYS["url"])
        status = _crumb_field(payload, HTTP_CRUMB_KEYS["status"])
        reason = _crumb_text(payload.get("reason"))
        parts = [part for part in (method, url or message) if part]
        if status:
            parts.append(f"[{status}{' ' + reason if reason else ''}]")
        summary = " ".join(parts)
    elif kind == "navigation" or category == "navigation":
        origin, target = _crumb_text(payload.get("from")), _crumb_text(payload.get("to"))
        if origin or target:
            summary = f"{origin or '?'} → {target or '?'}"
    elif kind == "query" or category in QUERY_CRUMB_CATEGORIES:
        summary = message or _crumb_text(payload.get("query") or payload.get("sql") or payload.get("statement"))
    if not summary and not message:
        # log categories (console, logging, a logger's name): the message, else what was passed to the logger
        arguments = payload.get("arguments")
        if isinstance(arguments, list):
            summary = " ".join(_crumb_text(argument) for argument in arguments[:20] if argument is not None)
        summary = summary or _crumb_text(payload.get("message") or payload.get("msg"))
    summary = summary or message
    return summary if len(summary) <= MAX_SUMMARY_CHARS else summary[: MAX_SUMMARY_CHARS - 1] + "…"


def breadcrumbs_view(data, event_time: datetime | None = None) -> list[dict]:
    """Breadcrumbs in the order they happened, each with its offset to the event (seconds, negative = before)."""
    data = data if isinstance(data, dict) else {}
    crumbs = []
    for crumb in safe.values_of(data.get("breadcrumbs")):
        when = to_datetime(crumb.get("timestamp"))
        message = to_text(crumb.get("message"))
        payload = crumb.get("data")
        extra = display(payload) if payload not in (None, "", [], {}) else ""
        offset = (when - event_time).total_seconds() if when and event_time else None
        summary = breadcrumb_summary(crumb)
        crumbs.append(
            {
                "time": when,
                "offset": f"{offset:+.1f}s" if offset is not None and abs(offset) < 86400 else "",
                "category": to_text(crumb.get("category")),
                "type": to_text(crumb.get("type")),
                "level": level_of(crumb.get("level")),
                "level_text": to_text(crumb.get("level")),
                "message": truncate(message),
                "summary": summary,
                # the message on its own line only where the summary does not already say it (an HTTP crumb's text)
                "message_apart": bool(message.strip()) and " ".join(message.split()) not in summary,
                "data": extra,
                "data_multiline": "\n" in extra or len(extra) > 120,
            }
        )
    return crumbs


def pretty_json(data) -> str:
    """The whole event, indented, for the raw view and the download: always valid JSON (no NaN or Infinity) and
    always encodable as UTF-8 (see events.safe.sanitize)."""
    return safe.safe_json(data, indent=2)


def raw_json(stored_text) -> str:
    """What the raw view and the download serve for an Event.data_json: the event indented (pretty_json); text that
    does not read as a JSON object (or is nested too deep to read) as it is stored, since that is all there is."""
    data = safe.load_event_json(stored_text)
    if data or not isinstance(stored_text, str) or stored_text.strip() in ("", "{}"):
        return safe.dumps_sanitized(data, indent=2)  # sanitized by the loader already
    return safe.clean_str(stored_text)
