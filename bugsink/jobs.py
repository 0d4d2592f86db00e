"""Jobs: the one place that decides how work runs, inline or through the broker.

A job is a function declared once, next to its work, with the `job` decorator (the digest with `digest_job`):

    @jobs.job("issues.tasks.delete_issues", writer=lambda project_id, issue_ids: project_id, acks_late=True)
    def delete_issues_job(project_id, issue_ids): ...

and asked for by reference: `delete_issues_job.later(project_id, ids)`, `.after_commit(...)` (once the caller's
transaction commits), `digest_job.schedule(key)`; so a reader can grep a job and go to its definition. Calling it,
`delete_issues_job(...)`, runs the plain function in the caller. The decorator registers the function as a Celery
task under the job's name (a stable message name, which the routes and the beat schedule in settings use); each
app's `tasks.py` only imports the modules that declare its jobs, so that a worker knows them. This module alone
knows Celery, and it imports none of the project's modules.

A job's arguments go through JSON on every path, as the broker carries them: without a broker too, so an argument
that is not JSON fails in the first test that reaches the call, not once a broker is used.

Contention (the database says it was busy) has one retry policy, `retry_contention`: a job runs under it as a whole,
or (digest) applies it to each of its transactions; no other layer retries contention, with or without a broker.

With a broker (`CELERY_BROKER_URL`) a job is a message: `send_task` by name onto its queue (the routes in settings,
or the project's digest queue for the jobs of a project's single writer), after the caller's transaction commits
when asked, with a countdown for retries.

Without a broker (the embedded mode of `make run`, CELERY_TASK_ALWAYS_EAGER) jobs run in this process:
- a digest runs on the background thread, one per project at a time: an accepted event asks for one only when none
  is queued for its project (an in-process flag, as the Redis one below), and the digest that runs takes every
  pending event of the project along, in batches; with DIGEST_IMMEDIATELY (Bugsink's setting of that name) it runs
  at once in the caller instead (the ingest request), so that a 200 is followed by a stored event, at the price of
  batches no bigger than the requests waiting at that moment (bench/RESULTS.md: about a third of the rate);
- every other job runs on one background thread, so a slow webhook or a long eviction never holds up ingest; a job
  that another job asks for runs right there, as part of it (an alert's deliveries, the evictions the periodic
  retention job asks for), except what a single writer's job asks for (a digest's alerts: in the background);
- the jobs of a project's single writer (digest, eviction of one project, issue deletion) take WRITER_LOCK, so
  that in one process there is one writer, as there is one digest consumer with a broker;
- a job asked for with a countdown (an alert delivery's retry) waits on a timer, then goes to the background
  thread;
- the periodic jobs of the beat schedule (CELERY_BEAT_SCHEDULE) run on the background thread at their interval,
  once a server process calls `start_periodic` (bugsink.webserver does, unless JOBS_PERIODIC_WITHOUT_BROKER is
  off; tests and commands run them by hand).
Pending work on the background thread is lost when the process exits; the raw events it concerns are not, and the
sweep digests them after a restart.

"A digest is queued for this project" is a flag in Redis (with a Redis broker): an accepted event enqueues a digest
only when none is queued for its project. Its key is namespaced per installation (JOBS_NAMESPACE, by default a hash
of the database's identity), so two installations, or a test run, sharing one Redis never share a flag.

A broker that does not answer (BrokerOutage below) costs ingest nothing and fills no log: the events stay in the
ingest store, digests are not even tried for a second after a failed send, the log gets one warning per
BROKER_OUTAGE_WARNING_SECONDS with the number of events waiting, and the first send that works again asks for a
digest for every project whose digest could not be sent (the sweep takes whatever a restarted, empty broker lost).
"""

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import redis
from celery import current_task, shared_task
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from bugsink.celery import BROKER_UNREACHABLE, app

logger = logging.getLogger(__name__)

# --- the jobs, declared where their work is -----------------------------------------------------------------------


