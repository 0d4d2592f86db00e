"""Jobs: the one place that decides how work runs, inline or through the broker.

A job is a function declared once, next to its work, with the `job` decorator (the digest with
`digest.claims.digest_job`, a subclass that keeps its messages to about one per project):

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
  is queued for its project (an in-process flag, like digest.claims' Redis one), and the digest that runs takes every
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

Shared keys in Redis (the digest claims' "a digest is queued for this project" flag) are namespaced per
installation (`namespace()`: JOBS_NAMESPACE, by default a hash of the database's identity), so two installations, or
a test run, sharing one Redis never share a key.

A broker that does not answer (BrokerOutage below) costs the callers nothing and fills no log. A deferrable job (one
whose work waits elsewhere until it runs: the digest, whose events stay in the ingest store) is not even tried for a
second after a failed send; the log gets one warning per BROKER_OUTAGE_WARNING_SECONDS with the amount of work
waiting (the counter registered with `count_waiting_work_with`), and the first send that works again asks once more
for each project's deferrable job that could not be sent (`Job.resume`).
"""

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from celery import current_task, shared_task
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from bugsink.celery import app, broker_unreachable_errors

logger = logging.getLogger(__name__)

# --- the jobs, declared where their work is -----------------------------------------------------------------------


class Job:
    """A function that can run later: `job.later(*args)`, `job.after_commit(*args)`, or `job(*args)` (right now, in
    the caller, as the plain function). Made by the `job` decorator, which also registers it as a Celery task under
    its name, so a worker runs the same function with the same contention policy.

    A subclass may say that its work waits elsewhere until it runs (`deferrable`: a broker outage does not even try
    to send it, and `resume` asks for it again when the broker is back), and that without a broker it runs in the
    caller rather than in the background (`runs_in_caller`)."""

    deferrable = False
    runs_in_caller = False

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

    def resume(self, project_id: int | None, first_arg) -> None:
        """A deferrable job that was not sent during a broker outage, asked for again once the broker is back."""
        _run(self.name, [first_arg], project_id=project_id)

    def in_background(self, *args) -> None:
        """Without a broker: run it on the background thread (whoever asks), its arguments through JSON."""
        _submit(self.name, _as_sent(self.name, args))

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


def _declared(name: str) -> Job | None:
    if name not in _jobs:
        _import_tasks_modules()  # a name from the beat schedule, before any of its app's jobs was used
    return _jobs.get(name)


def _single_writer(name: str) -> bool:
    """Is the job named `name` one of a project's single writer (on its digest queue, under WRITER_LOCK)?"""
    found = _declared(name)
    return found is not None and found.writer is not None


def _deferrable(name: str) -> bool:
    found = _declared(name)
    return found is not None and found.deferrable


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
    """The message for a job; False when the broker did not take it (or, for a deferrable job, was not even asked
    because it failed a moment ago: see BrokerOutage)."""
    deferrable = _deferrable(name)
    if deferrable and not outage.may_send_deferrable():
        outage.not_sent(name, project_id, args[0])
        return False
    queue = digest_queue(project_id) if project_id is not None else None
    try:
        app.send_task(name, args=args, queue=queue, countdown=countdown)
    except broker_unreachable_errors() as error:
        outage.failed(name, project_id, args[0] if deferrable else None, error)
        return False
    except BaseException:
        outage.done_probing()
        raise
    for waiting_name, waiting_project, first_arg in outage.sent():
        _jobs[waiting_name].resume(waiting_project, first_arg)  # the broker is back: what waited during the outage
    return True


# --- a broker that does not answer --------------------------------------------------------------------------------


