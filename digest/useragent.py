"""Browser, OS and device contexts derived from an event's User-Agent header, as Sentry derives them at ingestion.

Browser SDKs never send `contexts.browser` or `contexts.os`: what a `@sentry/browser` event says about the browser
is the `User-Agent` in its `request.headers` (the SDK copies `navigator.userAgent` there). Digest calls
`add_user_agent_contexts` on the normalized event, and the contexts it adds are stored with the event, so the tags
(tags.extract: `browser`, `browser.name`, `os`, `os.name`, `device`), the search, the Details tab and /api/0/ all
see them like contexts an SDK sent.

The rules (Sentry's, as its Relay applies them):
- a context the SDK sent wins: nothing is derived for a key the event already has;
- `browser`: {name, version}, the version as major[.minor[.patch]] ("Chrome", "120.0.0");
- the OS goes to `os` for browser events (platform `javascript`), and to `client_os` for every other platform,
  whose own `os` context (sent or not) is the server's, not the visitor's; tags.extract falls back to it;
- `device`: {family, model, brand} (model and brand where known);
- nothing is derived from what the parser cannot tell ("Other"), from an empty header, or from one that is not text.

The parser is `ua-parser` with `ua-parser-builtins` (uap-core's regexes, released monthly) and google-re2: the
regexes run in RE2's linear-time engine, so a User-Agent made to make a regex backtrack costs no more than any other,
and a string never seen costs about 0.03-0.05 ms. The compiled regexes take about 8 MB in the process that digests
(loaded on the first User-Agent it meets; ua-parser-rs, the Rust engine, held 25 MB for the same). Results are
cached per string in a bounded LRU: an application's visitors bring a few hundred distinct strings, so digest nearly
always finds its answer there.
"""

import logging
import threading
from functools import lru_cache

from events.safe import clean_str

logger = logging.getLogger(__name__)

MAX_USER_AGENT_CHARS = 1024  # longer is not a browser's; the rest says nothing the start does not
USER_AGENT_CACHE_SIZE = 4096  # distinct strings remembered (a few hundred bytes each)
UNKNOWN = "Other"  # what the parser answers when no regex matches

_resolver = None
_resolver_lock = threading.Lock()


def _get_resolver():
    """ua-parser's best available resolver over the built-in regexes, made once (on first use: it is the
    memory)."""
    global _resolver
    import ua_parser  # here: the package loads google-re2 (~3 MB), which only the process that digests needs

    with _resolver_lock:
        if _resolver is None:
            # a linear-time engine (RE2, else the Rust one if installed) over the lazily compiled regexes; the
            # backtracking `re` over all of them only where neither is installed
            fast = ua_parser.Re2Resolver or ua_parser.RegexResolver
            if fast is not None:
                _resolver = fast(ua_parser.load_lazy_builtins())
            else:
                _resolver = ua_parser.BestAvailableResolver(ua_parser.load_builtins())
    return _resolver


def _version(major, minor, patch) -> str | None:
    if not major:
        return None
    if not minor:
        return major
    return f"{major}.{minor}.{patch}" if patch else f"{major}.{minor}"


def _context(kind: str, **fields) -> tuple[tuple[str, str], ...]:
    return (*((key, value) for key, value in fields.items() if value), ("type", kind))


@lru_cache(maxsize=USER_AGENT_CACHE_SIZE)
def parse_user_agent(user_agent: str) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """(("browser" | "os" | "device", context as (key, value) pairs), ...) for what the User-Agent tells; a tuple,
    since the cache hands the same result to every caller. The caller bounds the string and makes it UTF-8-safe
    (add_user_agent_contexts), so that the cache key is what was parsed."""
    from ua_parser import Domain

    result = _get_resolver()(user_agent, Domain.ALL)
    found = []
    browser, os, device = result.user_agent, result.os, result.device
    if browser is not None and browser.family != UNKNOWN:
        version = _version(browser.major, browser.minor, browser.patch)
        found.append(("browser", _context("browser", name=browser.family, version=version)))
    if os is not None and os.family != UNKNOWN:
        found.append(("os", _context("os", name=os.family, version=_version(os.major, os.minor, os.patch))))
    if device is not None and device.family != UNKNOWN:
        found.append(("device", _context("device", family=device.family, model=device.model, brand=device.brand)))
    return tuple(found)


def user_agent_of(event: dict) -> str:
    """The event's `request.headers` User-Agent (any case of the name), '' when there is none that is text."""
    request = event.get("request")
    headers = request.get("headers") if isinstance(request, dict) else None
    if not isinstance(headers, dict):
        return ""
    for name, value in headers.items():
        if isinstance(name, str) and name.lower() == "user-agent" and isinstance(value, str):
            return value.strip()
    return ""


def add_user_agent_contexts(event: dict) -> None:
    """In place: the browser, OS and device contexts the event's User-Agent tells, where the event has none."""
    user_agent = user_agent_of(event)
    if not user_agent:
        return
    try:
        derived = dict(parse_user_agent(clean_str(user_agent[:MAX_USER_AGENT_CHARS])))
    except Exception:  # the parser's own failure must not cost the event: it is stored without these contexts
        logger.exception("the User-Agent %r could not be parsed", user_agent[:200])
        return
    if not derived:
        return
    contexts = event.get("contexts")
    if not isinstance(contexts, dict):
        contexts = {}
    os_key = "os" if event.get("platform") == "javascript" else "client_os"
    added = False
    for kind, key in (("browser", "browser"), ("os", os_key), ("device", "device")):
        if kind in derived and contexts.get(key) in (None, "", {}):
            contexts[key] = dict(derived[kind])
            added = True
    if added:
        event["contexts"] = contexts
