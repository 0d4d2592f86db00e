"""Tolerant normalization of what SDKs send into one shape the rest of the code can rely on.

Normalization is total: whatever JSON value sits in whatever field, the result can be stored on SQLite,
PostgreSQL and MariaDB and rendered by every page. First the whole tree is made safe (events.safe.sanitize): lone
surrogates and NUL become U+FFFD, integers beyond 64 bits and non-finite floats become text, nesting deeper than
events.safe.MAX_DEPTH becomes a marker. Then each known field is given its shape, numbers read through events.safe
(ASCII digits only, range-checked).

Shapes after normalization: `exception`, `threads` and `breadcrumbs` are {"values": [dict, ...]} (or absent);
`tags` is a {str: str} dict; `logentry` is {"message", "formatted", "params"?} (or absent), its texts bounded by
MAX_MESSAGE_CHARS; `fingerprint` is a list of str (or absent); `timestamp` is a float (epoch seconds, UTC, within
1970-01-02..2200, else the receive time); frame `lineno`/`colno` and mechanism ids are small
non-negative ints (or absent); breadcrumb `timestamp`s are floats (or absent); `level` is one of LEVELS;
`platform` is a str.
"""

import json
import re
import string

from events.levels import LEVELS
from events.safe import safe_int, safe_timestamp, sanitize, values_of
from releases.naming import release_name_problem

LEVEL_ALIASES = {"warn": "warning", "critical": "fatal", "log": "info", "trace": "debug", "err": "error"}
SCALAR_STRING_FIELDS = ("release", "environment", "transaction", "server_name", "logger", "dist", "culprit")

MAX_SMALL_INT = 2**31 - 1  # line and column numbers, ids within an event
MAX_MESSAGE_CHARS = 8192  # a log message (template or formatted), as Sentry's own limit
MAX_PARAM_CHARS = 1024  # each parameter as it enters formatting
MAX_FORMAT_FIELDS = 64  # conversions in one template; more is not formatted
MAX_FORMAT_WIDTH = 100  # width or precision of one conversion; more is not formatted
MAX_DROPPED_VALUE_CHARS = 1024  # of a value dropped as invalid, what the note on the event keeps


def _small_int(value) -> int | None:
    return safe_int(value, 0, MAX_SMALL_INT)


def _convert_or_drop(mapping: dict, keys: tuple, convert) -> None:
    """In place: each of `keys` present in `mapping` becomes convert(value), or goes when that is None."""
    for key in keys:
        if key in mapping:
            value = convert(mapping[key])
            if value is None:
                del mapping[key]
            else:
                mapping[key] = value


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return str(value)


def _normalize_frame(frame: dict) -> dict:
    frame = dict(frame)
    for key in ("pre_context", "post_context"):
        if key in frame:
            context = frame[key]
            frame[key] = [_text(line) for line in context] if isinstance(context, list) else []
    for key in ("filename", "abs_path", "function", "module", "context_line", "package", "raw_function"):
        if key in frame and frame[key] is not None and not isinstance(frame[key], str):
            frame[key] = _text(frame[key])
    if "vars" in frame and not isinstance(frame["vars"], dict):
        frame["vars"] = {}
    _convert_or_drop(frame, ("lineno", "colno"), _small_int)
    return frame


def _normalize_stacktrace(stacktrace) -> dict | None:
    if not isinstance(stacktrace, dict):
        return None
    frames = stacktrace.get("frames")
    result = dict(stacktrace)
    result["frames"] = [_normalize_frame(f) for f in frames if isinstance(f, dict)] if isinstance(frames, list) else []
    return result


def _normalize_exception(exc: dict) -> dict:
    exc = dict(exc)
    exc["type"] = _text(exc.get("type"))
    exc["value"] = _text(exc.get("value"))
    if exc.get("module") is not None:
        exc["module"] = _text(exc["module"])
    _convert_or_drop(exc, ("stacktrace", "raw_stacktrace"), _normalize_stacktrace)
    mechanism = exc.get("mechanism")
    if isinstance(mechanism, dict):
        mechanism = dict(mechanism)
        _convert_or_drop(mechanism, ("exception_id", "parent_id"), _small_int)
        exc["mechanism"] = mechanism
    else:
        exc.pop("mechanism", None)
    return exc


def _normalize_threads(threads) -> list[dict]:
    result = []
    for thread in values_of(threads):
        thread = dict(thread)
        _convert_or_drop(thread, ("stacktrace",), _normalize_stacktrace)
        result.append(thread)
    return result


