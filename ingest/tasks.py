from celery import shared_task

from ingest.digest import digest_pending
from ingest.intake import release_digest_claim


@shared_task(name="ingest.tasks.digest", acks_late=True)
def digest(key: str) -> int:
    """Digest the raw event `key` and every other pending raw event of its project (see ingest.intake)."""
    project_id = int(key.partition("/")[0])
    release_digest_claim(project_id)
    return digest_pending(project_id)


@shared_task(name="ingest.tasks.sweep")
def sweep(grace_seconds: float | None = None) -> int:
    """Re-enqueue raw events that were accepted but not digested (see ingest.sweep)."""
    from ingest.sweep import sweep as sweep_store

    return sweep_store(grace_seconds)
