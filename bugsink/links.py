"""Which URLs a page may make a link of: http and https only, checked where a URL comes in and again where it is
shown.

A user or a client (a token, an SDK) can supply a URL that a page then shows as a link: a release's `url`, a deploy's
`url` (sentry-cli), a webhook's target. As an `href`, a `javascript:` or `data:` URL runs script or shows content
under this site's name when clicked, so such a value is refused where it comes in (the API answers 400, a form shows
its error) and, for rows stored before that check or written some other way, shown as plain text instead of a link.

The test is strict on purpose: the value must start with `http://` or `https://` (any case) and hold no whitespace or
control character at all. Browsers drop tabs and line breaks anywhere in a URL and spaces and control characters at
its ends before they read the scheme (so "java\tscript:" and " javascript:" are `javascript:` URLs to them); a value
without any of those that starts with one of the two schemes is read by every browser as that scheme.
"""

import re
from urllib.parse import urlsplit

# the characters browsers strip or ignore before reading a URL's scheme, and any other whitespace or control
_UNSAFE_CHARACTERS = re.compile(r"[\x00-\x20\x7f-\x9f\s]")
_HTTP_SCHEME = re.compile(r"https?://", re.IGNORECASE)

HTTP_URL_RULE = "an http:// or https:// URL with a host, without spaces or control characters"


def is_http_url(value) -> bool:
    """Whether `value` is an http(s) URL with a host that a page may use as a link's `href`."""
    if not isinstance(value, str) or not _HTTP_SCHEME.match(value) or _UNSAFE_CHARACTERS.search(value):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  raises ValueError for a port that is not a number in range
    except ValueError:
        return False
    return bool(parts.hostname)


def http_url_or_empty(value) -> str:
    """`value` when it is an http(s) URL a page may link to, else ""."""
    return value if is_http_url(value) else ""