class Job:
    """A function that can run later: `job.later(*args)`, `job.after_commit(*args)`, or `job(*args)` (right now, in
    the caller, as the plain function). Made by the `job` decorator, which also registers it as a Celery task under
    its name, so a worker runs the same function with the same contention policy."""

    def __init__(self, function: Callable, name: str, writer: Callable | None, retries_contention: bool):
        self.function = function
        self.name = name
        self.writer = writer  # args -> the project whose single writer runs it; None: anyone may run it
        self.retries_contention = retries_contention
        self.__doc__, self.__name__, self.__module__ = function.__doc__, function.__name__, function.__module__
        self.__wrapped__ = function

    def __repr__(self) -> str:
        return f"<job {self.name}>"

    def __call__(self, *args, **kwargs):
        return self.function(*args, **kwargs)

    def later(self, *args, countdown: float | None = None) -> bool:
        """Run it with these arguments (JSON: what is not raises TypeError here, with or without a broker), as a
        message or in this process (see the module docstring), after `countdown` seconds if given. Returns False
        when it could not be sent (with a broker) or failed when run inline; raises nothing else."""
        return _run(self.name, _as_sent(self.name, args), project_id=self._project(args), countdown=countdown)

    def after_commit(self, *args) -> bool:
        """`later`, once the caller's transaction commits (nothing at all if it rolls back). The arguments are
        checked now."""
        return _run(self.name, _as_sent(self.name, args), project_id=self._project(args), after_commit=True)

    def _project(self, args: tuple) -> int | None:
        return None if self.writer is None else int(self.writer(*args))

    def body(self, *args, **kwargs):
        """What runs, in a worker or in this process: the function, under the contention policy unless it applies
        the policy to its own transactions."""
        if self.retries_contention:
            return self.function(*args, **kwargs)
        return retry_contention(self.function, *args, **kwargs)


_jobs: dict[str, Job] = {}


def job(name: str, *, writer: Callable | None = None, acks_late: bool = False, retries_contention: bool = False):
    """Declare the decorated function a job, once, next to its work.

    `name` is its message name, stable across versions (messages queued by an older version still run), which the
    routes and the beat schedule in settings refer to. `writer` takes the job's arguments and returns the project
    whose single writer runs it (on that project's digest queue with a broker, under WRITER_LOCK without).
    `acks_late`: the message is acknowledged when the job is done, so a worker that dies mid-way leaves it to
    another. `retries_contention`: the function applies `retry_contention` to its own transactions (digest, per
    batch); otherwise the whole job runs under that policy."""

    def declare(function: Callable) -> Job:
        if name in _jobs:
            raise ValueError(f"job {name} is declared twice")
        declared = Job(function, name, writer, retries_contention)

        def body(*args, **kwargs):
            return declared.body(*args, **kwargs)

        body.__name__, body.__qualname__, body.__module__ = (
            function.__name__,
            function.__qualname__,
            function.__module__,
        )
        declared.task = shared_task(name=name, acks_late=acks_late)(body)
        _jobs[name] = declared
        return declared

    return declare


def declared_jobs() -> dict[str, Job]:
    """Every declared job by name (each app's modules that declare jobs imported first: its tasks module)."""
    _import_tasks_modules()
    return dict(_jobs)


def _as_sent(name: str, args: tuple) -> list:
    """The arguments as the job will receive them: through JSON, as the broker carries them, also without one (a
    tuple arrives as a list, a dict's keys as strings), so a job that works in tests works with a broker."""
    try:
        return json.loads(json.dumps(list(args)))
    except (TypeError, ValueError) as error:
        raise TypeError(f"the arguments of job {name} must be JSON: {error}") from error


# --- the one contention policy ------------------------------------------------------------------------------------

CONTENTION_MESSAGES = (
    "database is locked",
    "database table is locked",
    "deadlock",
    "lock wait timeout",
    "could not obtain lock",
    "could not serialize",
)
CONTENTION_TRIES = 4  # tries in all of work the database refused as busy; then the error goes up
CONTENTION_PAUSE_SECONDS = 0.05  # before the second try; doubled before each next one (0.1 s, 0.2 s, 0.4 s)


