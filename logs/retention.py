"""Retention of structured logs: per project at most LOGS_RETENTION_MAX_ITEMS entries (the oldest go, right after the
digest that brought the project over it) and none older than LOGS_RETENTION_MAX_AGE_DAYS (the periodic EXPIRE_LOGS
job). Both delete in batches of RETENTION_DELETE_BATCH, and keep LogStats.stored_count in step with an F() update,
so that neither ever counts a project's rows."""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import F

from bugsink import jobs
from logs.models import LogEntry, LogStats

RETENTION_DELETE_BATCH = 5000


def evict_over_count(project_id: int, stored_count: int) -> int:
    """Delete the project's oldest log entries beyond LOGS_RETENTION_MAX_ITEMS, at most RETENTION_DELETE_BATCH."""
    limit = settings.LOGS_RETENTION_MAX_ITEMS
    if not limit or stored_count <= limit:
        return 0
    excess = min(stored_count - limit, RETENTION_DELETE_BATCH)
    oldest = LogEntry.objects.filter(project_id=project_id).order_by("timestamp", "id")
    ids = list(oldest.values_list("id", flat=True)[:excess])
    return _delete(project_id, ids)


def _delete(project_id: int, ids: list[int]) -> int:
    if not ids:
        return 0
    deleted, _ = LogEntry.objects.filter(project_id=project_id, id__in=ids).delete()
    LogStats.objects.filter(project_id=project_id).update(stored_count=F("stored_count") - deleted)
    return deleted


@jobs.job("logs.tasks.expire_logs")
def expire_logs(max_batches: int = 20) -> int:
    """Delete log entries older than LOGS_RETENTION_MAX_AGE_DAYS, in every project, RETENTION_DELETE_BATCH at a time
    (at most `max_batches` per project per run: the next run goes on)."""
    days = settings.LOGS_RETENTION_MAX_AGE_DAYS
    if not days:
        return 0
    cutoff = datetime.now(UTC) - timedelta(days=days)
    total = 0
    for project_id in LogStats.objects.filter(stored_count__gt=0).values_list("project_id", flat=True):
        for _ in range(max_batches):
            old = LogEntry.objects.filter(project_id=project_id, timestamp__lt=cutoff).order_by("timestamp", "id")
            deleted = _delete(project_id, list(old.values_list("id", flat=True)[:RETENTION_DELETE_BATCH]))
            total += deleted
            if deleted < RETENTION_DELETE_BATCH:
                break
    return total
