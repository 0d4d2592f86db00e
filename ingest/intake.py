"""Hand an accepted event to digest: durably stored first, then digested inline (eager) or via the broker.

With a broker, one queued digest per project is enough: a digest task drains all of its project's pending raw
events (ingest.digest.digest_pending). So an event only enqueues a task when none is queued for its project; a
flag in Redis (the broker) says so, set when a task is enqueued and cleared when the task starts. Under load this
turns thousands of messages per second, each costing the digest worker more than the digest of its event, into a
few. The flag expires (DIGEST_FLAG_SECONDS) so a lost message delays a project's digest at most that long; the
sweep covers the rest.
"""

import logging
import threading

import redis
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


def schedule_digest(key: str, force: bool = False) -> None:
    """Never raises: the event is already on disk, and an undigested raw event is picked up again later.

    Without `force`, nothing is enqueued while a digest for the event's project is queued already."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        from ingest.digest import digest

        with EAGER_DIGEST_LOCK:
            try:
                digest(key)
            except Exception:
                logger.exception("digest of raw event %s failed; it stays in the ingest store", key)
        return
    from ingest.tasks import digest

    project_id = int(key.partition("/")[0])
    if not force and not _claim_digest(project_id):
        return  # the queued digest takes this event along
    try:
        digest.apply_async(args=[key], queue=digest_queue(project_id))
    except Exception:
        release_digest_claim(project_id)
        logger.exception("could not enqueue digest of raw event %s; it stays in the ingest store", key)


_flags: dict[str, redis.Redis] = {}


def _flag_client() -> redis.Redis | None:
    url = settings.CELERY_BROKER_URL or ""
    if not url.startswith(("redis://", "rediss://")):
        return None  # another broker: one message per event, as plain Celery does
    if url not in _flags:
        _flags[url] = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    return _flags[url]


def _flag(project_id: int) -> str:
    return f"bugsink:digest-queued:{project_id}"


def _claim_digest(project_id: int) -> bool:
    """True when this caller should enqueue a digest for the project (no other digest is queued for it)."""
    client = _flag_client()
    if client is None:
        return True
    try:
        return bool(client.set(_flag(project_id), "1", nx=True, ex=settings.DIGEST_FLAG_SECONDS))
    except (redis.RedisError, OSError):
        return True  # cannot tell: enqueue (a spare digest costs little, a missing one delays events)


def release_digest_claim(project_id: int) -> None:
    """Called by a digest task as it starts: events arriving from now on need a digest of their own."""
    client = _flag_client()
    if client is None:
        return
    try:
        client.delete(_flag(project_id))
    except (redis.RedisError, OSError):
        pass  # the flag expires by itself


def digest_queue(project_id: int) -> str:
    """With DIGEST_SHARDS=N a project's digests all go to one of N queues (digest-0 .. digest-N-1), each with
    one consumer, so each project keeps a single writer while N workers digest in parallel."""
    shards = settings.DIGEST_SHARDS
    return "digest" if shards <= 1 else f"digest-{project_id % shards}"
