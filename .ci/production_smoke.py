"""The production modes as users run them, from a fresh clone whose venv holds the runtime lock only.

    .venv/bin/python .ci/production_smoke.py [--keep]

For `make serve` (web + digest worker + alerts worker on Redis, under bin/procfile-run) and then `make run` (the
embedded single process), in a fresh clone of this repository's HEAD:
- the clone's `make` builds its own `.venv` from requirements.txt alone; its `pip freeze` must equal that lock
  (no test tool in it, every version as pinned);
- the real Python SDK (this venv's `sentry_sdk`) sends an exception to the DSN that bootstrap printed;
- the event is digested into an issue (read from the clone's SQLite database), and the new-issue alert reaches a
  real SMTP server on loopback (aiosmtpd) through the alerts path of that mode;
- SIGTERM stops the whole mode within a bound.

Only 127.0.0.1 is contacted. Every wait is bounded; on a failure the mode's log is printed and the exit code is 1.
"""

import argparse
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 300  # the first `make` builds the runtime venv
WAIT_TIMEOUT = 90
STOP_TIMEOUT = 45
REDIS_URL = os.environ.get("SMOKE_REDIS_URL", "redis://127.0.0.1:6379/15")  # a database no test uses


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpSink:
    """A real SMTP server on loopback that keeps what it receives."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages: list[tuple[list[str], str]] = []
        self.lock = threading.Lock()
        self.port = free_port()
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                with sink.lock:
                    sink.messages.append((list(envelope.rcpt_tos), envelope.content.decode("utf-8", "replace")))
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()

    def received(self, text: str) -> bool:
        with self.lock:
            return any(text in content for _, content in self.messages)


class Failed(Exception):
    pass


def wait_for(condition, what: str, timeout: float, process=None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if process is not None and process.poll() is not None:
            raise Failed(f"{what}: the server exited (rc={process.returncode}) before that")
        time.sleep(0.5)
    raise Failed(f"{what}: not within {timeout:.0f} s")


def http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def clean_env(extra: dict) -> dict:
    """The user's shell: no virtualenv of ours on PATH, no test settings, no database of the suite."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("VIRTUAL_ENV", "DJANGO_", "PYTEST", "DATABASE_URL", "CELERY_", "BUGSINK_"))
    }
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(part for part in env.get("PATH", "").split(os.pathsep) if part != venv_bin)
    env.update(extra)
    return env


def locked_pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)(?:\s*;\s*(.*?))?\s*\\?$", line)
        if match:
            name, version, marker = match.groups()
            if marker:
                from packaging.markers import Marker

                if not Marker(marker).evaluate():
                    continue
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def check_runtime_venv(clone: Path) -> None:
    freeze = subprocess.run(
        [str(clone / ".venv/bin/pip"), "freeze", "--all", "--exclude", "pip"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    installed = {}
    for line in freeze.splitlines():
        name, sep, version = line.partition("==")
        if sep:
            installed[re.sub(r"[-_.]+", "-", name).lower()] = version
    installed.pop("setuptools", None)  # the venv module's own seed on some Pythons
    expected = locked_pins(clone / "requirements.txt")
    if installed != expected:
        extra = sorted(set(installed) - set(expected))
        missing = sorted(set(expected) - set(installed))
        differ = sorted(n for n in set(installed) & set(expected) if installed[n] != expected[n])
        raise Failed(f"runtime venv differs from requirements.txt: extra={extra} missing={missing} differ={differ}")
    for tool in ("pytest", "sentry-sdk", "playwright", "hypothesis", "aiosmtpd", "ruff"):
        if tool in installed:
            raise Failed(f"the runtime venv holds the test tool {tool}")
    print(f"  runtime venv: {len(installed)} packages, exactly requirements.txt")


def send_with_real_sdk(dsn: str, marker: str) -> None:
    import sentry_sdk

    # init, capture_exception and flush read the same in the SDK's 2.x and 3.x
    sentry_sdk.init(dsn=dsn, release="smoke@1.0.0", environment="production", default_integrations=False)
    try:
        raise RuntimeError(marker)
    except RuntimeError:
        sentry_sdk.capture_exception()
    sentry_sdk.flush(timeout=10)
    print(f"  sentry-sdk {sentry_sdk.VERSION} sent RuntimeError({marker!r})")


def issue_count(database: Path, marker: str) -> int:
    if not database.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as db:
            return db.execute(
                "SELECT COUNT(*) FROM events_event e JOIN issues_issue i ON e.issue_id = i.id"
                " WHERE e.calculated_value = ?",
                (marker,),
            ).fetchone()[0]
    except sqlite3.Error:
        return 0


def run_mode(mode: str, clone: Path, sink: SmtpSink, workdir: Path) -> None:
    port = free_port()
    data_dir = workdir / f"data-{mode}"
    log_path = workdir / f"{mode}.log"
    marker = f"production smoke of make {mode} {os.getpid()}"
    env = clean_env(
        {
            "PORT": str(port),
            "BASE_URL": f"http://127.0.0.1:{port}",
            "BUGSINK_DATA_DIR": str(data_dir),
            "ADMIN_EMAIL": "smoke-admin@example.test",
            "ADMIN_PASSWORD": "smoke-admin-password",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(sink.port),
            "DEFAULT_FROM_EMAIL": "culvert@example.test",
            "QUOTA_EVENTS_PER_MINUTE": "0",
        }
    )
    if mode == "serve":
        env["CELERY_BROKER_URL"] = REDIS_URL
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()
    print(f"make {mode} (port {port}, log {log_path})")
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            ["make", "--no-print-directory", mode],
            cwd=clone,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        dsn_line = re.compile(rb"DSN\s+(http://\S+)")
        wait_for(lambda: dsn_line.search(log_path.read_bytes()), "bootstrap printed a DSN", START_TIMEOUT, process)
        dsn = dsn_line.search(log_path.read_bytes()).group(1).decode()
        wait_for(lambda: http_status(f"http://127.0.0.1:{port}/health/ready") == 200, "/health/ready", 60, process)
        check_runtime_venv(clone)
        send_with_real_sdk(dsn, marker)
        wait_for(lambda: issue_count(data_dir / "db.sqlite3", marker) == 1, "the event digested", WAIT_TIMEOUT, process)
        print("  digested into an issue")
        wait_for(lambda: sink.received(marker), "the new-issue alert e-mail", WAIT_TIMEOUT, process)
        print("  new-issue alert e-mail received by the SMTP sink")
        started = time.monotonic()
        os.killpg(process.pid, signal.SIGTERM)  # as a terminal's Ctrl-C or a service manager reaches the group
        wait_for(lambda: process.poll() is not None and not group_alive(process.pid), "all stopped", STOP_TIMEOUT)
        print(f"  stopped by SIGTERM in {time.monotonic() - started:.1f} s")
        tracebacks = log_path.read_bytes().count(b"Traceback (most recent call last)")
        if tracebacks:
            raise Failed(f"{tracebacks} traceback(s) in the log of make {mode}")
    except BaseException:
        with open(log_path, "rb") as log:
            sys.stdout.write(log.read()[-20000:].decode("utf-8", "replace"))
        raise
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", action="store_true", help="keep the clone and logs")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="culvert-smoke-"))
    clone = workdir / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    try:
        with SmtpSink() as sink:
            for mode in ("serve", "run"):
                run_mode(mode, clone, sink, workdir)
    except Failed as failure:
        print(f"PRODUCTION SMOKE FAILED: {failure}")
        return 1
    finally:
        if not args.keep:
            subprocess.run(["rm", "-rf", str(workdir)], check=False)
    print("production smoke: make serve and make run passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
