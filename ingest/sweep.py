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
    """Enqueue a digest for the raw events older than `grace_seconds`; returns how many digests were enqueued.

    One digest takes up to DIGEST_BATCH_SIZE pending events of its project along, so only every
    DIGEST_BATCH_SIZE-th key of a project is enqueued, not all of them.
    """
    if grace_seconds is None:
        grace_seconds = settings.INGEST_SWEEP_GRACE_SECONDS
    keys = store.pending_raw_events(older_than_seconds=grace_seconds)
    by_project: dict[str, list[str]] = {}
    for key in keys:
        by_project.setdefault(key.partition("/")[0], []).append(key)
    enqueued = 0
    for project_keys in by_project.values():
        for key in project_keys[:: max(settings.DIGEST_BATCH_SIZE, 1)]:
            schedule_digest(key)
            enqueued += 1
    if keys:
        logger.warning("sweep: %d undigested raw events found, %d digests enqueued", len(keys), enqueued)
    return enqueued
