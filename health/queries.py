"""What the pages show of discard counts: the last DISCARD_DAYS days, summed per source, category and reason."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Sum
from django.utils import timezone

from health.models import DiscardCount

DISCARD_DAYS = 30


@dataclass
class DiscardRow:
    source: str
    category: str
    reason: str
    quantity: int


def recent_discards(project, days: int = DISCARD_DAYS) -> list[DiscardRow]:
    since = timezone.now().date() - timedelta(days=days - 1)
    rows = (
        DiscardCount.objects.filter(project=project, day__gte=since)
        .values_list("source", "category", "reason")
        .annotate(n=Sum("quantity"))
        .order_by("source", "-n", "category", "reason")
    )
    return [DiscardRow(source, category, reason, n) for source, category, reason, n in rows]
