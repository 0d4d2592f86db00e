"""Server-side data scrubbing: secrets and card numbers become "[Filtered]" before an event is stored.

SDKs scrub little (the Python SDK only exact top-level key names; sentry-cli sends the whole process environment as
`extra.environ`), so digest runs every normalized event through `scrub_event` before anything is derived from it
(grouping, title, tags) or stored. It is on by default, per project (projects.models.Project's scrub_* fields).

What the default scrubbers filter:
- the value under any key whose name, lowercased and without `-`, `_`, `.` and spaces, contains one of
  SENSITIVE_WORDS (Sentry's documented default list plus cookie, session id, csrf/xsrf and card-number names) or is
  one of EXACT_SENSITIVE_NAMES, at any depth: dict keys, [key, value] pairs (headers or query strings sent as
  lists) and `key=value` / `"key": "value"` inside strings (query strings, form bodies, JSON bodies sent as text,
  `--password=x` arguments). A value under such a key is replaced whole, containers included; None, booleans,
  empty values and "[Filtered]" stay as they are (they hold no secret: `auth_enabled: true` is kept). Matching
  substrings is what catches DB_PASSWORD, X-Api-Key, aws_secret_access_key and csrfmiddlewaretoken. The one
  exception is "auth" followed by "or" (author, authority), which are not secrets; "authorization", "authorize"
  and "authorisation" still are. "session" alone matches whole names only (DESKTOP_SESSION is no login);
- every cookie's value in request.cookies (dict, pairs or text), names kept: any cookie may hold a session;
- in a list of strings (sys.argv), the item after an option whose name is sensitive (`--db-password`, `hunter2`);
- the password of a URL with credentials (`postgres://user:[Filtered]@host/db`) and the token after "Bearer ";
- credit card numbers anywhere: 13 to 19 digits (spaces or dashes between them allowed), starting with 2 to 6 (the
  card networks' ranges; millisecond timestamps start with 1) and passing the Luhn check; only the number is
  replaced, the text around it stays.

Extra sensitive fields (per project) match keys as the default words do, and a string that contains one is filtered
whole (so "sk_live_" catches a Stripe key wherever it appears). Safe fields are key names (case-insensitive, exact)
whose whole value is never scrubbed. With "don't store IP addresses", user.ip_address, request.env.REMOTE_ADDR and
the client-address headers (X-Forwarded-For, X-Real-Ip, Forwarded, ...) are removed; ingest then does not record
the sender's address either.

Left alone: the event's own bookkeeping (ids, timestamps, level, platform, release, environment, fingerprint), the
SDK's description and module versions (package names like google-auth are not secrets), the SDK's `_meta`, the
texts that say which code ran (CODE_LOCATION_KEYS: file, module, function), and user.id / user.email unless an
extra sensitive field names them. Source lines (SOURCE_LINE_KEYS) are code, where `login(token=token)` is no secret:
only card numbers and URL passwords are filtered there.

What was filtered is recorded in the event itself under MARKER_KEY ({"filtered": n, "removed": n, "paths": [...]},
at most MAX_PATHS paths), which the event page shows. The walk is one pass over the tree, in place (normalize made
the copy), bounded in depth by events.safe.MAX_DEPTH as the tree itself is.
"""

import re
from dataclasses import dataclass

from projects.scrub_settings import lenient_field_names

FILTERED = "[Filtered]"
MARKER_KEY = "_scrubbed"
MAX_PATHS = 100
MAX_PATH_CHARS = 200

SENSITIVE_WORDS = (
    # Sentry's documented defaults, compacted (api_key and apikey alike)
    "password",
    "passwd",
    "secret",
    "apikey",
    "auth",
    "credential",
    "mysqlpwd",
    "privatekey",
    "token",
    "bearer",
    # what else carries a login: session ids, CSRF tokens, cookies, pass phrases, card numbers
    "passphrase",
    "sessionid",
    "sessionkey",
    "sessid",
    "csrf",
    "xsrf",
    "cookie",
    "creditcard",
    "cardnumber",
)

EXACT_SENSITIVE_NAMES = frozenset({"session", "sid"})  # whole names only: DESKTOP_SESSION is not a login
# where a frame or an exception says which code ran: not runtime data, and .NET assembly names carry a
# "PublicKeyToken=..." that is public; their names are still matched, their texts not scanned
CODE_LOCATION_KEYS = frozenset({"module", "package", "filename", "abs_path", "function", "raw_function", "symbol"})
# source lines: code, in which `token=token` or "Bearer " is no secret, but a card number or a URL's password is
SOURCE_LINE_KEYS = frozenset({"context_line", "pre_context", "post_context"})

