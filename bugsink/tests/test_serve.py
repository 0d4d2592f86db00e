"""`make serve`'s Procfile under bin/procfile-run: every process starts, an event goes through web → Redis →
digest worker, and SIGTERM shuts everything down gracefully."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import redis

from bugsink.testutils import database_env, exception_event, free_port, make_envelope, redis_up, require_service
from events.models import Event
from projects.models import Project

ROOT = Path(__file__).resolve().parents[2]
BROKER_URL = "redis://127.0.0.1:6379/9"


@pytest.mark.slow
def test_procfile_serves_digests_and_shuts_down_gracefully(transactional_db, tmp_path, settings):
    require_service(redis_up(), "Redis on 127.0.0.1:6379")
    redis.Redis.from_url(BROKER_URL).flushdb()
    project = Project.objects.create(name="Served")
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
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 (closed below)
    runner = subprocess.Popen(
        [sys.executable, "bin/procfile-run", "-f", "Procfile", "-p", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/health/ready", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("web did not become ready:\n" + (tmp_path / "serve.log").read_text())
        # both workers up (a worker still booting may not stop as cleanly as a running one)
        from celery import Celery

        client = Celery(broker=BROKER_URL)
        try:
            deadline = time.monotonic() + 60
            replies = []
            while time.monotonic() < deadline and len(replies) < 2:
                replies = client.control.ping(timeout=1.0)
            assert len(replies) == 2, f"workers did not answer a ping: {replies}"
        finally:
            client.close()
        event = exception_event("ServedError", "through the whole stack")
        request = urllib.request.Request(
            f"{url}/api/{project.pk}/envelope/?sentry_key={project.sentry_key}", data=make_envelope(event)
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not Event.objects.filter(project=project).exists():
            time.sleep(0.2)
        assert Event.objects.filter(project=project, calculated_type="ServedError").exists(), (
            tmp_path / "serve.log"
        ).read_text()
    finally:
        runner.send_signal(signal.SIGTERM)
        try:
            code = runner.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(runner.pid, signal.SIGKILL)
            runner.wait()
            code = None
        log.close()
    output = (tmp_path / "serve.log").read_text()
    assert code == 0, f"not a graceful shutdown (exit {code}):\n{output}"
    for name in ("web.1", "digest.1", "alerts.1", "beat.1"):
        assert f"{name} stopped (rc=0)" in output, f"{name} did not shut down gracefully:\n{output}"
