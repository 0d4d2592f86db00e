"""Which tags an event has: the SDK's own tags plus a few derived from the event's fields and contexts."""

MAX_TAGS = 50
MAX_KEY = 64
MAX_VALUE = 200


def _name_version(context) -> str:
    if not isinstance(context, dict):
        return ""
    name = str(context.get("name") or "").strip()
    version = str(context.get("version") or "").strip()
    return f"{name} {version}".strip() if name else ""


def event_tags(event: dict) -> dict[str, str]:
    """{key: value} for a normalized event (see ingest.normalize)."""
    tags: dict[str, str] = {}

    def add(key: str, value) -> None:
        if value is None:
            return
        value = str(value).replace("\x00", "").strip()
        key = key.replace("\x00", "").strip()
        if key and value and len(tags) < MAX_TAGS:
            tags[key[:MAX_KEY]] = value[:MAX_VALUE]

    add("level", event.get("level"))
    for key in ("release", "environment", "server_name", "transaction", "dist", "logger"):
        add(key, event.get(key))
    user = event.get("user")
    if isinstance(user, dict):
        add("user", user.get("email") or user.get("username") or user.get("id") or user.get("ip_address"))
    contexts = event.get("contexts") if isinstance(event.get("contexts"), dict) else {}
    add("browser", _name_version(contexts.get("browser")))
    add("os", _name_version(contexts.get("os")) or _name_version(contexts.get("client_os")))
    add("runtime", _name_version(contexts.get("runtime")))
    device = contexts.get("device")
    if isinstance(device, dict):
        add("device", device.get("model") or device.get("family"))
    for key, value in (event.get("tags") or {}).items():
        if key not in tags:
            add(key, value)
    return tags