# top-level fields that are the event's own bookkeeping or the SDK's self-description, never user data
UNSCRUBBED_TOP_LEVEL = frozenset(
    {
        "event_id",
        "timestamp",
        "received",
        "start_timestamp",
        "level",
        "platform",
        "release",
        "dist",
        "environment",
        "fingerprint",
        "type",
        "sdk",
        "modules",
        "debug_meta",
        "_meta",  # the SDK's notes on what it trimmed, keyed like the event: no values
        MARKER_KEY,
    }
)
USER_IDENTITY_KEYS = ("id", "email")  # scrubbed only when an extra sensitive field names them
IP_HEADERS = frozenset(
    {
        "x-forwarded-for",
        "x-real-ip",
        "forwarded",
        "cf-connecting-ip",
        "true-client-ip",
        "x-client-ip",
        "x-cluster-client-ip",
        "fastly-client-ip",
    }
)

_COMPACT = str.maketrans("", "", "-_. ")
_URL_CREDENTIALS = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]{0,31}://[^\s:/@?#]{0,256}:)([^\s/@?#]{1,512})@")
_BEARER = re.compile(r"(?i)(\bbearer\s+)([A-Za-z0-9\-._~+/]{8,}=*)")
_ASSIGNMENT = re.compile(r"""([A-Za-z0-9_.\-\[\]]{1,64})=("[^"]*"|'[^']*'|[^\s&;,]+)""")
_JSON_MEMBER = re.compile(r'"([^"\\]{1,64})"(\s*:\s*)"((?:[^"\\]|\\.)*)"')
# no lookbehind: a pattern that starts with a character set is found by a fast scan; _card checks the start
_CARD = re.compile(r"[2-6](?:[ -]?\d){12,18}(?!\w)")
_COOKIE = re.compile(r"(^|;\s*)([^=;]{1,256})=([^;]*)")
_DIGIT_SEPARATORS = str.maketrans("", "", " -")
_KEY_CACHE_LIMIT = 10_000
_NORMAL, _SENSITIVE, _SAFE = 0, 1, 2


# the default words as one pattern over a compacted name; "auth" but not author/authority, yet authorization
_DEFAULT_WORDS = re.compile("|".join(word for word in SENSITIVE_WORDS if word != "auth") + r"|auth(?!or)|authori[sz]")
_default_kinds: dict[str, bool] = {}  # key name -> sensitive by the default words; shared by all events


def default_sensitive(key: str) -> bool:
    """Does the name match the default words? Remembered across events: the same names come again and again."""
    known = _default_kinds.get(key)
    if known is None:
        compact = key.lower().translate(_COMPACT)
        known = bool(_DEFAULT_WORDS.search(compact)) or compact in EXACT_SENSITIVE_NAMES
        if len(_default_kinds) > _KEY_CACHE_LIMIT:
            _default_kinds.clear()
        _default_kinds[key] = known
    return known


@dataclass(frozen=True)
class ScrubPolicy:
    """A project's scrubbing settings; the default is Sentry's: default scrubbers on, IP addresses kept."""

    defaults: bool = True
    sensitive_fields: tuple[str, ...] = ()
    safe_fields: tuple[str, ...] = ()
    scrub_ip_addresses: bool = False  # "don't store IP addresses": the project setting of the same name

    @property
    def active(self) -> bool:
        return self.defaults or bool(self.sensitive_fields) or self.scrub_ip_addresses


def sender_address(remote_addr: str, scrub_ip_addresses: bool) -> str:
    """The sender's address as it may be kept: none when the project does not store IP addresses. Ingest applies
    this when it records a raw event, and digest again before it fills in a user.ip_address of "{{auto}}" (an event
    recorded before the setting was turned on still carries the address)."""
    return "" if scrub_ip_addresses else remote_addr


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = ord(char) - 48
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def looks_like_card_number(digits: str) -> bool:
    return (
        13 <= len(digits) <= 19
        and digits.isascii()
        and digits.isdigit()
        and "2" <= digits[0] <= "6"
        and (luhn_valid(digits))
    )


