"""Hand an accepted event to digest: durably stored first, then digested inline (eager) or via the broker."""

import logging
import threading

from django.conf import settings

from ingest.store import RawEvent, store_raw_event

logger = logging.getLogger(__name__)

# With Celery eager (no broker) digest runs in the web process; one digest at a time keeps a single writer.
EAGER_DIGEST_LOCK = threading.Lock()


def accept_event(*, project_id: int, event_id: str, payload: bytes, received_at: float, remote_addr: str) -> None:
    store_raw_event(
        RawEvent(
            project_id=project_id,
            event_id=event_id,
            received_at=received_at,
            remote_addr=remote_addr,
            payload=payload,
        )
    )
    schedule_digest(project_id, event_id)


def schedule_digest(project_id: int, event_id: str) -> None:
    """Never raises: the event is already on disk, and an undigested raw event is picked up again later."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        from ingest.digest import digest_event

        with EAGER_DIGEST_LOCK:
            try:
                digest_event(project_id, event_id)
            except Exception:
                logger.exception("digest of event %s failed; the raw event stays in the ingest store", event_id)
        return
    from ingest.tasks import digest

    try:
        digest.delay(project_id, event_id)
    except Exception:
        logger.exception("could not enqueue digest of event %s; the raw event stays in the ingest store", event_id)
