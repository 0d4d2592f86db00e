"""The sweep: raw events that were accepted but never digested (a lost broker message, a worker killed mid-task,
a flushed Redis, a process that stopped with work pending) are enqueued again. Digest is idempotent, so a
re-enqueued event that was in fact still on its way is stored once all the same. The sweep also removes the ingest
store's temporaries of writes that never finished (older than an hour).

Runs periodically (the beat schedule's `ingest.tasks.sweep`, with or without a broker: see bugsink.jobs) and on
demand (`python manage.py sweep`).
"""

import logging

from django.conf import settings

from bugsink import jobs
from digest.job import digest_job
from ingest import store
from ingest.raw import split_key

logger = logging.getLogger(__name__)

ORPHAN_TEMPORARY_AGE_SECONDS = 3600


@jobs.job("ingest.tasks.sweep")
def sweep(grace_seconds: float | None = None) -> int:
    """Enqueue a digest for each project with raw events older than `grace_seconds`; returns how many digests
    were enqueued. A digest drains all of its project's pending events, so one per project is enough; it is
    enqueued even when the project's "digest queued" flag is set (the flagged message may be the one lost)."""
    removed = store.remove_orphan_temporaries(older_than_seconds=ORPHAN_TEMPORARY_AGE_SECONDS)
    if removed:
        logger.info("sweep: %d orphan temporaries removed from the ingest store", removed)
    if grace_seconds is None:
        grace_seconds = settings.INGEST_SWEEP_GRACE_SECONDS
    keys = store.pending_raw_events(older_than_seconds=grace_seconds)
    by_project: dict[int, list[str]] = {}
    for key in keys:
        by_project.setdefault(split_key(key)[0], []).append(key)
    enqueued = 0
    for project_keys in by_project.values():
        digest_job.schedule(project_keys[0], force=True)
        enqueued += 1
    if keys:
        logger.warning("sweep: %d undigested raw events found, %d digests enqueued", len(keys), enqueued)
    return enqueued
