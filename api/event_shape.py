"""Sentry's JSON shape of an event, from what an SDK sent (Event.data_json).

Stored events hold whatever anyone with the DSN sent, and older versions stored them less normalized than today's
digest does (see events.safe). So the event is read with events.safe.load_event_json (sanitized: no NaN, no lone
surrogates, nesting bounded) and every field is taken only in the shape Sentry's clients expect: a string where a
string belongs (else null), a list of dicts where entries belong (else nothing), numbers through safe_int. The
tags are those the search indexes (tags.extract, as the event's Details tab shows them).

Sentry's frames, exceptions, breadcrumbs and request are camelCase where the SDK's are snake_case; `entries`
holds them as `{"type": ..., "data": ...}` in Sentry's order.
"""

from urllib.parse import parse_qsl

from api.common import iso
from events import rendering, safe
from events.models import Event
from issues.models import Issue

MAX_QUERY_PAIRS = 200


def text(value) -> str | None:
    """A string field: the string, a number as its text, null for anything else (containers, null)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        return None
    return rendering.to_text(value)


def mapping(value) -> dict | None:
    return value if isinstance(value, dict) else None


def pairs(value) -> list[list] | None:
    """Sentry's [[key, value], ...] for headers, query and cookies; a query string or cookie header is split."""
    if isinstance(value, str):
        return [[k, v] for k, v in parse_qsl(value, keep_blank_values=True, max_num_fields=MAX_QUERY_PAIRS)]
    found = rendering.as_pairs(value)
    return [[k, v] for k, v in found] if found is not None else None


def cookie_pairs(value) -> list[list] | None:
    if isinstance(value, str):
        return [[name.strip(), cookie] for name, _, cookie in (p.partition("=") for p in value.split(";")) if name]
    return pairs(value)


def lines_of(value) -> list[str]:
    return [rendering.to_text(line) for line in value] if isinstance(value, list) else []


JS_PLATFORMS = {"javascript", "node"}
FRAME_DATA_KEYS = ("sourcemap", "resolved_with", "symbolicated")


def frame_data(frame: dict, js_event: bool) -> dict | None:
    """Sentry's `data` of a frame: for a JavaScript event whether the frame was mapped (`symbolicated`), and for a
    mapped one the map's URL (`sourcemap`) and how it was found (`resolved_with`: "debug-id" or "release"). The
    minified location is the frame's counterpart in the event's `rawStacktrace`."""
    data = frame.get("data")
    if isinstance(data, dict) and isinstance(data.get("minified"), dict):
        shape = {key: data[key] for key in FRAME_DATA_KEYS if isinstance(data.get(key), str | bool)}
        shape["symbolicated"] = data.get("symbolicated") is not False
        return shape
    return {"symbolicated": False} if js_event else None


def raw_frame(frame: dict) -> dict:
    """The frame as the SDK sent it: a mapped frame's minified location (digest.symbolicate keeps it in
    data.minified), else the frame itself."""
    data = frame.get("data")
    minified = data.get("minified") if isinstance(data, dict) else None
    if not isinstance(minified, dict):
        return frame
    return {"in_app": frame.get("in_app"), "platform": frame.get("platform"), **minified}


def raw_stacktrace_shape(stacktrace) -> dict | None:
    """Sentry's `rawStacktrace`: the frames before source maps, when any frame of the stack was mapped; else null."""
    if not isinstance(stacktrace, dict) or not isinstance(stacktrace.get("frames"), list):
        return None
    frames = [f for f in stacktrace["frames"] if isinstance(f, dict)]
    if not any(raw_frame(f) is not f for f in frames):
        return None
    return stacktrace_shape({**stacktrace, "frames": [raw_frame(f) for f in frames]}, js_event=True, raw=True)


