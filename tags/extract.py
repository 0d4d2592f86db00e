"""Which tags an event has: the SDK's own tags plus a few derived from the event's fields and contexts."""

from events.safe import clean_str, int_text, safe_text

MAX_TAGS = 50
MAX_KEY = 64
MAX_VALUE = 200


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


def event_tags(event: dict) -> dict[str, str]:
    """{key: value} for a normalized event (see ingest.normalize)."""
    tags: dict[str, str] = {}

    def add(key, value) -> None:
        if value is None:
            return
        value = _tag_text(value).replace("\x00", "").strip()
        key = _tag_text(key).replace("\x00", "").strip()
        if key and value and len(tags) < MAX_TAGS:
            tags[key[:MAX_KEY]] = value[:MAX_VALUE]

    add("level", event.get("level"))
    for key in ("release", "environment", "server_name", "transaction", "dist", "logger"):
        add(key, event.get(key))
    user = event.get("user")
    if isinstance(user, dict):
        add("user", user.get("email") or user.get("username") or user.get("id") or user.get("ip_address"))
    contexts = event.get("contexts") if isinstance(event.get("contexts"), dict) else {}
    # name and version ("Chrome 120.0.0"), and the name alone ("browser.name": "Chrome"), as Sentry tags them; the
    # OS of a server-side event's visitor (derived from its User-Agent, ingest.useragent) is its `client_os`
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
        if key not in tags:
            add(key, value)
    return tags