def _has_content(value) -> bool:
    if value is None or isinstance(value, bool) or value == FILTERED:
        return False
    return not (isinstance(value, str | list | dict) and not value)


class _Scrubber:
    def __init__(self, policy: ScrubPolicy):
        self.defaults = policy.defaults
        self.words = SENSITIVE_WORDS if policy.defaults else ()
        self.extra = tuple(name.lower().translate(_COMPACT) for name in policy.sensitive_fields if name.strip())
        self.extra = tuple(name for name in self.extra if name)
        self.value_terms = tuple(name.lower() for name in policy.sensitive_fields if name.strip())
        self.safe = frozenset(name.lower() for name in policy.safe_fields)
        self.scan_keys = bool(self.words or self.extra)
        self.path: list[str] = []
        self.paths: list[str] = []
        self.filtered = 0
        self.removed = 0
        self._cache: dict[str, int] = {}

    # --- bookkeeping --------------------------------------------------------------------------------------------

    def note(self, removed: bool = False, last: str | None = None) -> None:
        if removed:
            self.removed += 1
        else:
            self.filtered += 1
        if len(self.paths) < MAX_PATHS:
            path = self.path if last is None else [*self.path, last]
            self.paths.append(".".join(path)[:MAX_PATH_CHARS])

    def marker(self) -> dict | None:
        if not self.filtered and not self.removed:
            return None
        return {"filtered": self.filtered, "removed": self.removed, "paths": self.paths}

    # --- names --------------------------------------------------------------------------------------------------

    def is_safe(self, key: str) -> bool:
        return bool(self.safe) and key.lower() in self.safe

    def is_sensitive(self, key: str) -> bool:
        return self.kind(key) is _SENSITIVE

    def kind(self, key: str) -> int:
        """_SAFE, _SENSITIVE or _NORMAL, remembered per key name (names repeat: frame variables, headers)."""
        known = self._cache.get(key)
        if known is not None:
            return known
        if self.is_safe(key):
            kind = _SAFE
        elif self.words and default_sensitive(key):
            kind = _SENSITIVE
        elif self.extra and any(word in key.lower().translate(_COMPACT) for word in self.extra):
            kind = _SENSITIVE
        else:
            kind = _NORMAL
        if len(self._cache) > _KEY_CACHE_LIMIT:
            self._cache.clear()
        self._cache[key] = kind
        return kind

    # --- values -------------------------------------------------------------------------------------------------

    def value(self, value):
        """The value with its secrets filtered; containers are changed in place and returned."""
        kind = type(value)
        if kind is str:
            return self.string(value)
        if kind is dict:
            self.mapping(value)
        elif kind is list:
            self.sequence(value)
        elif kind is int and self.defaults and not -(10**12) < value < 10**12:
            if looks_like_card_number(str(abs(value))):
                self.note()
                return FILTERED
        return value

    def mapping(self, mapping: dict, exempt: tuple[str, ...] = ()) -> None:
        for key, item in list(mapping.items()):
            if type(key) is not str:
                continue
            kind = self.kind(key)
            if kind is _SAFE:
                continue
            if kind is _SENSITIVE:
                if self.words and key.lower() == "cookies":  # every value goes, the names stay
                    self.path.append(key)
                    mapping[key] = self.cookie_jar(item)
                    self.path.pop()
                elif _has_content(item):
                    mapping[key] = FILTERED
                    self.note(last=key)
                continue
            item_type = type(item)
            if item_type is str:  # a leaf: the path is only built when something is filtered
                if key in CODE_LOCATION_KEYS or key in exempt:
                    continue
                new = self.literal(item) if key in SOURCE_LINE_KEYS else self.string(item)
                if new is not item:
                    mapping[key] = new
                    self.note(last=key)
                continue
            if item_type is not dict and item_type is not list and item_type is not int:
                continue  # None, booleans, floats: nothing to filter
            self.path.append(key)
            if key in SOURCE_LINE_KEYS:
                mapping[key] = self.source(item)
            elif key not in exempt and key not in CODE_LOCATION_KEYS:
                mapping[key] = self.value(item)
            self.path.pop()

    def sequence(self, items: list) -> None:
        secret_follows = False
        for index, item in enumerate(items):
            if isinstance(item, list) and len(item) == 2 and isinstance(item[0], str):  # a [name, value] pair
                name = item[0]
                if not self.is_safe(name):
                    self.path.append(name)
                    if self.is_sensitive(name):
                        if _has_content(item[1]):
                            item[1] = FILTERED
                            self.note()
                    else:
                        item[1] = self.value(item[1])
                    self.path.pop()
                secret_follows = False
                continue
            self.path.append(str(index))
            if secret_follows and isinstance(item, str) and _has_content(item) and not item.startswith("-"):
                items[index] = FILTERED
                self.note()
            else:
                items[index] = self.value(item)
            self.path.pop()
            secret_follows = (
                isinstance(item, str)
                and item.startswith("-")
                and "=" not in item
                and len(item) <= 100
                and self.is_sensitive(item.lstrip("-"))
            )

    def source(self, lines):
        """Source lines (a line or a list of them): card numbers and URL passwords only."""
        if not self.defaults:
            return lines
        if isinstance(lines, list):
            for index, line in enumerate(lines):
                if type(line) is str:
                    new = self.literal(line)
                    if new is not line:
                        lines[index] = new
                        self.note(last=str(index))
        return lines

    def literal(self, text: str) -> str:
        """Card numbers and URL passwords only (source lines): the same object when there were none."""
        if not self.defaults or len(text) < 13:
            return text
        new = _CARD.sub(self._card, text) if _CARD.search(text) else text
        if "://" in new and "@" in new:
            new = _URL_CREDENTIALS.sub(self._url_password, new)
        return text if new == text else new

    def cookie_jar(self, cookies):
        """Every cookie's value is filtered, its name kept: any cookie may be a session (connect.sid,
        laravel_session, remember_web_59ba36...), and which one is seldom told by its name."""
        if isinstance(cookies, str):
            return _COOKIE.sub(self._cookie, cookies)
        if isinstance(cookies, dict):
            for name in list(cookies):
                if not self.is_safe(name) and _has_content(cookies[name]):
                    self.path.append(name)
                    cookies[name] = FILTERED
                    self.note()
                    self.path.pop()
            return cookies
        if isinstance(cookies, list):
            for index, item in enumerate(cookies):
                if isinstance(item, list) and len(item) == 2 and isinstance(item[0], str):
                    if not self.is_safe(item[0]) and _has_content(item[1]):
                        self.path.append(item[0])
                        item[1] = FILTERED
                        self.note()
                        self.path.pop()
                elif _has_content(item):
                    self.path.append(str(index))
                    cookies[index] = FILTERED
                    self.note()
                    self.path.pop()
            return cookies
        if _has_content(cookies):
            self.note()
            return FILTERED
        return cookies

    def _cookie(self, match: re.Match) -> str:
        name, value = match.group(2), match.group(3)
        if not value.strip() or value == FILTERED or self.is_safe(name.strip()):
            return match[0]
        self.path.append(name.strip())
        self.note()
        self.path.pop()
        return f"{match.group(1)}{name}={FILTERED}"

    def string(self, text: str) -> str:
        """The text with its secrets filtered: the same object when there were none (the caller notes a change)."""
        new = text
        if self.defaults and len(text) >= 13:  # the shortest card number; a URL with a password or a Bearer token
            if "://" in new and "@" in new:
                new = _URL_CREDENTIALS.sub(self._url_password, new)
            if "earer" in new or "EARER" in new:
                new = _BEARER.sub(self._bearer, new)
            if _CARD.search(new):
                new = _CARD.sub(self._card, new)
        if self.scan_keys:
            if "=" in new:
                new = _ASSIGNMENT.sub(self._assignment, new)
            if '"' in new and ":" in new:
                new = _JSON_MEMBER.sub(self._json_member, new)
        if self.value_terms:
            lowered = text.lower()
            if any(term in lowered for term in self.value_terms):
                return FILTERED
        return text if new == text else new

    @staticmethod
    def _bearer(match: re.Match) -> str:
        return match.group(1) + FILTERED

    @staticmethod
    def _url_password(match: re.Match) -> str:
        return match[0] if match.group(2) == FILTERED else f"{match.group(1)}{FILTERED}@"

    @staticmethod
    def _card(match: re.Match) -> str:
        start = match.start()
        if start and (match.string[start - 1].isalnum() or match.string[start - 1] == "_"):
            return match[0]  # the tail of a longer word or number
        return FILTERED if looks_like_card_number(match[0].translate(_DIGIT_SEPARATORS)) else match[0]

    def _assignment(self, match: re.Match) -> str:
        key, value = match.group(1), match.group(2)
        if value.strip("\"'") in ("", FILTERED) or not self.is_sensitive(key):
            return match[0]
        return f"{key}={FILTERED}"

    def _json_member(self, match: re.Match) -> str:
        key, separator, value = match.group(1), match.group(2), match.group(3)
        if value in ("", FILTERED) or not self.is_sensitive(key):
            return match[0]
        return f'"{key}"{separator}"{FILTERED}"'

    # --- IP addresses -------------------------------------------------------------------------------------------

    def scrub_ip_addresses(self, event: dict) -> None:
        user = event.get("user")
        if isinstance(user, dict) and "ip_address" in user:
            self._remove(user, "ip_address", ["user", "ip_address"])
        request = event.get("request")
        if not isinstance(request, dict):
            return
        env = request.get("env")
        if isinstance(env, dict):
            for key in [k for k in env if isinstance(k, str) and k.upper() == "REMOTE_ADDR"]:
                self._remove(env, key, ["request", "env", key])
        headers = request.get("headers")
        if isinstance(headers, dict):
            for key in [k for k in headers if isinstance(k, str) and k.lower() in IP_HEADERS]:
                self._remove(headers, key, ["request", "headers", key])
        elif isinstance(headers, list):
            kept = []
            for item in headers:
                if isinstance(item, list) and item and isinstance(item[0], str) and item[0].lower() in IP_HEADERS:
                    self.path = ["request", "headers", item[0]]
                    self.note(removed=True)
                else:
                    kept.append(item)
            headers[:] = kept
        self.path = []

    def _remove(self, container: dict, key: str, path: list[str]) -> None:
        value = container.pop(key)
        if value not in (None, ""):
            self.path = path
            self.note(removed=True)
        self.path = []


