"""`make serve` under faults (issue 18): the Procfile under bin/procfile-run against a Redis of the test's own, with
a steady stream of events while Redis is killed and started again empty and the digest worker is killed -9.

What must hold: every request gets an HTTP answer (no "connection refused": the web server is never taken down
with a worker), every event answered 200 is digested within 90 s without anyone restarting anything (the sweep
and the next events' digests find what the lost messages were for), and the log stays readable (at most 20
tracebacks, where a traceback per event was logged before)."""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from events.models import Event
from projects.models import Project
from testing.utils import (
    RedisServer,
    database_env,
    exception_event,
    free_port,
    kill_session,
    make_envelope,
    require_service,
    session_processes,
    wait_until,
)

ROOT = Path(__file__).resolve().parents[2]

EVENTS = 1200  # sent at RATE per second from SENDERS threads: about 15 s of traffic
RATE = 80
SENDERS = 4
REDIS_DOWN_AT, REDIS_BACK_AT, DIGEST_KILLED_AT = 3.0, 10.0, 12.0  # seconds into the stream
STREAM_BOUND = 60  # seconds: the stream is cut off here should the server crawl (the test then fails)
DIGEST_BOUND = 90  # seconds after the stream for every accepted event to be digested
MAX_TRACEBACKS = 20


def send_stream(url: str, project, on_progress) -> list[tuple[str, object]]:
    """EVENTS envelopes at RATE per second from SENDERS threads; (event id, HTTP status or the exception's name)
    for each. `on_progress(seconds)` is called from the pacing loop, for the faults."""
    endpoint = f"{url}/api/{project.pk}/envelope/?sentry_key={project.sentry_key}"
    results: list[tuple[str, object]] = []
    lock = threading.Lock()
    start = time.monotonic()
    next_index = iter(range(EVENTS))
    index_lock = threading.Lock()

    def sender():
        while True:
            with index_lock:
                index = next(next_index, None)
            if index is None:
                return
            due = start + index / RATE
            if time.monotonic() - start > STREAM_BOUND:
                with lock:
                    results.append(("", "not sent: the stream's time bound passed"))
                continue
            time.sleep(max(0.0, due - time.monotonic()))
            event_id = uuid.uuid4().hex
            body = make_envelope(exception_event("FaultError", f"event {index}"), event_id=event_id)
            try:
                with urllib.request.urlopen(urllib.request.Request(endpoint, data=body), timeout=15) as response:
                    outcome = response.status
            except urllib.error.HTTPError as e:
                outcome = e.code
            except (urllib.error.URLError, OSError) as e:
                reason = getattr(e, "reason", e)
                outcome = reason.__class__.__name__
            with lock:
                results.append((event_id, outcome))

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        on_progress(time.monotonic() - start)
        time.sleep(0.05)
    for thread in threads:
        thread.join(timeout=STREAM_BOUND)
    return results


