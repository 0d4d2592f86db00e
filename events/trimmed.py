"""What trimming did to a stored event, as people read it: the marker that digest.trim leaves in an event it trimmed,
and the sentence the event page shows for it. The event's own vocabulary, so that pages read it without reaching
into digest's code."""

MARKER = "_trimmed"
MAX_NAMES = 10  # field names the marker lists


def _megabytes(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(size, 0) / 1024:.0f} KB"


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def describe(event) -> str:
    """What trimming removed from a stored event, as one sentence; "" when it was not trimmed."""
    marker = event.get(MARKER) if isinstance(event, dict) else None
    if not isinstance(marker, dict):
        return ""

    def number(key: str) -> int:
        value = marker.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0

    parts = []
    cut_to = _megabytes(number("cut_to")) if number("cut_to") else "a shorter length"
    if number("frame_variables_cut"):
        parts.append(f"{_plural(number('frame_variables_cut'), 'frame variable')} cut to {cut_to}")
    if number("values_cut"):
        parts.append(f"{_plural(number('values_cut'), 'other long value')} cut to {cut_to}")
    if number("frame_locals_dropped"):
        parts.append(f"locals of {_plural(number('frame_locals_dropped'), 'frame')} removed")
    if number("frames_omitted"):
        parts.append(f"{_plural(number('frames_omitted'), 'frame')} omitted from the middle of the stack")
    if number("breadcrumbs_dropped"):
        parts.append(f"{_plural(number('breadcrumbs_dropped'), 'oldest breadcrumb')} removed")
    if number("extra_dropped"):
        parts.append(f"{_plural(number('extra_dropped'), 'extra entry', 'extra entries')} removed")
    if number("contexts_dropped"):
        parts.append(f"{_plural(number('contexts_dropped'), 'context')} removed")
    fields = marker.get("fields_dropped")
    if isinstance(fields, list) and fields:
        parts.append("fields removed: " + ", ".join(str(f)[:64] for f in fields[:MAX_NAMES]))
    if number("exceptions_dropped"):
        parts.append(f"{_plural(number('exceptions_dropped'), 'older exception')} of the chain removed")
    if marker.get("bare") is True:
        parts.append("only the raised exception's type and value kept")
    elif marker.get("reduced_to_essentials") is True:
        parts.append("reduced to the exceptions, crash frames, message and tags")
    removed = number("original_size") - number("size")
    sizes = f"trimmed {_megabytes(removed)}" if removed > 0 else "trimmed"
    sizes += f" (from {_megabytes(number('original_size'))} to {_megabytes(number('size'))})"
    return f"This event was too large to keep whole and was {sizes}: " + ("; ".join(parts) or "nothing removed") + "."
