from celery import shared_task

from ingest.digest import digest as digest_raw_event


@shared_task(name="ingest.tasks.digest", acks_late=True)
def digest(key: str) -> int:
    """Digest the raw event `key` (and, in one batch, its project's other pending raw events)."""
    return digest_raw_event(key)