def _normalize_tags(tags) -> dict[str, str]:
    pairs = []
    if isinstance(tags, dict):
        pairs = tags.items()
    elif isinstance(tags, list):
        pairs = [
            (t[0], t[1]) if isinstance(t, list | tuple) and len(t) == 2 else (t.get("key"), t.get("value"))
            for t in tags
            if (isinstance(t, list | tuple) and len(t) == 2) or (isinstance(t, dict) and "key" in t)
        ]
    return {_text(k)[:200]: _text(v)[:200] for k, v in pairs if k is not None and k != ""}


_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?(.)", re.DOTALL)
_BRACE_FIELD = re.compile(r"\d*")
_BRACE_SPEC = re.compile(r"(?:.?[<>=^])?[-+ ]?z?#?0?(\d*)[,_]?(?:\.(\d+))?[bcdeEfFgGnosxX%]?", re.DOTALL)


def _bounded_param(value):
    """A parameter as it enters formatting: texts cut, containers as short JSON, so that a template that repeats a
    parameter cannot multiply a large one."""
    if isinstance(value, str):
        return value[:MAX_PARAM_CHARS]
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)[:MAX_PARAM_CHARS]
    return value


def _percent_format(message: str, params):
    """printf-style formatting, or None when the template asks for more than is safe (or does not fit)."""
    specs = [m for m in _PERCENT_SPEC.finditer(message) if m.group(3) != "%"]
    if not specs or len(specs) > MAX_FORMAT_FIELDS:
        return None
    for spec in specs:
        for size in (spec.group(1), spec.group(2)):
            if size == "*" or (size and (len(size) > 3 or int(size) > MAX_FORMAT_WIDTH)):
                return None
    if isinstance(params, dict):
        args = {key: _bounded_param(value) for key, value in params.items()}
    elif isinstance(params, list | tuple):
        args = tuple(_bounded_param(value) for value in params)
    else:
        args = (_bounded_param(params),)
    try:
        return message % args
    except Exception:  # TypeError, ValueError, KeyError, OverflowError (%c of a huge number), ...
        return None


def _brace_format(message: str, params):
    """str.format with positional parameters only (no attribute or item access), bounded widths; or None."""
    if not isinstance(params, list | tuple):
        return None
    try:
        fields = [(name, spec) for _, name, spec, _ in string.Formatter().parse(message) if name is not None]
    except ValueError:
        return None
    if not fields or len(fields) > MAX_FORMAT_FIELDS:
        return None
    for name, spec in fields:
        match = _BRACE_SPEC.fullmatch(spec or "")
        if not _BRACE_FIELD.fullmatch(name) or match is None:
            return None
        if any(size and (len(size) > 3 or int(size) > MAX_FORMAT_WIDTH) for size in match.groups()):
            return None
    try:
        return message.format(*(_bounded_param(value) for value in params))
    except Exception:
        return None


def _format_message(message: str, params) -> str:
    """The message with its parameters filled in; when that is unsafe or fails, the template followed by its
    parameters. Never longer than MAX_MESSAGE_CHARS."""
    if params in (None, [], {}, ()):
        return message[:MAX_MESSAGE_CHARS]
    message = message[:MAX_MESSAGE_CHARS]
    formatted = _percent_format(message, params)
    if formatted is None:
        formatted = _brace_format(message, params)  # some SDKs send {}-style templates
    if formatted is None and "%" not in message and "{" not in message:
        return message  # nothing to fill in: the SDK sent its parameters along anyway
    if formatted is None:
        shown = params if isinstance(params, list | tuple | dict) else [params]
        formatted = f"{message} {json.dumps(shown, default=str)[:MAX_MESSAGE_CHARS]}"
    return formatted[:MAX_MESSAGE_CHARS]


def _normalize_logentry(data: dict) -> dict | None:
    entry = data.get("logentry")
    if entry is None:
        entry = data.get("sentry.interfaces.Message")
    if isinstance(entry, str):
        entry = {"message": entry}
    message = data.get("message")
    if isinstance(message, dict):
        entry = {**message, **(entry if isinstance(entry, dict) else {})}
    elif isinstance(message, str) and message and not isinstance(entry, dict):
        entry = {"message": message}
    if not isinstance(entry, dict):
        return None
    template = _text(entry.get("message"))[:MAX_MESSAGE_CHARS]
    formatted = _text(entry.get("formatted"))[:MAX_MESSAGE_CHARS]
    params = entry.get("params")
    if not template and not formatted:
        return None
    if not formatted:
        formatted = _format_message(template, params)
    result = {"message": template or formatted, "formatted": formatted}
    if params not in (None, [], {}):
        result["params"] = params
    return result


