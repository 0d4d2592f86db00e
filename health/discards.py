"""Counts of what was not kept (health.models.DiscardCount), written by digest, the project's single writer: the
counts of one call are summed in memory first, then one statement per row touched.

Client reports name categories and reasons of their own choosing: each is cut to its column, and a project keeps at
most MAX_KINDS_PER_DAY (source, category, reason) rows a day; the rest of that day is counted under reason "other".
"""

from collections import Counter
from datetime import date

from django.db.models import F

from health.models import DiscardCount

MAX_KINDS_PER_DAY = 100
OTHER = "other"


def clean(text, limit: int) -> str:
    text = text if isinstance(text, str) else ""
    return "".join(c for c in text if c.isprintable())[:limit] or "unknown"


def add_discards(project, counts: Counter) -> None:
    """Add `counts` {(day, source, category, reason): quantity} to the project's rows."""
    counts = Counter({key: n for key, n in counts.items() if n > 0})
    if not counts:
        return
    days = {day for day, *_ in counts}
    rows = {
        (row.day, row.source, row.category, row.reason): row
        for row in DiscardCount.objects.filter(project=project, day__in=days)
    }
    kinds_per_day = Counter(day for day, *_ in rows)
    merged: Counter = Counter()
    for (day, source, category, reason), n in counts.items():
        key = (day, source, category, reason)
        if key not in rows and key not in merged:
            if kinds_per_day[day] >= MAX_KINDS_PER_DAY:
                key = (day, source, category, OTHER)
                if key not in rows and key not in merged:
                    key = (day, source, OTHER, OTHER)
            if key not in rows and key not in merged:
                kinds_per_day[day] += 1
        merged[key] += n
    new = []
    for key, n in merged.items():
        row = rows.get(key)
        if row is None:
            day, source, category, reason = key
            new.append(
                DiscardCount(project=project, day=day, source=source, category=category, reason=reason, quantity=n)
            )
        else:
            DiscardCount.objects.filter(pk=row.pk).update(quantity=F("quantity") + n)
    DiscardCount.objects.bulk_create(new)


def day_of(moment) -> date:
    return moment.date()