class BrokerOutage:
    """This process's view of an unreachable broker, so that an outage costs ingest nothing and logs one warning per
    interval instead of a traceback per accepted event.

    A deferrable job that cannot be sent loses nothing: its work waits elsewhere (a digest's events in the ingest
    store). After a failed send no deferrable job is sent for `retry_seconds`; then one caller tries (a probe) while
    the others go on without waiting for it. Other jobs (alerts, deletions) are always tried: nothing else would send
    them again, and each one lost is logged as an error. While the outage lasts, a warning every `warning_seconds`
    says for how long, why, how many jobs were not sent, and how much work waits (the counter registered with
    `count_waiting_work_with`). The first send that works ends the outage: `sent()` hands back, per deferrable job
    and project, the first argument of one call that was not sent, to be asked for again (what an empty, restarted
    broker lost beyond that, the digest's sweep finds)."""

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
        self._waiting: dict[tuple[str, int], object] = {}  # (deferrable job, project) -> a call's first argument

    @property
    def warning_seconds(self) -> float:
        if self._warning_seconds is not None:
            return self._warning_seconds
        return float(settings.BROKER_OUTAGE_WARNING_SECONDS)

    def is_down(self) -> bool:
        """Down, and not yet time to try again (a caller may skip the work that leads to a send: a digest claim)."""
        with self._lock:
            return self.down_since is not None and self._clock() < self._retry_at

    def may_send_deferrable(self) -> bool:
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

    def not_sent(self, name: str, project_id: int | None, first_arg=None) -> None:
        """A job that was not sent because of the outage (a deferrable one: with the first argument of the call)."""
        deferrable = _deferrable(name)
        with self._lock:
            self._unsent += 1
            if deferrable and project_id is not None and first_arg is not None:
                self._waiting.setdefault((name, project_id), first_arg)
            due = self._clock() - self._last_warning >= self.warning_seconds
            if due:
                self._last_warning = self._clock()
        if not deferrable:
            logger.error("job %s was not sent: the broker is unreachable (%s); it will not run", name, self._error)
        if due:
            self._warn()

    def failed(self, name: str, project_id: int | None, first_arg, error: Exception) -> None:
        with self._lock:
            now = self._clock()
            self._probing = False
            self._retry_at = now + self.retry_seconds
            self._error = f"{error.__class__.__name__}: {error}"
            if self.down_since is None:
                self.down_since = now
                self._last_warning = now - self.warning_seconds  # the first failure is reported at once
        self.not_sent(name, project_id, first_arg)

    def sent(self) -> list[tuple[str, int, object]]:
        """A send worked: the end of the outage, if there was one; (job, project, first argument) of each deferrable
        job and project that was not sent."""
        if self.down_since is None:  # the common case, without taking the lock
            return []
        with self._lock:
            if self.down_since is None:
                return []
            lasted = self._clock() - self.down_since
            unsent = self._unsent
            waiting = [(name, project_id, first_arg) for (name, project_id), first_arg in self._waiting.items()]
            self.down_since, self._probing, self._unsent, self._waiting = None, False, 0, {}
        logger.warning(
            "broker reachable again after %.0f s; %d jobs were not sent meanwhile; deferred jobs are asked again, one "
            "per project whose work waited (%d; the periodic sweep finds anything else a restarted broker lost)",
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
        waiting = _count_waiting_work()
        logger.warning(
            "broker unreachable for %.0f s (%s): %d jobs not sent; %s %s, which resumes when the broker is back (next "
            "report in %.0f s unless it is back)",
            lasted,
            error,
            unsent,
            "an unknown number of" if waiting is None else waiting,
            _waiting_work_is,
            self.warning_seconds,
        )

    def reset(self) -> None:
        with self._lock:
            self.down_since, self._probing, self._unsent, self._waiting, self._retry_at = None, False, 0, {}, 0.0


outage = BrokerOutage()
_waiting_counter = None
_waiting_work_is = "jobs' work waits"


def count_waiting_work_with(counter, what: str) -> None:
    """Register how the outage warning counts the work that waits for the broker, and what it says of it (the digest
    app does: "accepted events wait in the ingest store for digest"; this module imports none of the project's
    modules)."""
    global _waiting_counter, _waiting_work_is
    _waiting_counter, _waiting_work_is = counter, what


def _count_waiting_work() -> int | None:
    if _waiting_counter is None:
        return None
    try:
        return _waiting_counter()
    except Exception as e:  # a count that fails (a database that is down too) leaves the warning without it
        logger.warning("could not count the work waiting for the broker: %s", e)
        return None


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
    declared = _declared(name)
    if declared is not None and declared.runs_in_caller and not writing:
        return _execute(name, args)  # e.g. the ingest request digests its own event (waiting for the writer lock)
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