def contention(error: Exception) -> bool:
    """Does the database say it was busy (SQLite's busy timeout, a deadlock victim or a lock wait timeout on
    PostgreSQL and MariaDB, a serialization failure) rather than that the work was wrong? Then trying again helps."""
    message = str(error).lower()
    return any(text in message for text in CONTENTION_MESSAGES)


def retry_contention(work: Callable, *args, **kwargs):
    """The one retry policy for contention: `work(*args)`, tried again after a growing pause while the database
    says it was busy, CONTENTION_TRIES times in all; then (or at once for any other error) the error goes up. Every
    job runs under it, as a whole or (digest) per transaction; nothing else retries contention, so tries never
    multiply."""
    attempt = 1
    while True:
        try:
            return work(*args, **kwargs)
        except Exception as error:
            if not contention(error) or attempt >= CONTENTION_TRIES:
                raise
            logger.warning("the database was busy (%s); trying again", error)
            time.sleep(CONTENTION_PAUSE_SECONDS * 2**attempt)
            attempt += 1


def broker_configured() -> bool:
    return not settings.CELERY_TASK_ALWAYS_EAGER


def digest_queue(project_id: int) -> str:
    """With DIGEST_SHARDS=N a project's single-writer jobs all go to one of N queues (digest-0 .. digest-N-1), each
    with one consumer, so each project keeps a single writer while N workers digest in parallel."""
    shards = settings.DIGEST_SHARDS
    return "digest" if shards <= 1 else f"digest-{project_id % shards}"


WRITER_LOCK = threading.Lock()


def _single_writer(name: str) -> bool:
    """Is the job named `name` one of a project's single writer (on its digest queue, under WRITER_LOCK)?"""
    if name not in _jobs:
        _import_tasks_modules()  # a name from the beat schedule, before any of its app's jobs was used
    found = _jobs.get(name)
    return found is not None and found.writer is not None


def _run(name: str, args: list, *, project_id: int | None = None, countdown: float | None = None, after_commit=False):
    """Run job `name` with `args` (already through JSON): as a message, or in this process. Never raises."""
    if after_commit:
        transaction.on_commit(lambda: _run(name, args, project_id=project_id, countdown=countdown), robust=True)
        return True
    try:
        if broker_configured():
            return _send(name, args, project_id, countdown)
        return _run_in_process(name, args, countdown)
    except Exception:
        logger.exception("could not run job %s%r", name, args)
        return False


def _send(name: str, args: list, project_id: int | None, countdown: float | None) -> bool:
    """The message for a job; False when the broker did not take it (or, for a digest, was not even asked because
    it failed a moment ago: see BrokerOutage)."""
    digest = name == _digest_name
    if digest and not _outage.may_send_digest():
        _outage.not_sent(name, project_id, args[0])
        return False
    queue = digest_queue(project_id) if project_id is not None else None
    try:
        app.send_task(name, args=args, queue=queue, countdown=countdown)
    except BROKER_UNREACHABLE as error:
        _outage.failed(name, project_id, args[0] if digest else None, error)
        return False
    except BaseException:
        _outage.done_probing()
        raise
    for waiting_project, key in _outage.sent():
        _enqueue_digest(waiting_project, key)  # the broker is back: what waited during the outage
    return True


# --- a broker that does not answer --------------------------------------------------------------------------------


