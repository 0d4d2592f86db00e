"""Client reports: what an SDK discarded before sending, and why (`client_report` items), kept per project and day
as DiscardCount rows of source "sdk".

A report is {"timestamp": ..., "discarded_events": [{"reason": "queue_overflow", "category": "error", "quantity": 3},
...]}; older SDKs also send "rate_limited_events", "filtered_events" and "filtered_sampling_events" lists of
{"reason", "category", "quantity"}, which read the same way. Work per item is bounded (MAX_ENTRIES_PER_REPORT);
an unreadable report is counted as not usable, never raised.
"""

import json
from collections import Counter
from datetime import UTC

from health.discards import add_discards, clean
from health.models import DiscardCount

LISTS = ("discarded_events", "rate_limited_events", "filtered_events", "filtered_sampling_events")
MAX_ENTRIES_PER_REPORT = 200
MAX_QUANTITY = 10**9


def report_counts(payload: bytes) -> list[tuple[str, str, int]] | None:
    """(category, reason, quantity) of a report, or None when it is not one."""
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    counts = []
    for name in LISTS:
        entries = data.get(name)
        if not isinstance(entries, list):
            continue
        for entry in entries[: MAX_ENTRIES_PER_REPORT - len(counts)]:
            if not isinstance(entry, dict):
                continue
            quantity = entry.get("quantity")
            if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
                continue
            counts.append(
                (clean(entry.get("category"), 40), clean(entry.get("reason"), 64), min(quantity, MAX_QUANTITY))
            )
    return counts


def digest_client_reports(project, items) -> None:
    counts: Counter = Counter()
    for item in items:
        day = item.ingested_at.astimezone(UTC).date()
        found = None if item.headers.get("dropped") else report_counts(item.payload)
        if found is None:
            counts[(day, DiscardCount.UNUSABLE, "internal", "client report not readable")] += 1
            continue
        for category, reason, quantity in found:
            counts[(day, DiscardCount.SDK, category, reason)] += quantity
    add_discards(project, counts)
