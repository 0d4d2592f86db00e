"""Helpers for tests: building envelopes and events, locating samples, requiring services, starting the processes
of a real installation and waiting for them (wait_until)."""

import json
import os
import time
import uuid
from pathlib import Path

import pytest

from testing.servers import WEB_SERVER, web_server_command  # noqa: F401 (the tests take them from here)

# Our own event samples, captured from real SDKs or written from the protocol (see the README beside them).
SAMPLES_DIR = Path(__file__).resolve().parent.parent / "bugsink" / "tests" / "samples"
# Someone else's samples that a development checkout may have beside it; never needed by the suite.
SHARED_SAMPLES_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "event-samples"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_service(available: bool, reason: str) -> None:
    """Outside CI a missing service skips the test with a reason; in CI it fails it."""
    if available:
        return
    if in_ci():
        pytest.fail(f"required service unavailable in CI: {reason}")
    pytest.skip(reason)


def sample_files() -> list[Path]:
    """The in-repository samples, `<sdk>/<name>.json`."""
    return sorted(SAMPLES_DIR.glob("*/*.json"))


def shared_sample_files() -> list[Path]:
    """The samples in ../shared/event-samples when that folder is there, else none."""
    return sorted(SHARED_SAMPLES_DIR.glob("*/*.json"))


def make_envelope(event: dict, *, event_id: str | None = None, with_length: bool = True, extra_items=()) -> bytes:
    payload = json.dumps(event).encode()
    header = {"event_id": event_id or event.get("event_id") or uuid.uuid4().hex}
    item_header = {"type": "event"}
    if with_length:
        item_header["length"] = len(payload)
    parts = [json.dumps(header).encode(), json.dumps(item_header).encode(), payload]
    for item_type, item_payload in extra_items:
        parts += [json.dumps({"type": item_type, "length": len(item_payload)}).encode(), item_payload]
    return b"\n".join(parts) + b"\n"


def auth_header(project) -> dict:
    return {"HTTP_X_SENTRY_AUTH": f"Sentry sentry_version=7, sentry_client=test/1.0, sentry_key={project.sentry_key}"}


def store_event(project, event: dict) -> str:
    """Put `event` into the ingest store as an accepted raw event of `project` (a new event id, received now), without
    a digest being asked for; returns its key."""
    from ingest.raw import RawEvent
    from ingest.store import store_raw_event

    return store_raw_event(
        RawEvent(
            project_id=project.pk,
            event_id=uuid.uuid4().hex,
            received_at=time.time(),
            remote_addr="127.0.0.1",
            payload=json.dumps(event).encode(),
        )
    )


def exception_event(exc_type="ValueError", value="bad value", frames=None, **extra) -> dict:
    """A minimal Python-style error event; `extra` adds or overrides top-level fields (release, tags, ...)."""
    frames = frames or [
        {"filename": "app/views.py", "module": "app.views", "function": "handle", "lineno": 10, "in_app": True}
    ]
    return {
        "platform": "python",
        "level": "error",
        "exception": {"values": [{"type": exc_type, "value": value, "stacktrace": {"frames": frames}}]},
        **extra,
    }


def wait_until(
    condition,
    timeout: float = 30.0,
    interval: float = 0.05,
    message: str = "the condition",
    *,
    process=None,
    details=None,
):
    """Poll `condition()` until it returns something truthy, and return that: the one way the suite waits for
    another process or thread (a row it writes, a port that answers, a line in its log, its exit).

    Raises AssertionError naming `message`, with `details()` appended (a log, say), when `timeout` seconds pass, or
    as soon as `process` (a Popen) has exited: a server that died will never answer, and waiting out the timeout
    would only report its error later. `timeout` is a bound for a broken run, not a pause: a passing run waits only
    as long as the condition takes."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if process is not None and process.poll() is not None:
            result = condition()  # it may have done its work and exited in the meantime
            if result:
                return result
            _fail_waiting(f"{message}: the process exited with code {process.returncode}", details)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            _fail_waiting(f"timed out after {timeout:g} s waiting for {message}", details)
        time.sleep(min(interval, remaining))


def _fail_waiting(reason: str, details) -> None:
    extra = details() if callable(details) else details
    raise AssertionError(f"{reason}\n{extra}" if extra else reason)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_env() -> dict[str, str]:
    """Environment that points a child process at the database the tests use (the test database)."""
    from urllib.parse import quote

    from django.db import connection

    settings_dict = connection.settings_dict
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return {"SQLITE_PATH": str(settings_dict["NAME"]), "DATABASE_URL": ""}
    scheme = {"postgresql": "postgres", "mysql": "mysql"}[settings_dict["ENGINE"].rsplit(".", 1)[-1]]
    user = quote(settings_dict.get("USER") or "")
    password = quote(settings_dict.get("PASSWORD") or "")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return {"DATABASE_URL": f"{scheme}://{credentials}{host}{port}/{settings_dict['NAME']}"}


# The settings of the processes the tests start: the installation's, with the suite's fast password hasher, so that
# a user a test made can log in to a live server (testing.settings keeps the data folder the test gives).
TEST_SETTINGS = "testing.settings"


class start_web_server:  # noqa: N801 (used as a context manager, reads like a function)
    """Start the web server as `make run` does (web_server_command) on a free loopback port against the test
    database; stop it on exit. Its output goes to `log_path` (server.log in `workdir`)."""

    def __init__(self, workdir: Path, extra_env: dict | None = None, threads: int = 4):
        self.workdir = Path(workdir)
        self.extra_env = extra_env or {}
        self.threads = threads
        self.process = None
        self.log_path = self.workdir / "server.log"

    def __enter__(self) -> str:
        import subprocess
        import urllib.error
        import urllib.request

        from django.conf import settings

        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": TEST_SETTINGS,
            "BUGSINK_DATA_DIR": str(self.workdir),
            "INGEST_STORE_DIR": str(settings.INGEST_STORE_DIR),
            # no sweep or eviction on the server's own schedule, racing what a test does (a test may ask for it)
            "JOBS_PERIODIC_WITHOUT_BROKER": "false",
            "BASE_URL": self.url,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECRET_KEY": "live-test-secret-key",
            **database_env(),
            **self.extra_env,
        }
        self.log = open(self.log_path, "wb")  # noqa: SIM115 (closed in __exit__)
        self.process = subprocess.Popen(
            web_server_command(port, threads=self.threads),
            cwd=Path(__file__).resolve().parent.parent,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

        def serving() -> bool:
            try:
                urllib.request.urlopen(f"{self.url}/api/0/envelope/", timeout=2)
            except urllib.error.HTTPError:
                return True  # any HTTP answer means it is serving
            except OSError:
                return False
            return True

        try:
            wait_until(serving, 30, message="the web server to answer", process=self.process, details=self.output)
        except AssertionError:
            self.__exit__(None, None, None)
            raise
        return self.url

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def __exit__(self, *exc_info) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except Exception:
                self.process.kill()
        self.log.close()


def make_issue(project, **fields):
    """An Issue straight in the database (no digest), for state and UI tests."""
    from django.db.models import F
    from django.utils import timezone

    from issues.models import Issue
    from projects.models import Project

    Project.objects.filter(pk=project.pk).update(issue_counter=F("issue_counter") + 1)
    project.refresh_from_db(fields=["issue_counter"])
    now = timezone.now()
    defaults = {
        "calculated_type": "ValueError",
        "calculated_value": "bad value",
        "first_seen": now,
        "last_seen": now,
        "event_count": 1,
    }
    return Issue.objects.create(project=project, number=project.issue_counter, **{**defaults, **fields})


# The Redis server the live tests use: 127.0.0.1:6379 unless CULVERT_TEST_REDIS names another (host:port), so two
# suites on one machine (two checkouts) can each have a server of their own instead of taking each other's jobs.
TEST_REDIS = os.environ.get("CULVERT_TEST_REDIS", "127.0.0.1:6379")


def live_redis_url(db: int) -> str:
    """The URL of database `db` on the tests' Redis server; each live test module keeps a number of its own."""
    return f"redis://{TEST_REDIS}/{db}"


