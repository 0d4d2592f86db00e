"""The digest-claim protocol: about one digest message per project at a time, whatever the rate of events.

An accepted event asks for the digest of its project with `digest_job.schedule(key)`. A digest that runs takes every
pending event of its project along, so one queued digest per project is enough: "a digest is queued for this
project" is a flag in Redis (with a Redis broker; its key namespaced per installation by `bugsink.jobs.namespace`),
set with SET NX by the event that enqueues the digest and cleared by the digest as it starts
(`release_digest_claim`), before it lists the pending events. Without a broker the flag is a set in this process.
The claim window (`ClaimWindow`) asks Redis at most once per project per DIGEST_CLAIM_WINDOW_MS. During a broker
outage the digest is deferrable (bugsink.jobs.BrokerOutage): its events wait in the ingest store, and each project
whose digest was not sent gets one when the broker is back.

How a job runs (inline, in the background, as a message) is bugsink.jobs' business; this module only decides when
the digest job is asked for.
"""

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.conf import settings

from bugsink import jobs

if TYPE_CHECKING:
    import redis

logger = logging.getLogger(__name__)


class DigestJob(jobs.Job):
    """The digest job, whose messages the digest-claim protocol below keeps to about one per project at a time.

    Deferrable: its events wait in the ingest store while the broker is down, and when it is back each project whose
    digest was not sent gets one (through the claim). Without a broker, asked for with `later` (DIGEST_IMMEDIATELY),
    it runs in the caller: the ingest request digests its own event."""

    deferrable = True
    runs_in_caller = True

    def schedule(self, key: str, force: bool = False) -> None:
        """Have the raw event `key` digested (with its project's other pending events). Without `force`, nothing is
        enqueued while a digest for the project is queued already (the queued one takes this event along). Never
        raises: the event is on disk already, and an undigested raw event is picked up again later (the sweep)."""
        project_id = self._project((key,))
        if digests_inline():
            self.later(key)
            return
        if not jobs.broker_configured():
            if force or _claim_local(project_id):
                self.in_background(key)
            return
        if force:
            _enqueue_digest(project_id, key, claim=False)
        elif _claims.ask_now(project_id, key):
            _enqueue_digest(project_id, key)

    def resume(self, project_id: int | None, first_arg) -> None:
        """The broker is back: a digest for a project whose digest was not sent during the outage."""
        _enqueue_digest(int(project_id), first_arg)


_digest: DigestJob | None = None


def digest_job(name: str, *, writer: Callable):
    """Declare the digest job (there is one): a single writer's job, acknowledged when done, that applies the
    contention policy per batch itself, with `schedule(key)` for the events that ask for it."""

    def declare(function: Callable) -> DigestJob:
        global _digest
        declared = jobs.job(name, writer=writer, acks_late=True, retries_contention=True)(function)
        declared.__class__ = DigestJob
        _digest = declared
        return declared

    return declare


def schedule_digest(key: str) -> None:
    """`digest_job.schedule(key)` for the pipeline that the job runs (digest.batch), which does not import the job's
    module (digest.job imports it where it runs). The digest app declares the job as it starts (digest.apps)."""
    _digest.schedule(key)


def _enqueue_digest(project_id: int, key: str, claim: bool = True) -> None:
    if jobs.outage.is_down():  # not even the digest flag's round trip: the broker (Redis) failed a moment ago
        jobs.outage.not_sent(_digest.name, project_id, key)
        return
    if claim and not _claim_digest(project_id):
        return
    if not _digest.later(key):
        release_digest_claim(project_id)


