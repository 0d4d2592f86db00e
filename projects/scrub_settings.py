"""The text format of a project's extra scrubbing fields (the sensitive and the safe field names): one per line or
comma-separated. The form validates with it; events.scrub reads the saved settings with it."""

import re

MAX_FIELD_NAMES = 100  # per list of extra sensitive / safe fields
MAX_FIELD_NAME_CHARS = 100


def parse_field_names(text: str) -> list[str]:
    """Field names from a settings text: one per line (or comma-separated), trimmed, duplicates (ignoring case)
    and empty entries dropped. Raises ValueError for too many or too long names."""
    names: list[str] = []
    seen = set()
    for part in re.split(r"[\n,]", text or ""):
        name = part.strip()
        if not name or name.lower() in seen:
            continue
        if len(name) > MAX_FIELD_NAME_CHARS:
            raise ValueError(f"field names are at most {MAX_FIELD_NAME_CHARS} characters: {name[:40]}…")
        if any(ord(c) < 32 for c in name):
            raise ValueError("field names cannot contain control characters")
        seen.add(name.lower())
        names.append(name)
    if len(names) > MAX_FIELD_NAMES:
        raise ValueError(f"at most {MAX_FIELD_NAMES} field names")
    return names


def lenient_field_names(text: str) -> list[str]:
    """The names of a saved setting; one put there other than through the form (too many, too long) is cut to the
    bounds instead of failing every digest."""
    try:
        return parse_field_names(text)
    except ValueError:
        return [line.strip()[:MAX_FIELD_NAME_CHARS] for line in (text or "").splitlines() if line.strip()][
            :MAX_FIELD_NAMES
        ]
