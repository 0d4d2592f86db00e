"""Tolerant normalization of what SDKs send into one shape the rest of the code can rely on.

Shapes after normalization: `exception`, `threads` and `breadcrumbs` are {"values": [dict, ...]} (or absent);
`tags` is a {str: str} dict; `logentry` is {"message", "formatted", "params"?} (or absent); `fingerprint` is a list
of str (or absent); `timestamp` is a float (epoch seconds, UTC); `level` is one of LEVELS; `platform` is a str.
"""

from datetime import UTC, datetime

from dateutil import parser as date_parser

LEVELS = ("fatal", "error", "warning", "info", "debug")
LEVEL_ALIASES = {"warn": "warning", "critical": "fatal", "log": "info", "trace": "debug", "err": "error"}
SCALAR_STRING_FIELDS = ("release", "environment", "transaction", "server_name", "logger", "dist", "culprit")
MIN_TIMESTAMP = datetime(1970, 1, 2, tzinfo=UTC).timestamp()
MAX_TIMESTAMP = datetime(2200, 1, 1, tzinfo=UTC).timestamp()


def parse_timestamp(value) -> float | None:
    """Float/int epoch, numeric string, or ISO 8601 with or without a zone (no zone means UTC)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            result = float(text)
        except ValueError:
            try:
                parsed = date_parser.isoparse(text)
            except (ValueError, OverflowError):
                try:
                    parsed = date_parser.parse(text)
                except (ValueError, OverflowError):
                    return None
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            result = parsed.timestamp()
    else:
        return None
    if result > MAX_TIMESTAMP * 100:  # milliseconds by mistake
        result /= 1000.0
    if not MIN_TIMESTAMP <= result <= MAX_TIMESTAMP:
        return None
    return result


def values_of(container) -> list[dict]:
    """The dict entries of {"values": [...]} or a bare list; None entries and non-dicts dropped."""
    if isinstance(container, dict):
        container = container.get("values")
    if not isinstance(container, list):
        return []
    return [item for item in container if isinstance(item, dict)]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        import json

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
    for key in ("stacktrace", "raw_stacktrace"):
        if key in exc:
            stacktrace = _normalize_stacktrace(exc[key])
            if stacktrace is None:
                del exc[key]
            else:
                exc[key] = stacktrace
    if not isinstance(exc.get("mechanism"), dict):
        exc.pop("mechanism", None)
    return exc


def _normalize_threads(threads) -> list[dict]:
    result = []
    for thread in values_of(threads):
        thread = dict(thread)
        if "stacktrace" in thread:
            stacktrace = _normalize_stacktrace(thread["stacktrace"])
            if stacktrace is None:
                del thread["stacktrace"]
            else:
                thread["stacktrace"] = stacktrace
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


def _format_message(message: str, params) -> str:
    if params in (None, [], {}, ()):
        return message
    try:
        if isinstance(params, dict):
            return message % params
        if isinstance(params, list | tuple):
            return message % tuple(params)
        return message % (params,)
    except (TypeError, ValueError, KeyError):
        if isinstance(params, list | tuple):
            try:
                return message.format(*params)  # some SDKs send {}-style templates
            except (IndexError, KeyError, ValueError):
                pass
        return message


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
    template = _text(entry.get("message"))
    formatted = _text(entry.get("formatted"))
    params = entry.get("params")
    if not template and not formatted:
        return None
    if not formatted:
        formatted = _format_message(template, params)
    result = {"message": template or formatted, "formatted": formatted}
    if params not in (None, [], {}):
        result["params"] = params
    return result


def normalize_event(data: dict, *, event_id: str, received_at: float, remote_addr: str = "") -> dict:
    event = dict(data)
    event["event_id"] = event_id
    event["timestamp"] = parse_timestamp(data.get("timestamp")) or received_at
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

    breadcrumbs = values_of(data.get("breadcrumbs"))
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
