"""The sweep: raw events that were accepted but never digested (a lost broker message, a worker killed mid-task,
a flushed Redis) are enqueued again. Digest is idempotent, so a re-enqueued event that was in fact still on its
way is stored once all the same.

Runs periodically (Celery beat: `ingest.tasks.sweep`) and on demand (`python manage.py sweep`).
"""

import logging

from django.conf import settings

from ingest import store
from ingest.intake import schedule_digest

logger = logging.getLogger(__name__)


def sweep(grace_seconds: float | None = None) -> int:
    """Enqueue a digest for each project with raw events older than `grace_seconds`; returns how many digests
    were enqueued. A digest drains all of its project's pending events, so one per project is enough; it is
    enqueued even when the project's "digest queued" flag is set (the flagged message may be the one lost)."""
    if grace_seconds is None:
        grace_seconds = settings.INGEST_SWEEP_GRACE_SECONDS
    keys = store.pending_raw_events(older_than_seconds=grace_seconds)
    by_project: dict[str, list[str]] = {}
    for key in keys:
        by_project.setdefault(key.partition("/")[0], []).append(key)
    enqueued = 0
    for project_keys in by_project.values():
        schedule_digest(project_keys[0], force=True)
        enqueued += 1
    if keys:
        logger.warning("sweep: %d undigested raw events found, %d digests enqueued", len(keys), enqueued)
    return enqueued
