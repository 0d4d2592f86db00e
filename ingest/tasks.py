from celery import shared_task

from ingest.digest import digest as digest_raw_event


@shared_task(name="ingest.tasks.digest", acks_late=True)
def digest(key: str) -> int:
    """Digest the raw event `key` (and, in one batch, its project's other pending raw events)."""
    return digest_raw_event(key)


@shared_task(name="ingest.tasks.sweep")
def sweep(grace_seconds: float | None = None) -> int:
    """Re-enqueue raw events that were accepted but not digested (see ingest.sweep)."""
    from ingest.sweep import sweep as sweep_store

    return sweep_store(grace_seconds)
