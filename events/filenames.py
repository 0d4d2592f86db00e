"""A frame's file name as people read it: relative to the origin that served it.

Browser SDKs report a frame's file by its full URL (`http://127.0.0.1:4741/src/checkout.js?v=3`); the page and the
culprit show `src/checkout.js`, as Sentry does, and keep the URL for a tooltip and the API. File paths, `file://`
URLs and names that are not URLs (a module, `<anonymous>`) are left as they are.
"""

import re

_ORIGIN = re.compile(r"^(?!file:)[a-z][a-z0-9+.-]*://[^/?#]*", re.IGNORECASE)


def short_filename(name: str) -> str:
    """`name` without its scheme, host, query and fragment when it is such a URL, else unchanged."""
    if not isinstance(name, str):
        return ""
    match = _ORIGIN.match(name)
    if not match:
        return name
    path = name[match.end() :].split("#", 1)[0].split("?", 1)[0].lstrip("/")
    return path or name