@pytest.mark.slow
def test_serve_keeps_answering_and_digests_everything_through_a_broker_restart_and_a_killed_worker(
    transactional_db, tmp_path, settings
):
    require_service(shutil.which("redis-server") is not None, "redis-server (the Debian package redis-server)")
    redis_server = RedisServer(tmp_path)
    redis_server.start()
    project = Project.objects.create(name="Faults")
    port = free_port()
    status_path = tmp_path / "supervisor.json"
    env = {
        **os.environ,
        **database_env(),
        "DJANGO_SETTINGS_MODULE": "bugsink.settings",
        "BUGSINK_DATA_DIR": str(tmp_path),
        "INGEST_STORE_DIR": str(settings.INGEST_STORE_DIR),
        "CELERY_BROKER_URL": redis_server.url,
        "SECRET_KEY": "serve-faults-test-secret-key",
        "WEB_WORKERS": "1",
        "INGEST_SWEEP_INTERVAL_SECONDS": "2",
        "INGEST_SWEEP_GRACE_SECONDS": "5",
        "QUOTA_EVENTS_PER_MINUTE": "0",  # the stream is a test load, not a flood to refuse
        "QUOTA_EVENTS_PER_HOUR": "0",
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    serve_log = tmp_path / "serve.log"
    log = open(serve_log, "wb")  # noqa: SIM115 (closed below)
    runner = subprocess.Popen(
        [sys.executable, "bin/procfile-run", "-f", "Procfile", "-p", str(port), "--status-file", str(status_path)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def output() -> str:
        return serve_log.read_text(errors="replace")

    def processes() -> dict:
        return json.loads(status_path.read_text())["processes"]

    def wait(condition, message, timeout=60):
        return wait_until(condition, timeout, message=message, process=runner, details=output)

    url = f"http://127.0.0.1:{port}"
    try:

        def ready() -> bool:
            try:
                with urllib.request.urlopen(f"{url}/health/ready", timeout=5) as response:
                    return response.status == 200
            except OSError:
                return False

        wait(ready, "the installation to be ready")
        from celery import Celery

        client = Celery(broker=redis_server.url)
        try:
            wait(lambda: len(client.control.ping(timeout=1.0, limit=2)) == 2, "both workers to answer a ping")
        finally:
            client.close()

        done = set()
        digest_pid = processes()["digest.1"]["pid"]

        def faults(elapsed: float) -> None:
            if elapsed >= REDIS_DOWN_AT and "down" not in done:
                done.add("down")
                redis_server.kill()
            if elapsed >= REDIS_BACK_AT and "back" not in done:
                done.add("back")
                redis_server.start()  # the same port, empty
            if elapsed >= DIGEST_KILLED_AT and "digest" not in done:
                done.add("digest")
                os.kill(digest_pid, signal.SIGKILL)

        # what /health/ready said during the stream: the outage must show (its answer is cached for 5 s at most,
        # the outage lasts longer)
        health_answers: list[tuple[int, str]] = []
        streaming = threading.Event()
        streaming.set()

        def watch_health():
            while streaming.is_set():
                try:
                    with urllib.request.urlopen(f"{url}/health/ready", timeout=10) as response:
                        health_answers.append((response.status, ""))
                except urllib.error.HTTPError as e:
                    health_answers.append((e.code, json.loads(e.read()).get("detail", "")))
                except OSError as e:
                    health_answers.append((0, repr(e)))
                time.sleep(0.5)

        watcher = threading.Thread(target=watch_health, daemon=True)
        watcher.start()
        try:
            results = send_stream(url, project, faults)
        finally:
            streaming.clear()
            watcher.join(timeout=30)
        assert done == {"down", "back", "digest"}, f"the stream ended before every fault: {done}"
        outcomes: dict[object, int] = {}
        for _, outcome in results:
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        assert outcomes == {200: EVENTS}, f"not every request was answered 200: {outcomes}\n{output()[-5000:]}"

        assert any(code == 503 and "broker unreachable" in detail for code, detail in health_answers), health_answers
        assert all(code in (200, 503) for code, _ in health_answers), health_answers

        accepted = {uuid.UUID(event_id) for event_id, outcome in results if outcome == 200}

        def all_digested() -> bool:
            stored = set(Event.objects.filter(project=project).values_list("event_id", flat=True))
            return accepted <= stored

        wait(all_digested, "every accepted event to be digested", timeout=DIGEST_BOUND)
        status = processes()
        assert status["web.1"]["restarts"] == 0 and status["alerts.1"]["restarts"] == 0, status
        assert status["digest.1"]["restarts"] == 1 and status["digest.1"]["state"] == "running", status
        wait(ready, "the installation to be ready again")
    finally:
        runner.send_signal(signal.SIGTERM)
        try:
            runner.wait(timeout=40)
        except subprocess.TimeoutExpired:
            pass
        kill_session(runner.pid)
        log.close()
        redis_server.kill()
    text = output()
    assert "web.1 exited" not in text and "CRASH LOOP" not in text, text
    assert "broker unreachable for" in text and "broker reachable again" in text, text
    tracebacks = text.count("Traceback (most recent call last)")
    assert tracebacks <= MAX_TRACEBACKS, f"{tracebacks} tracebacks in the log:\n{text[-20000:]}"
    assert runner.returncode == 0, f"not a graceful shutdown (exit {runner.returncode}):\n{text[-5000:]}"


@pytest.mark.slow
def test_the_web_server_killed_with_its_forked_workers_comes_back_on_its_port(transactional_db, tmp_path, settings):
    """WEB_WORKERS=2: the web process forks two servers sharing its socket. Killed -9, it leaves them behind; the
    supervisor ends them, so that the web process it starts again can bind the port."""
    web_line = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    (tmp_path / "Procfile").write_text(web_line + "\n")
    port = free_port()
    status_path = tmp_path / "supervisor.json"
    env = {
        **os.environ,
        **database_env(),
        "DJANGO_SETTINGS_MODULE": "bugsink.settings",
        "BUGSINK_DATA_DIR": str(tmp_path),
        "INGEST_STORE_DIR": str(settings.INGEST_STORE_DIR),
        "CELERY_BROKER_URL": "",
        "SECRET_KEY": "serve-faults-test-secret-key",
        "WEB_WORKERS": "2",
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    serve_log = tmp_path / "serve.log"
    log = open(serve_log, "wb")  # noqa: SIM115 (closed below)
    runner = subprocess.Popen(
        [sys.executable, str(ROOT / "bin" / "procfile-run"), "-f", str(tmp_path / "Procfile"), "-p", str(port)]
        + ["--status-file", str(status_path)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def output() -> str:
        return serve_log.read_text(errors="replace")

    def web() -> dict:
        return json.loads(status_path.read_text())["processes"]["web.1"] if status_path.exists() else {}

    def live() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=5) as response:
                return response.status == 200
        except OSError:
            return False

    try:
        wait_until(live, 60, message="the web server", process=runner, details=output)
        master = web()["pid"]
        workers = [int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
        assert len(workers) == 2
        os.kill(master, signal.SIGKILL)
        wait_until(
            lambda: web().get("pid") not in (None, master) and live(),
            60,
            message="the web server to answer again, restarted",
            process=runner,
            details=output,
        )
        assert not set(workers) & set(session_processes(runner.pid)), "the old forked servers are still there"
        assert web()["restarts"] == 1 and web()["state"] == "running"
    finally:
        runner.send_signal(signal.SIGTERM)
        try:
            runner.wait(timeout=40)
        except subprocess.TimeoutExpired:
            pass
        kill_session(runner.pid)
        log.close()
    text = output()
    assert "web.1 left processes behind: SIGTERM to its group" in text, text
    assert "Address already in use" not in text and runner.returncode == 0, text
