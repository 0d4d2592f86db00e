"""Where the public key comes from: X-Sentry-Auth, ?sentry_key=, or an envelope header `dsn`."""

import hmac
import re
import time
from urllib.parse import urlsplit

AUTH_SCHEME = re.compile(r"^sentry\s+", re.IGNORECASE)


def parse_auth_header(value: str) -> dict[str, str]:
    """'Sentry sentry_version=7, sentry_key=abc, sentry_client=x/1.0' -> {'sentry_version': '7', ...}.

    The "Sentry" scheme word is optional and may be followed by any whitespace; values may be quoted.
    """
    value = AUTH_SCHEME.sub("", value.strip(), count=1)
    result = {}
    for part in value.split(","):
        key, sep, val = part.partition("=")
        if sep:
            result[key.strip().lower()] = val.strip().strip('"')
    return result


def key_from_dsn(dsn) -> str | None:
    if not isinstance(dsn, str):
        return None
    try:
        return urlsplit(dsn).username or None
    except ValueError:
        return None


def sentry_key_from_request(request, envelope_headers: dict | None = None) -> str | None:
    for header in ("HTTP_X_SENTRY_AUTH", "HTTP_AUTHORIZATION"):
        value = request.META.get(header)
        if value:
            key = parse_auth_header(value).get("sentry_key")
            if key:
                return key
    key = request.GET.get("sentry_key")
    if key:
        return key
    if envelope_headers:
        return key_from_dsn(envelope_headers.get("dsn"))
    return None


def key_matches(project, key, now: float | None = None) -> bool:
    """The project's current key, or one of its other keys (`other_keys`: (key, ends at or None)) that has not
    ended by `now` (time.time()). Keys are ASCII: anything else (a non-string, lone surrogates from a JSON `dsn`,
    latin-1 bytes) is no match."""
    if not isinstance(key, str) or not key.isascii():
        return False
    given = key.strip().encode()
    if hmac.compare_digest(project.sentry_key.encode(), given):
        return True
    now = time.time() if now is None else now
    matched = False
    for other, until in getattr(project, "other_keys", ()):
        if hmac.compare_digest(other.encode(), given) and (until is None or until > now):
            matched = True
    return matched