class BrokerOutage:
    """This process's view of an unreachable broker, so that an outage costs ingest nothing and logs one warning per
    interval instead of a traceback per accepted event.

    A digest that cannot be sent loses nothing: its events are in the ingest store. After a failed send no digest is
    sent for `retry_seconds`; then one caller tries (a probe) while the others go on without waiting for it. Other
    jobs (alerts, deletions) are always tried: nothing else would send them again, and each one lost is logged as an
    error. While the outage lasts, a warning every `warning_seconds` says for how long, why, how many jobs were not
    sent, and how many accepted events wait for digest (the counter registered with `count_waiting_events_with`).
    The first send that works ends the outage: `sent()` hands back one event key per project whose digest was not
    sent, for a digest each (what an empty, restarted broker lost beyond that, the sweep finds)."""

    def __init__(self, retry_seconds: float = 1.0, warning_seconds: float | None = None, clock=time.monotonic):
        self.retry_seconds = retry_seconds
        self._warning_seconds = warning_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self.down_since: float | None = None
        self._error = ""
        self._retry_at = 0.0
        self._probing = False
        self._last_warning = 0.0
        self._unsent = 0  # jobs not sent in this outage
        self._waiting: dict[int, str] = {}  # project -> the key of one of its events whose digest was not sent

    @property
    def warning_seconds(self) -> float:
        if self._warning_seconds is not None:
            return self._warning_seconds
        return float(settings.BROKER_OUTAGE_WARNING_SECONDS)

    def is_down(self) -> bool:
        """Down, and not yet time to try again (a caller may skip the work that leads to a send: the digest flag)."""
        with self._lock:
            return self.down_since is not None and self._clock() < self._retry_at

    def may_send_digest(self) -> bool:
        with self._lock:
            if self.down_since is None:
                return True
            if self._probing or self._clock() < self._retry_at:
                return False
            self._probing = True
            return True

    def done_probing(self) -> None:
        with self._lock:
            self._probing = False

    def not_sent(self, name: str, project_id: int | None, key: str | None) -> None:
        """A job that was not sent because of the outage."""
        with self._lock:
            self._unsent += 1
            if project_id is not None and key is not None:
                self._waiting.setdefault(project_id, key)
            due = self._clock() - self._last_warning >= self.warning_seconds
            if due:
                self._last_warning = self._clock()
        if name != _digest_name:
            logger.error("job %s was not sent: the broker is unreachable (%s); it will not run", name, self._error)
        if due:
            self._warn()

    def failed(self, name: str, project_id: int | None, key: str | None, error: Exception) -> None:
        with self._lock:
            now = self._clock()
            self._probing = False
            self._retry_at = now + self.retry_seconds
            self._error = f"{error.__class__.__name__}: {error}"
            if self.down_since is None:
                self.down_since = now
                self._last_warning = now - self.warning_seconds  # the first failure is reported at once
        self.not_sent(name, project_id, key)

    def sent(self) -> list[tuple[int, str]]:
        """A send worked: the end of the outage, if there was one; the projects whose digests were not sent."""
        if self.down_since is None:  # the common case, without taking the lock
            return []
        with self._lock:
            if self.down_since is None:
                return []
            lasted = self._clock() - self.down_since
            unsent, waiting = self._unsent, list(self._waiting.items())
            self.down_since, self._probing, self._unsent, self._waiting = None, False, 0, {}
        logger.warning(
            "broker reachable again after %.0f s; %d jobs were not sent meanwhile; digests are asked again for the "
            "projects whose events waited (%d; the periodic sweep finds anything else a restarted broker lost)",
            lasted,
            unsent,
            len(waiting),
        )
        return waiting

    def _warn(self) -> None:
        with self._lock:
            if self.down_since is None:
                return
            lasted, unsent, error = self._clock() - self.down_since, self._unsent, self._error
        waiting = _count_waiting_events()
        logger.warning(
            "broker unreachable for %.0f s (%s): %d jobs not sent; %s accepted events wait in the ingest store for "
            "digest, which resumes when the broker is back (next report in %.0f s unless it is back)",
            lasted,
            error,
            unsent,
            "an unknown number of" if waiting is None else waiting,
            self.warning_seconds,
        )

    def reset(self) -> None:
        with self._lock:
            self.down_since, self._probing, self._unsent, self._waiting, self._retry_at = None, False, 0, {}, 0.0


_outage = BrokerOutage()
_waiting_counter = None


def count_waiting_events_with(counter) -> None:
    """Register how the outage warning counts the accepted events waiting for digest (the ingest app does: this
    module imports none of the project's modules)."""
    global _waiting_counter
    _waiting_counter = counter


def _count_waiting_events() -> int | None:
    if _waiting_counter is None:
        return None
    try:
        return _waiting_counter()
    except Exception as e:  # a count that fails (a database that is down too) leaves the warning without it
        logger.warning("could not count the events waiting for digest: %s", e)
        return None


# --- the digest flag ----------------------------------------------------------------------------------------------


