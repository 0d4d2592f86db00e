"""Hand an accepted event to digest: durably stored first, then digested inline (eager) or via the broker."""

import logging
import threading

from django.conf import settings

from ingest.store import RawEvent, store_raw_event

logger = logging.getLogger(__name__)

# With Celery eager (no broker) digest runs in the web process; one digest at a time keeps a single writer.
EAGER_DIGEST_LOCK = threading.Lock()


def accept_event(*, project_id: int, event_id: str, payload: bytes, received_at: float, remote_addr: str) -> str:
    key = store_raw_event(
        RawEvent(
            project_id=project_id,
            event_id=event_id,
            received_at=received_at,
            remote_addr=remote_addr,
            payload=payload,
        )
    )
    schedule_digest(key)
    return key


def schedule_digest(key: str) -> None:
    """Never raises: the event is already on disk, and an undigested raw event is picked up again later."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        from ingest.digest import digest

        with EAGER_DIGEST_LOCK:
            try:
                digest(key)
            except Exception:
                logger.exception("digest of raw event %s failed; it stays in the ingest store", key)
        return
    from ingest.tasks import digest

    try:
        digest.apply_async(args=[key], queue=digest_queue(int(key.partition("/")[0])))
    except Exception:
        logger.exception("could not enqueue digest of raw event %s; it stays in the ingest store", key)


def digest_queue(project_id: int) -> str:
    """With DIGEST_SHARDS=N a project's digests all go to one of N queues (digest-0 .. digest-N-1), each with
    one consumer, so each project keeps a single writer while N workers digest in parallel."""
    shards = settings.DIGEST_SHARDS
    return "digest" if shards <= 1 else f"digest-{project_id % shards}"