def frame_shape(frame: dict, js_event: bool = False, raw: bool = False) -> dict:
    line = safe.safe_int(frame.get("lineno"))
    pre = lines_of(frame.get("pre_context"))
    post = lines_of(frame.get("post_context"))
    context = []
    if isinstance(frame.get("context_line"), str):
        start = line - len(pre) if line is not None else None
        lines = [*pre, frame["context_line"], *post]
        context = [[start + i if start is not None else None, source] for i, source in enumerate(lines)]
    in_app = frame.get("in_app")
    return {
        "filename": text(frame.get("filename")),
        "absPath": text(frame.get("abs_path")),
        "module": text(frame.get("module")),
        "package": text(frame.get("package")),
        "platform": text(frame.get("platform")),
        "function": text(frame.get("function")),
        "rawFunction": text(frame.get("raw_function")),
        "symbol": text(frame.get("symbol")),
        "instructionAddr": text(frame.get("instruction_addr")),
        "symbolAddr": text(frame.get("symbol_addr")),
        "lineNo": line,
        "colNo": safe.safe_int(frame.get("colno")),
        "inApp": in_app if isinstance(in_app, bool) else False,
        "context": context,
        "vars": mapping(frame.get("vars")),
        "trust": text(frame.get("trust")),
        "errors": None,
        "data": None if raw else frame_data(frame, js_event),
    }


def frames_omitted(value) -> list[int] | None:
    """[start, end] of the frames left out of a long stack (by the SDK or digest.trim), when it is that."""
    if not isinstance(value, list) or len(value) != 2:
        return None
    bounds = [safe.safe_int(n) for n in value]
    return bounds if None not in bounds else None


def stacktrace_shape(stacktrace, js_event: bool = False, raw: bool = False) -> dict | None:
    if not isinstance(stacktrace, dict):
        return None
    raw_frames = stacktrace.get("frames")
    frames = (
        [frame_shape(f, js_event, raw) for f in raw_frames if isinstance(f, dict)]
        if isinstance(raw_frames, list)
        else []
    )
    return {
        "frames": frames,
        "framesOmitted": frames_omitted(stacktrace.get("frames_omitted")),
        "registers": mapping(stacktrace.get("registers")),
        "hasSystemFrames": any(not f["inApp"] for f in frames) and any(f["inApp"] for f in frames),
    }


def exception_entry(data: dict) -> dict | None:
    js_event = data.get("platform") in JS_PLATFORMS
    values = []
    for exc in safe.values_of(data.get("exception")):
        values.append(
            {
                "type": text(exc.get("type")),
                "value": text(exc.get("value")),
                "module": text(exc.get("module")),
                "mechanism": mapping(exc.get("mechanism")),
                "stacktrace": stacktrace_shape(exc.get("stacktrace"), js_event),
                "rawStacktrace": raw_stacktrace_shape(exc.get("stacktrace")),
                "threadId": safe.safe_int(exc.get("thread_id")),
            }
        )
    if not values:
        return None
    has_system = any((v["stacktrace"] or {}).get("hasSystemFrames") for v in values)
    return {"type": "exception", "data": {"values": values, "hasSystemFrames": has_system, "excOmitted": None}}


def thread_id(value) -> int | str | None:
    number = safe.safe_int(value)
    return number if number is not None else text(value)


def threads_entry(data: dict) -> dict | None:
    js_event = data.get("platform") in JS_PLATFORMS
    values = []
    for thread in safe.values_of(data.get("threads")):
        values.append(
            {
                "id": thread_id(thread.get("id")),
                "name": text(thread.get("name")),
                "crashed": thread.get("crashed") is True,
                "current": thread.get("current") is True,
                "stacktrace": stacktrace_shape(thread.get("stacktrace"), js_event),
                "rawStacktrace": raw_stacktrace_shape(thread.get("stacktrace")),
            }
        )
    return {"type": "threads", "data": {"values": values}} if values else None


def breadcrumbs_entry(data: dict) -> dict | None:
    values = []
    for crumb in safe.values_of(data.get("breadcrumbs")):
        values.append(
            {
                "type": text(crumb.get("type")) or "default",
                "category": text(crumb.get("category")),
                "level": text(crumb.get("level")) or "info",
                "message": text(crumb.get("message")),
                "data": mapping(crumb.get("data")),
                "timestamp": iso(safe.safe_datetime(crumb.get("timestamp"))),
                "event_id": None,
            }
        )
    return {"type": "breadcrumbs", "data": {"values": values}} if values else None


