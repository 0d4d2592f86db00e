"""Which tags an event has: the SDK's own tags plus a few derived from the event's fields and contexts.

At most settings.MAX_EVENT_TAGS of them are indexed (digest writes every indexed tag inside the project's single
writer transaction, so an event with 10,000 tags must not cost 10,000 rows): the derived ones first (level, release,
environment, ...), then the SDK's in the order it sent them. The rest stay in the stored event, not searchable, and
digest records how many in the event under NOT_INDEXED_KEY for its page to say so.
"""

from django.conf import settings

from events.safe import clean_str, int_text, safe_text

MAX_KEY = 64
MAX_VALUE = 200
NOT_INDEXED_KEY = "_tags_not_indexed"  # {"count": tags not indexed, "limit": MAX_EVENT_TAGS then}


def _tag_text(value) -> str:
    """str() of a value, except where str() fails (integers beyond 4300 digits) or gives text that cannot be stored
    (lone surrogates); stored events may hold either (see events.safe)."""
    if isinstance(value, str):
        return clean_str(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return int_text(value)
    try:
        return clean_str(str(value))
    except ValueError:  # a container holding such an integer
        return safe_text(value)


def _name(context) -> str:
    return _tag_text(context.get("name") or "").strip() if isinstance(context, dict) else ""


def _name_version(context) -> str:
    if not isinstance(context, dict):
        return ""
    name = _name(context)
    version = _tag_text(context.get("version") or "").strip()
    return f"{name} {version}".strip() if name else ""


def _raised(event: dict) -> dict:
    """The exception that was raised (the last of `exception.values`; the ones before it are its causes)."""
    exception = event.get("exception")
    values = exception.get("values") if isinstance(exception, dict) else None
    raised = values[-1] if isinstance(values, list) and values else None
    return raised if isinstance(raised, dict) else {}


def _field_tags(event: dict, user: dict):
    """(key, value) for the dotted keys Sentry's search documents that name a field of the event: user.*, sdk.*,
    device.*, error.*, http.*. A value the event does not have is None (no tag). (error.type is the issue's and
    event's own calculated_type: tags.search reads it there, no tag needed.)"""

    def of(name) -> dict:
        value = event.get(name)
        return value if isinstance(value, dict) else {}

    contexts = of("contexts")
    device = contexts.get("device") if isinstance(contexts.get("device"), dict) else {}
    raised = _raised(event)
    mechanism = raised.get("mechanism") if isinstance(raised.get("mechanism"), dict) else {}
    handled = mechanism.get("handled")
    yield "user.id", user.get("id")
    yield "user.email", user.get("email")
    yield "user.username", user.get("username")
    yield "user.ip", user.get("ip_address")
    yield "sdk.name", of("sdk").get("name")
    yield "sdk.version", of("sdk").get("version")
    yield "device.family", device.get("family")
    yield "device.model", device.get("model")
    yield "device.brand", device.get("brand")
    yield "error.mechanism", mechanism.get("type")
    yield "error.handled", ("true" if handled else "false") if isinstance(handled, bool) else None
    yield "http.method", of("request").get("method")
    yield "http.url", of("request").get("url")


def event_tags(event: dict) -> dict[str, str]:
    """{key: value} for a normalized event (see digest.normalize): at most MAX_EVENT_TAGS of them."""
    return capped_event_tags(event, settings.MAX_EVENT_TAGS)[0]


def capped_event_tags(event: dict, limit: int) -> tuple[dict[str, str], int]:
    """The event's tags, at most `limit` of them, and how many more it has (the SDK's beyond the limit)."""
    tags: dict[str, str] = {}
    over = 0

    def add(key, value) -> None:
        nonlocal over
        if value is None:
            return
        value = _tag_text(value).replace("\x00", "").strip()
        key = _tag_text(key).replace("\x00", "").strip()[:MAX_KEY]
        if not key or not value or key in tags:
            return
        if len(tags) >= limit:
            over += 1
            return
        tags[key] = value[:MAX_VALUE]

    add("level", event.get("level"))
    for key in ("release", "environment", "server_name", "transaction", "dist", "logger"):
        add(key, event.get(key))
    user = event.get("user")
    if isinstance(user, dict):
        add("user", user.get("email") or user.get("username") or user.get("id") or user.get("ip_address"))
    # Sentry's documented search keys for the event's fields (user.email:jane@example.com, sdk.name:..., ...), each
    # the field as sent; `user` above is the one that names the user best
    for key, value in _field_tags(event, user if isinstance(user, dict) else {}):
        add(key, value)
    contexts = event.get("contexts") if isinstance(event.get("contexts"), dict) else {}
    # name and version ("Chrome 120.0.0"), and the name alone ("browser.name": "Chrome"), as Sentry tags them; the
    # OS of a server-side event's visitor (derived from its User-Agent, digest.useragent) is its `client_os`
    os_context = contexts.get("os") if _name(contexts.get("os")) else contexts.get("client_os")
    for key, context in (
        ("browser", contexts.get("browser")),
        ("os", os_context),
        ("runtime", contexts.get("runtime")),
    ):
        add(key, _name_version(context))
        add(f"{key}.name", _name(context))
    device = contexts.get("device")
    if isinstance(device, dict):
        add("device", device.get("model") or device.get("family"))
    sent = event.get("tags")
    for key, value in (sent if isinstance(sent, dict) else {}).items():
        add(key, value)
    return tags, over


def mark_not_indexed(event: dict, count: int, limit: int) -> None:
    """Record in the event (digest, before it is stored) how many of its tags were not indexed; only ours is
    believed: one the SDK sent goes."""
    event.pop(NOT_INDEXED_KEY, None)
    if count > 0:
        event[NOT_INDEXED_KEY] = {"count": count, "limit": limit}


def describe_not_indexed(event) -> str:
    """The event page's note on tags that were not indexed; "" when all were."""
    marker = event.get(NOT_INDEXED_KEY) if isinstance(event, dict) else None
    if not isinstance(marker, dict):
        return ""
    count, limit = marker.get("count"), marker.get("limit")
    if not isinstance(count, int) or isinstance(count, bool) or count <= 0:
        return ""
    first = f": the first {limit:,} are indexed and searchable" if isinstance(limit, int) and limit >= 0 else ""
    return (
        f"{count:,} tag{'' if count == 1 else 's'} not indexed (over MAX_EVENT_TAGS){first}; all are kept in the event."
    )
