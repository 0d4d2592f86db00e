"""`make serve`'s Procfile under bin/procfile-run: every process starts, an event goes through web → Redis →
digest worker, the beat schedule runs inside the alerts worker (its sweep digests a raw event nobody enqueued),
and SIGTERM shuts everything down gracefully."""

import json
import os
import signal
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import pytest
import redis

from events.models import Event
from ingest.store import RawEvent, store_raw_event
from projects.models import Project
from testing.utils import (
    TEST_REDIS,
    database_env,
    exception_event,
    free_port,
    kill_session,
    live_redis_url,
    make_envelope,
    redis_up,
    require_service,
    wait_until,
)

ROOT = Path(__file__).resolve().parents[2]
BROKER_URL = live_redis_url(9)


@pytest.mark.slow
def test_procfile_serves_digests_and_shuts_down_gracefully(transactional_db, tmp_path, settings):
    require_service(redis_up(), f"Redis on {TEST_REDIS}")
    redis.Redis.from_url(BROKER_URL).flushdb()
    project = Project.objects.create(name="Served")
    # in the store before anything runs, and no digest enqueued for it: only the periodic sweep will find it
    orphan = exception_event("SweptError", "found by the sweep that beat scheduled")
    store_raw_event(
        RawEvent(
            project_id=project.pk,
            event_id=uuid.uuid4().hex,
            received_at=0.0,
            remote_addr="127.0.0.1",
            payload=json.dumps(orphan).encode(),
        )
    )
    port = free_port()
    env = {
        **os.environ,
        **database_env(),
        "DJANGO_SETTINGS_MODULE": "bugsink.settings",
        "BUGSINK_DATA_DIR": str(tmp_path),
        "INGEST_STORE_DIR": str(settings.INGEST_STORE_DIR),
        "CELERY_BROKER_URL": BROKER_URL,
        "SECRET_KEY": "serve-test-secret-key",
        "WEB_WORKERS": "1",
        "INGEST_SWEEP_INTERVAL_SECONDS": "1",
        "INGEST_SWEEP_GRACE_SECONDS": "0",
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    serve_log = tmp_path / "serve.log"
    log = open(serve_log, "wb")  # noqa: SIM115 (closed below)
    runner = subprocess.Popen(
        [sys.executable, "bin/procfile-run", "-f", "Procfile", "-p", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def wait(condition, message):
        # should the supervisor itself die, nothing will come, and its log says why
        return wait_until(condition, 60, message=message, process=runner, details=serve_log.read_text)

    try:
        url = f"http://127.0.0.1:{port}"

        def ready() -> bool:
            try:
                with urllib.request.urlopen(f"{url}/health/ready", timeout=2) as response:
                    return response.status == 200
            except OSError:
                return False

        wait(ready, "the web process to be ready")
        # both workers up (a worker still booting may not stop as cleanly as a running one)
        from celery import Celery

        client = Celery(broker=BROKER_URL)
        try:
            wait(lambda: len(client.control.ping(timeout=1.0, limit=2)) == 2, "both workers to answer a ping")
        finally:
            client.close()
        event = exception_event("ServedError", "through the whole stack")
        request = urllib.request.Request(
            f"{url}/api/{project.pk}/envelope/?sentry_key={project.sentry_key}", data=make_envelope(event)
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        wait(
            lambda: Event.objects.filter(project=project, calculated_type="ServedError").exists(),
            "the event to be digested",
        )
        # there is no `celery beat` process: the alerts worker's --beat-thread sent the sweep
        wait(
            lambda: Event.objects.filter(project=project, calculated_type="SweptError").exists(),
            "the swept event to be digested",
        )
    finally:
        runner.send_signal(signal.SIGTERM)
        try:
            code = runner.wait(timeout=30)
        except subprocess.TimeoutExpired:
            code = None
        kill_session(runner.pid)  # its processes too, each in a process group of its own (a no-op when all stopped)
        log.close()
    output = serve_log.read_text()
    assert code == 0, f"not a graceful shutdown (exit {code}):\n{output}"
    for name in ("web.1", "digest.1", "alerts.1"):
        assert f"{name} stopped (rc=0)" in output, f"{name} did not shut down gracefully:\n{output}"