class ClaimWindow:
    """At most one "is a digest queued?" question to Redis per project per DIGEST_CLAIM_WINDOW_MS in this process.

    Every accepted event asked Redis (SET NX, a round trip and a tenth of the web process's CPU). Now the first
    event of a window asks at once; the others only note that the project needs asking again, and this class asks
    for them once, when the window ends (on its own thread; a question asked then opens the next window). Whatever
    Redis answers a question asked at or after an event was stored covers that event: either this question enqueues
    a digest, or one is queued that has not started (a digest clears the flag before it lists the pending events).
    So no event waits for the sweep; one waits at most a window longer for its digest to start. Ending the process
    within a window leaves that window's events to the next event's question or to the sweep, as a broker that is
    down would."""

    def __init__(self, ask=None):
        self._ask = ask or _enqueue_digest
        self._changed = threading.Condition()
        self._window_end: dict[int, float] = {}
        self._waiting: dict[int, str] = {}  # project -> the newest event's key that did not ask
        self._thread: threading.Thread | None = None

    @staticmethod
    def _window() -> float:
        return max(settings.DIGEST_CLAIM_WINDOW_MS, 0) / 1000

    def ask_now(self, project_id: int, key: str) -> bool:
        window = self._window()
        if window <= 0:
            return True
        now = time.monotonic()
        with self._changed:
            if now >= self._window_end.get(project_id, 0.0):
                self._window_end[project_id] = now + window
                return True
            newly_waiting = project_id not in self._waiting
            self._waiting[project_id] = key
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="digest-claims", daemon=True)
                self._thread.start()
            if newly_waiting:  # else the thread waits for this project's window already: no wake-up per event
                self._changed.notify()
            return False

    def reset(self) -> None:
        """No window open, nothing waiting (what waited is left to the next event's question or the sweep)."""
        with self._changed:
            self._window_end.clear()
            self._waiting.clear()
            self._changed.notify()

    def _due(self) -> list[tuple[int, str]]:
        """Wait until some waiting project's window has ended; those projects and keys, with a new window each."""
        with self._changed:
            while True:
                now = time.monotonic()
                due = [(project, key) for project, key in self._waiting.items() if self._window_end[project] <= now]
                if due:
                    for project, _ in due:
                        del self._waiting[project]
                        self._window_end[project] = now + self._window()
                    return due
                ends = [self._window_end[project] for project in self._waiting]
                self._changed.wait(timeout=(min(ends) - now) if ends else None)

    def _run(self) -> None:
        while True:
            for project_id, key in self._due():
                try:
                    self._ask(project_id, key)
                except Exception:  # never ends the thread: the sweep still has the event
                    logger.exception("could not ask for a digest of project %s", project_id)


_claims = ClaimWindow()


def forget_claims() -> None:
    """Forget which projects have a digest queued or a claim window open in this process (the tests' project ids
    repeat: one test's open window or queued flag must not hold back the next test's digest)."""
    with _local_claims_lock:
        _local_claims.clear()
    _claims.reset()


def digests_inline() -> bool:
    """Does each accepted event's request digest it itself (no broker, DIGEST_IMMEDIATELY)?"""
    return not jobs.broker_configured() and settings.DIGEST_IMMEDIATELY


def release_digest_claim(project_id: int) -> None:
    """Called by a digest as it starts: events arriving from now on need a digest of their own."""
    if not jobs.broker_configured():
        with _local_claims_lock:
            _local_claims.discard(project_id)
        return
    client = _flag_client()
    if client is None:
        return
    import redis  # loaded with the client (_flag_client)

    try:
        client.delete(_flag_key(project_id))
    except (redis.RedisError, OSError):
        pass  # the flag expires by itself


def _claim_digest(project_id: int) -> bool:
    """True when this caller should enqueue a digest for the project (no other digest is queued for it)."""
    client = _flag_client()
    if client is None:
        return True
    import redis  # loaded with the client (_flag_client)

    try:
        return bool(client.set(_flag_key(project_id), "1", nx=True, ex=settings.DIGEST_FLAG_SECONDS))
    except (redis.RedisError, OSError):
        return True  # cannot tell: enqueue (a spare digest costs little, a missing one delays events)


# without a broker: the projects whose digest waits on the background thread (the Redis flag's in-process twin)
_local_claims: set[int] = set()
_local_claims_lock = threading.Lock()


def _claim_local(project_id: int) -> bool:
    with _local_claims_lock:
        if project_id in _local_claims:
            return False
        _local_claims.add(project_id)
        return True


_flag_clients: dict[str, "redis.Redis"] = {}


def _flag_client() -> "redis.Redis | None":
    url = settings.CELERY_BROKER_URL or ""
    if not url.startswith(("redis://", "rediss://")):
        return None  # another broker: one message per event, as plain Celery does
    # imported with the first Redis broker: `make run` has none, and never loads redis-py (~5 MB resident)
    import redis

    if url not in _flag_clients:
        _flag_clients[url] = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    return _flag_clients[url]


def _flag_key(project_id: int) -> str:
    return f"bugsink:{jobs.namespace()}:digest-queued:{project_id}"