class DigestJob(Job):
    """The digest job, whose messages the digest-claim protocol below keeps to about one per project at a time."""

    def schedule(self, key: str, force: bool = False) -> None:
        """Have the raw event `key` digested (with its project's other pending events). Without `force`, nothing is
        enqueued while a digest for the project is queued already (the queued one takes this event along). Never
        raises: the event is on disk already, and an undigested raw event is picked up again later (the sweep)."""
        project_id = self._project((key,))
        if digests_inline():
            self.later(key)
            return
        if not broker_configured():
            if force or _claim_local(project_id):
                _submit(self.name, [key])
            return
        if force:
            _enqueue_digest(project_id, key, claim=False)
        elif _claims.ask_now(project_id, key):
            _enqueue_digest(project_id, key)


_digest: DigestJob | None = None
_digest_name = ""  # its name, for the outage's bookkeeping


def digest_job(name: str, *, writer: Callable):
    """Declare the digest job (there is one): a single writer's job, acknowledged when done, that applies the
    contention policy per batch itself, with `schedule(key)` for the events that ask for it."""

    def declare(function: Callable) -> DigestJob:
        global _digest, _digest_name
        declared = job(name, writer=writer, acks_late=True, retries_contention=True)(function)
        declared.__class__ = DigestJob
        _digest, _digest_name = declared, name
        return declared

    return declare


def _enqueue_digest(project_id: int, key: str, claim: bool = True) -> None:
    if _outage.is_down():  # not even the digest flag's round trip: the broker (Redis) failed a moment ago
        _outage.not_sent(_digest_name, project_id, key)
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
    _outage.reset()


def digests_inline() -> bool:
    """Does each accepted event's request digest it itself (no broker, DIGEST_IMMEDIATELY)?"""
    return not broker_configured() and settings.DIGEST_IMMEDIATELY


def release_digest_claim(project_id: int) -> None:
    """Called by a digest as it starts: events arriving from now on need a digest of their own."""
    if not broker_configured():
        with _local_claims_lock:
            _local_claims.discard(project_id)
        return
    client = _flag_client()
    if client is None:
        return
    try:
        client.delete(_flag_key(project_id))
    except (redis.RedisError, OSError):
        pass  # the flag expires by itself


def _claim_digest(project_id: int) -> bool:
    """True when this caller should enqueue a digest for the project (no other digest is queued for it)."""
    client = _flag_client()
    if client is None:
        return True
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


_flag_clients: dict[str, redis.Redis] = {}


def _flag_client() -> redis.Redis | None:
    url = settings.CELERY_BROKER_URL or ""
    if not url.startswith(("redis://", "rediss://")):
        return None  # another broker: one message per event, as plain Celery does
    if url not in _flag_clients:
        _flag_clients[url] = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    return _flag_clients[url]


def namespace() -> str:
    """This installation's prefix for shared keys: JOBS_NAMESPACE, else a hash of the database it writes to (a
    test database has a name of its own, so a test run never meets a real installation's keys)."""
    if settings.JOBS_NAMESPACE:
        return settings.JOBS_NAMESPACE
    # the settings dict the default connection is made from (the test runner renames its NAME in place): read
    # without going through the thread-local connection proxy, and hashed once per identity, because every
    # accepted event asks (it was a tenth of the web process's CPU)
    db = connections.settings[DEFAULT_DB_ALIAS]
    identity = (db.get("ENGINE"), db.get("HOST"), db.get("PORT"), db.get("NAME"))
    found = _namespaces.get(identity)
    if found is None:
        text = "|".join(str(part or "") for part in identity)
        found = _namespaces[identity] = hashlib.sha256(text.encode()).hexdigest()[:12]
    return found


_namespaces: dict[tuple, str] = {}


def _flag_key(project_id: int) -> str:
    return f"bugsink:{namespace()}:digest-queued:{project_id}"


# --- without a broker: in this process ----------------------------------------------------------------------------

_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jobs")
_writing = threading.local()  # .active: this thread holds WRITER_LOCK
_pending = 0  # submitted or waiting on a timer, not finished
_pending_changed = threading.Condition()
_tasks_imported = False