def redis_up() -> bool:
    import socket

    host, _, port = TEST_REDIS.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


class start_celery_worker:  # noqa: N801 (used as a context manager, reads like a function)
    """Start a real `celery -A bugsink worker -Q <queues>` process on the test database, through the Procfile's
    launcher (bugsink/worker.py); stop it on exit.

    `stop(kill=False)` ends it early: a warm shutdown (SIGTERM), or `kill -9` with kill=True.
    """

    def __init__(self, workdir: Path, queues: str, env: dict, name: str | None = None):
        self.workdir = Path(workdir)
        self.queues = queues
        self.env = env
        self.name = name or queues.replace(",", "-")
        self.process = None
        self.log_path = self.workdir / f"worker-{self.name}.log"

    def __enter__(self) -> "start_celery_worker":
        import subprocess
        import sys

        env = {
            **os.environ,
            **database_env(),
            "DJANGO_SETTINGS_MODULE": TEST_SETTINGS,
            "BUGSINK_DATA_DIR": str(self.workdir),
            "SECRET_KEY": "worker-test-secret-key",
            **self.env,
        }
        self.log = open(self.log_path, "ab")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bugsink.worker",
                "-A",
                "bugsink",
                "worker",
                "-Q",
                self.queues,
                "--pool",
                "solo",
                "-l",
                "info",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"{self.name}-{os.getpid()}@%h",
            ],
            cwd=Path(__file__).resolve().parent.parent,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        return self

    def stop(self, kill: bool = False) -> None:
        import subprocess

        if self.process and self.process.poll() is None:
            if kill:
                self.process.kill()
            else:
                self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if not self.log.closed:
            self.log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def __exit__(self, *exc_info) -> None:
        self.stop()


def session_processes(session_id: int) -> list[int]:
    """The pids of the live processes of a session (Linux /proc): a supervisor started with start_new_session and
    everything it started, even in process groups of their own; zombies excluded."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.getsid(int(entry)) != session_id:
                continue
            with open(f"/proc/{entry}/stat") as stat:
                state = stat.read().rpartition(")")[2].split()[0]
        except (OSError, ProcessLookupError):
            continue
        if state != "Z":
            found.append(int(entry))
    return found


def kill_session(session_id: int) -> None:
    """SIGKILL every process of a session (a test's cleanup after a supervisor that did not stop by itself)."""
    import signal

    for pid in session_processes(session_id):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class RedisServer:
    """A redis-server of the test's own on a free loopback port (never the shared one on 6379), nothing persisted:
    killed and started again, it is empty, as a Redis that crashed. Needs the redis-server program."""

    def __init__(self, workdir: Path, port: int | None = None):
        self.port = port or free_port()
        self.workdir = Path(workdir)
        self.process = None

    def start(self) -> "RedisServer":
        import subprocess

        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            command + ["--dir", str(self.workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        wait_until(self.answers, 30, message="redis-server to answer", process=self.process)
        return self

    def answers(self) -> bool:
        import redis

        try:
            return redis.Redis(port=self.port, socket_timeout=1).ping()
        except redis.RedisError:
            return False

    def client(self):
        import redis

        return redis.Redis(port=self.port, socket_timeout=5)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"