def request_entry(data: dict) -> dict | None:
    request = data.get("request")
    if not isinstance(request, dict):
        return None
    body = request.get("data")
    return {
        "type": "request",
        "data": {
            "url": text(request.get("url")),
            "method": text(request.get("method")),
            "query": pairs(request.get("query_string")) or [],
            "fragment": text(request.get("fragment")),
            "data": body if isinstance(body, dict | list | str) else None,
            "headers": pairs(request.get("headers")) or [],
            "cookies": cookie_pairs(request.get("cookies")) or [],
            "env": mapping(request.get("env")),
            "inferredContentType": None,
            "apiTarget": text(request.get("api_target")),
        },
    }


def message_entry(data: dict) -> dict | None:
    message = rendering.message_view(data)
    if message is None:
        return None
    return {"type": "message", "data": {"formatted": message["formatted"], "message": message["template"] or None}}


def user_shape(data: dict) -> dict | None:
    user = data.get("user")
    if not isinstance(user, dict):
        return None
    known = ("id", "email", "username", "ip_address", "name")
    shape = {key: text(user.get(key)) for key in known}
    shape["geo"] = mapping(user.get("geo"))
    shape["data"] = {k: v for k, v in user.items() if k not in (*known, "geo")} or None
    return shape


def sdk_shape(data: dict) -> dict | None:
    sdk = data.get("sdk")
    if not isinstance(sdk, dict):
        return None
    return {"name": text(sdk.get("name")), "version": text(sdk.get("version"))}


def error_shapes(data: dict) -> list[dict]:
    errors = data.get("errors")
    if not isinstance(errors, list):
        return []
    return [
        {"type": text(e.get("type")), "message": text(e.get("message")) or text(e.get("type")) or "", "data": e}
        for e in errors
        if isinstance(e, dict)
    ]


def tags_of(data: dict) -> list[dict]:
    return [{"key": row["key"], "value": row["value"]} for row in rendering.tag_rows(data)]


def summary(event: Event, issue: Issue, data: dict) -> dict:
    """What Sentry's event list gives per event (without `full`)."""
    message = rendering.message_view(data)
    return {
        "id": event.event_id.hex,
        "eventID": event.event_id.hex,
        "groupID": str(issue.pk),
        "projectID": str(event.project_id),
        "title": event.title(),
        "message": message["formatted"] if message else "",
        "platform": event.platform or text(data.get("platform")),
        "event.type": "error" if exception_entry(data) else "default",
        "dateCreated": iso(event.timestamp),
        "dateReceived": iso(event.ingested_at),
        "tags": tags_of(data),
        "user": user_shape(data),
        "culprit": text(data.get("culprit")) or issue.culprit,
        "location": text(data.get("transaction")),
    }


def full(event: Event, issue: Issue, data: dict, fingerprints: list[str]) -> dict:
    entries = [
        entry
        for entry in (
            exception_entry(data),
            message_entry(data),
            threads_entry(data),
            breadcrumbs_entry(data),
            request_entry(data),
        )
        if entry is not None
    ]
    first_line = event.calculated_value.strip().split("\n", 1)[0] if event.calculated_value else ""
    shape = summary(event, issue, data)
    shape.update(
        {
            "type": shape["event.type"],
            "entries": entries,
            "contexts": mapping(data.get("contexts")) or {},
            "context": mapping(data.get("extra")) or {},
            "packages": mapping(data.get("modules")) or {},
            "sdk": sdk_shape(data),
            "release": {"version": event.release, "shortVersion": event.release} if event.release else None,
            "environment": event.environment or None,
            "dist": text(data.get("dist")),
            "fingerprints": fingerprints,
            "metadata": {"type": event.calculated_type, "value": first_line, "title": event.title()},
            "errors": error_shapes(data),
            "size": len(event.data_json),
            "crashFile": None,
            "sdkUpdates": [],
            "userReport": None,
            "occurrence": None,
            "_meta": {},
        }
    )
    return shape


def serialize_event(event: Event, issue: Issue, full_shape: bool = True, fingerprints: list[str] | None = None):
    data = safe.load_event_json(event.data_json)
    if not full_shape:
        return summary(event, issue, data)
    return full(event, issue, data, fingerprints or [])
