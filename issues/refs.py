"""An issue named in any of the forms people paste: its UUID (with or without dashes, any case) or its short id
like `MYAPP-12` (the project's short prefix, a dash, the per-project number). URLs and the search box accept all.

The short prefix is the project's slug upper-cased, and slugs may hold dashes themselves (`my-app-2`), so the
number is whatever follows the last dash.
"""

import re
import uuid

from django.db.models import Q

_SHORT_ID = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_-]*)-(\d{1,9})$")
_HEX32 = re.compile(r"^[0-9a-fA-F]{32}$")
_DASHED = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def parse_uuid(text: str) -> uuid.UUID | None:
    text = text.strip()
    if _HEX32.match(text) or _DASHED.match(text):
        return uuid.UUID(text)
    return None


def parse_short_id(text: str) -> tuple[str, int] | None:
    """(project slug, issue number) for `MYAPP-12`; None when it has not that shape."""
    match = _SHORT_ID.match(text.strip())
    if not match:
        return None
    return match.group(1).lower(), int(match.group(2))


def issue_ref_q(text: str) -> Q | None:
    """A filter on Issue for the issue `text` names, or None when `text` is no issue reference at all."""
    as_uuid = parse_uuid(text)
    if as_uuid is not None:
        return Q(pk=as_uuid)
    short = parse_short_id(text)
    if short is not None:
        slug, number = short
        return Q(project__slug=slug, number=number)
    return None