def scrub_event(event: dict, policy: ScrubPolicy) -> dict:
    """Filter `event` (a normalized event, changed in place) as `policy` says; returns it, with MARKER_KEY set when
    anything was filtered or removed."""
    event.pop(MARKER_KEY, None)  # only ours is believed: a client's own would claim filtering that never happened
    if not policy.active:
        return event
    scrubber = _Scrubber(policy)
    if policy.scrub_ip_addresses:
        scrubber.scrub_ip_addresses(event)
    for key in list(event):
        if key in UNSCRUBBED_TOP_LEVEL or not isinstance(key, str) or scrubber.is_safe(key):
            continue
        scrubber.path = [key]
        item = event[key]
        if scrubber.is_sensitive(key):
            if _has_content(item):
                event[key] = FILTERED
                scrubber.note()
        elif key == "user" and isinstance(item, dict):
            scrubber.mapping(item, exempt=USER_IDENTITY_KEYS)
        else:
            event[key] = scrubber.value(item)
    scrubber.path = []
    marker = scrubber.marker()
    if marker:
        event[MARKER_KEY] = marker
    return event


def scrub_summary(data: dict) -> dict | None:
    """What the event page says about scrubbing: {"filtered", "removed", "paths"} from a stored event's marker, or
    None when nothing was scrubbed (or the marker is not ours to read)."""
    marker = data.get(MARKER_KEY) if isinstance(data, dict) else None
    if not isinstance(marker, dict):
        return None
    filtered = marker.get("filtered") if isinstance(marker.get("filtered"), int) else 0
    removed = marker.get("removed") if isinstance(marker.get("removed"), int) else 0
    paths = [p for p in marker.get("paths", []) if isinstance(p, str)] if isinstance(marker.get("paths"), list) else []
    if filtered <= 0 and removed <= 0:
        return None
    return {"filtered": max(filtered, 0), "removed": max(removed, 0), "paths": paths[:MAX_PATHS]}


def policy_for(project) -> ScrubPolicy:
    """A project's scrubbing settings as this module applies them (fields saved through the form are clean; a bad
    line put there some other way is skipped rather than failing every digest)."""
    return ScrubPolicy(
        defaults=project.scrub_defaults,
        sensitive_fields=tuple(lenient_field_names(project.scrub_sensitive_fields)),
        safe_fields=tuple(lenient_field_names(project.scrub_safe_fields)),
        scrub_ip_addresses=project.scrub_ip_addresses,
    )
