"""Retention of release health and discard counts: rows older than HEALTH_RETENTION_DAYS (0: no limit) are deleted
in batches of BATCH_SIZE, at most `max_batches` per run (the periodic EXPIRE_HEALTH job takes up the rest next time).
The rows of old hours are never written by digest (sessions that old are not counted), so this runs beside it
safely."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from bugsink import jobs
from health.models import DiscardCount, SessionBucket

BATCH_SIZE = 1000


@dataclass
class HealthRetentionReport:
    buckets: int = 0
    discards: int = 0

    @property
    def total(self) -> int:
        return self.buckets + self.discards


def _delete_in_batches(queryset, max_batches: int) -> int:
    deleted = 0
    for _ in range(max_batches):
        pks = list(queryset.order_by("pk").values_list("pk", flat=True)[:BATCH_SIZE])
        if not pks:
            break
        deleted += queryset.model.objects.filter(pk__in=pks).delete()[0]
    return deleted


@jobs.job("health.tasks.expire_health")
def expire_health_job() -> int:
    """The periodic job: `expire_health` as of now; how many rows went."""
    return expire_health().total


def expire_health(now: datetime | None = None, max_batches: int = 100) -> HealthRetentionReport:
    if not settings.HEALTH_RETENTION_DAYS:  # 0: no age limit
        return HealthRetentionReport()
    cutoff = (now or timezone.now()) - timedelta(days=settings.HEALTH_RETENTION_DAYS)
    return HealthRetentionReport(
        buckets=_delete_in_batches(SessionBucket.objects.filter(hour__lt=cutoff), max_batches),
        discards=_delete_in_batches(DiscardCount.objects.filter(day__lt=cutoff.date()), max_batches),
    )