def _normalize_breadcrumb(crumb: dict) -> dict:
    crumb = dict(crumb)
    _convert_or_drop(crumb, ("timestamp",), safe_timestamp)
    for key in ("type", "category", "level", "message"):
        if key in crumb and crumb[key] is not None and not isinstance(crumb[key], str):
            crumb[key] = _text(crumb[key])
    if "data" in crumb and not isinstance(crumb["data"], dict | type(None)):
        crumb["data"] = {"value": crumb["data"]}
    return crumb


def _drop_invalid_release(event: dict, sent) -> None:
    """A release whose name breaks the rules (releases.naming) is dropped, the event kept: the note on the event
    (Sentry's `errors` entry of type invalid_data) says which release was sent and why it is not one."""
    if "release" not in event:
        return
    problem = release_name_problem(event["release"])  # of the text, stripped: `" 1.0 "` is release 1.0
    if problem is None:
        return
    value = _text(sent)[:MAX_DROPPED_VALUE_CHARS]
    del event["release"]
    existing = event.get("errors")
    note = {"type": "invalid_data", "name": "release", "value": value, "reason": problem}
    event["errors"] = [*(existing if isinstance(existing, list) else []), note]


def normalize_event(data: dict, *, event_id: str, received_at: float, remote_addr: str = "") -> dict:
    data = sanitize(data)
    event = dict(data)
    event["event_id"] = event_id
    event["timestamp"] = safe_timestamp(data.get("timestamp")) or received_at
    event["received"] = received_at

    level = _text(data.get("level")).strip().lower()
    level = LEVEL_ALIASES.get(level, level)
    event["level"] = level if level in LEVELS else "error"

    platform = data.get("platform")
    event["platform"] = platform.strip()[:64] if isinstance(platform, str) and platform.strip() else "other"

    for key in SCALAR_STRING_FIELDS:
        if key in event:
            if event[key] is None or event[key] == "":
                del event[key]
            else:
                event[key] = _text(event[key]).strip()
    _drop_invalid_release(event, data.get("release"))

    if "tags" in data:
        event["tags"] = _normalize_tags(data.get("tags"))

    exceptions = [_normalize_exception(e) for e in values_of(data.get("exception"))]
    if exceptions:
        event["exception"] = {"values": exceptions}
    else:
        event.pop("exception", None)

    threads = _normalize_threads(data.get("threads"))
    if threads:
        event["threads"] = {"values": threads}
    else:
        event.pop("threads", None)

    breadcrumbs = [_normalize_breadcrumb(crumb) for crumb in values_of(data.get("breadcrumbs"))]
    if breadcrumbs:
        event["breadcrumbs"] = {"values": breadcrumbs}
    else:
        event.pop("breadcrumbs", None)

    logentry = _normalize_logentry(data)
    event.pop("sentry.interfaces.Message", None)
    if logentry:
        event["logentry"] = logentry
        if isinstance(event.get("message"), dict):
            event["message"] = logentry["formatted"]
    else:
        event.pop("logentry", None)

    fingerprint = data.get("fingerprint")
    if isinstance(fingerprint, list) and fingerprint:
        event["fingerprint"] = [_text(part) for part in fingerprint]
    else:
        event.pop("fingerprint", None)

    user = data.get("user")
    if isinstance(user, dict):
        user = dict(user)
        if user.get("id") is not None:
            user["id"] = _text(user["id"])
        if user.get("ip_address") == "{{auto}}":
            user["ip_address"] = remote_addr
        event["user"] = user
    else:
        event.pop("user", None)

    request = data.get("request")
    if isinstance(request, dict):
        request = dict(request)
        headers = request.get("headers")
        if isinstance(headers, list):
            request["headers"] = {
                _text(h[0]): _text(h[1]) for h in headers if isinstance(h, list | tuple) and len(h) == 2
            }
        elif not isinstance(headers, dict | type(None)):
            request.pop("headers")
        event["request"] = request
    else:
        event.pop("request", None)

    for key in ("contexts", "extra", "modules", "sdk"):
        if key in event and not isinstance(event[key], dict):
            event.pop(key)
    return event


def trace_id(value) -> str:
    """A W3C/Sentry trace id as 32 lowercase hex digits (dashes removed), or "" for anything else."""
    if not isinstance(value, str) or len(value) > 64:
        return ""
    text = value.replace("-", "").strip().lower()
    return text if len(text) == 32 and all(c in "0123456789abcdef" for c in text) else ""


def trace_id_of(event: dict) -> str:
    """The event's trace (contexts.trace.trace_id), or "" when it has none."""
    contexts = event.get("contexts")
    trace = contexts.get("trace") if isinstance(contexts, dict) else None
    return trace_id(trace.get("trace_id")) if isinstance(trace, dict) else ""