def _import_tasks_modules() -> None:
    """Each app's tasks module, which imports the modules that declare its jobs (once, on first use)."""
    global _tasks_imported
    if not _tasks_imported:
        app.loader.import_default_modules()
        _tasks_imported = True


def _task(name: str):
    """The Celery task of the job named `name`."""
    _import_tasks_modules()
    return app.tasks[name]


def _run_in_process(name: str, args: list, countdown: float | None) -> bool:
    if countdown:
        _later(name, args, countdown)
        return True
    writing = getattr(_writing, "active", False)
    parent = _current_job()
    if name == _digest_name and not writing:
        return _execute(name, args)  # the ingest request digests its own event (waiting for the writer lock)
    if parent is not None and not _single_writer(parent) and not writing:
        # asked for by a job that runs here (on the background thread, or called directly): part of that job
        return _execute(name, args)
    _submit(name, args)  # from a request, or from a single writer's job (a digest's alerts): in the background
    return True


def _current_job() -> str | None:
    """The name of the job running (eagerly) in this thread, if any."""
    task = current_task._get_current_object()
    return task.name if task is not None and task.request.is_eager else None


def _execute(name: str, args: list) -> bool:
    """Run the job here and now (its contention policy inside: see `retry_contention`); whether it succeeded."""
    try:
        if _single_writer(name):
            with WRITER_LOCK:
                _writing.active = True
                try:
                    _task(name).apply(args=args, throw=True)
                finally:
                    _writing.active = False
        else:
            _task(name).apply(args=args, throw=True)
        return True
    except Exception:
        logger.exception("job %s%r failed", name, args)
        return False


def _submit(name: str, args: list) -> None:
    _change_pending(+1)
    try:
        _executor.submit(_background, name, args)
    except BaseException:
        _change_pending(-1)
        raise


def _background(name: str, args: list) -> None:
    try:
        _execute(name, args)
    finally:
        # this thread's DB connections: not kept open between jobs (nor past a test database's life)
        connections.close_all()
        _change_pending(-1)


def _later(name: str, args: list, countdown: float) -> None:
    _change_pending(+1)

    def fire():
        try:
            _submit(name, args)
        finally:
            _change_pending(-1)

    timer = threading.Timer(countdown, fire)
    timer.daemon = True
    timer.start()


def _change_pending(delta: int) -> None:
    global _pending
    with _pending_changed:
        _pending += delta
        _pending_changed.notify_all()


def wait_idle(timeout: float) -> bool:
    """Wait until no in-process job is running, queued or waiting for its retry; whether that happened within
    `timeout` seconds. For commands that must not exit with work pending, and for tests."""
    with _pending_changed:
        return _pending_changed.wait_for(lambda: _pending == 0, timeout=timeout)


_periodic_started = False
_periodic_lock = threading.Lock()


def start_periodic() -> None:
    """Without a broker (there is no beat then): once per process, a daemon thread that hands the beat schedule's
    jobs to the background thread when due, the first run of each one interval after the start. With a broker it
    does nothing (celery beat is the scheduler)."""
    global _periodic_started
    if broker_configured() or not settings.JOBS_PERIODIC_WITHOUT_BROKER:
        return
    with _periodic_lock:
        if _periodic_started:
            return
        _periodic_started = True
    schedule = [
        (entry["task"], list(entry.get("args", ())), float(entry["schedule"]))
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
    ]
    thread = threading.Thread(target=_periodic_loop, args=(schedule, _stop_periodic), name="jobs-periodic", daemon=True)
    thread.start()


_stop_periodic = threading.Event()  # never set in a server: the thread ends with the process


def _periodic_loop(schedule: list[tuple[str, list, float]], stop: threading.Event) -> None:
    due = {name: time.monotonic() + interval for name, _, interval in schedule}
    while not stop.is_set():
        now = time.monotonic()
        for name, args, interval in schedule:
            if now >= due[name]:
                due[name] = now + interval
                _submit(name, args)
        stop.wait(max(0.05, min(due.values()) - time.monotonic()))
