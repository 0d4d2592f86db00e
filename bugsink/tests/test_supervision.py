"""What the supervisor of `make serve` says, as /health/ready and the admin report it: a real bin/procfile-run writes
the status file, the web side reads it (bugsink.supervision)."""

import json
import os
import shutil
import signal

import pytest

from bugsink import health, supervision
from bugsink.tests.test_procfile_run import Supervisor
from testing.utils import RedisServer, kill_session, require_service


@pytest.fixture
def no_broker(settings):
    settings.CELERY_BROKER_URL = ""


def ready(client) -> tuple[int, dict]:
    response = client.get("/health/ready")
    return response.status_code, response.json()


def test_ready_while_every_process_runs_and_not_when_a_worker_is_restarting(
    client, db, tmp_path, monkeypatch, no_broker
):
    runner = Supervisor(tmp_path, "web: exec sleep 60\ndigest: exec sleep 60\n", "--backoff", "60")
    try:
        status = runner.wait_for_status(lambda p: p["web.1"]["pid"] and p["digest.1"]["pid"], "both to run")
        monkeypatch.setenv(supervision.STATUS_ENV, str(runner.status_path))
        code, body = ready(client)
        assert code == 200 and body["processes"] == {"web.1": "running", "digest.1": "running"}
        assert "detail" not in body
        os.kill(status["processes"]["digest.1"]["pid"], signal.SIGKILL)
        runner.wait_for_status(lambda p: p["digest.1"]["state"] == "restarting", "the worker to be restarting")
        code, body = ready(client)
        assert code == 503 and body["status"] == "unavailable"
        assert body["processes"] == {"web.1": "running", "digest.1": "restarting"}
        assert body["detail"] == "digest.1 is restarting (last exit code -9, 1 restart)"
    finally:
        runner.stop()


def test_not_ready_while_a_worker_is_crash_looping(client, db, tmp_path, monkeypatch, no_broker):
    runner = Supervisor(
        tmp_path,
        "web: exec sleep 60\nbroken: echo no database; exit 2\n",
        *("--backoff", "0.05", "--backoff-max", "0.1", "--crash-loop-after", "2"),
    )
    try:
        runner.wait_for_status(lambda p: p["broken.1"]["crash_looping"], "the crash loop")
        monkeypatch.setenv(supervision.STATUS_ENV, str(runner.status_path))
        code, body = ready(client)
        assert code == 503 and body["processes"]["broken.1"] == "crash-looping"
        assert body["detail"].startswith("broken.1 is crash-looping (last exit code 2, ")
    finally:
        runner.stop()


def test_not_ready_when_the_supervisor_is_gone(client, db, tmp_path, monkeypatch, no_broker):
    runner = Supervisor(tmp_path, "web: exec sleep 60\n")
    try:
        runner.wait_for_status(lambda p: p["web.1"]["pid"], "the process to run")
        runner.process.kill()  # -9: it cannot say so in its status file
        runner.process.wait(timeout=30)
        monkeypatch.setenv(supervision.STATUS_ENV, str(runner.status_path))
        code, body = ready(client)
        assert code == 503
        assert (
            body["detail"] == f"the supervisor (pid {runner.process.pid}) is gone: nothing restarts a process that dies"
        )
    finally:
        kill_session(runner.process.pid)


@pytest.mark.parametrize(
    ("content", "reason"),
    [(None, "is missing"), ("{not json", "is unreadable"), ('{"supervisor_pid": 1, "processes": []}', "unreadable")],
)
def test_not_ready_when_the_status_file_is_missing_or_broken(
    client, db, tmp_path, monkeypatch, no_broker, content, reason
):
    path = tmp_path / "status.json"
    if content is not None:
        path.write_text(content)
    monkeypatch.setenv(supervision.STATUS_ENV, str(path))
    code, body = ready(client)
    assert code == 503 and body["processes"] == "unknown" and reason in body["detail"]


def test_not_supervised_is_not_a_problem(client, db, monkeypatch, no_broker):
    monkeypatch.delenv(supervision.STATUS_ENV, raising=False)
    code, body = ready(client)
    assert code == 200 and body["processes"] == "not supervised"


def test_ready_follows_the_broker_going_away_and_coming_back(client, db, tmp_path, settings):
    require_service(shutil.which("redis-server") is not None, "redis-server (the Debian package redis-server)")
    redis_server = RedisServer(tmp_path).start()
    settings.CELERY_BROKER_URL = redis_server.url
    try:
        assert ready(client)[0] == 200
        redis_server.kill()
        health._broker_checks.clear()  # the answer is kept a few seconds; a monitor asks again later
        code, body = ready(client)
        assert code == 503 and body["broker"].startswith("error: ")
        assert body["detail"].startswith("broker unreachable (error: ")
        redis_server.start()  # the same port, empty
        health._broker_checks.clear()
        assert ready(client)[0] == 200
    finally:
        redis_server.kill()


def test_the_admin_shows_the_processes(admin_client, tmp_path, monkeypatch):
    runner = Supervisor(
        tmp_path,
        "web: exec sleep 60\nbroken: echo cannot connect to the database; exit 2\n",
        *("--backoff", "0.05", "--backoff-max", "0.1", "--crash-loop-after", "2"),
    )
    try:
        runner.wait_for_status(lambda p: p["broken.1"]["crash_looping"], "the crash loop")
        monkeypatch.setenv(supervision.STATUS_ENV, str(runner.status_path))
        page = admin_client.get("/admin/processes/").content.decode()
        assert 'data-process="web.1" data-state="running"' in page
        assert 'data-process="broken.1" data-state="crash-looping"' in page
        assert "broken.1 is crash-looping (last exit code 2" in page
        assert "cannot connect to the database" in page.split('data-last-output="broken.1"')[1]
        index = admin_client.get("/admin/").content.decode()
        line = index.split("data-supervision-line")[1].split("</ul>")[0]
        assert 'class="error"' in line and "broken.1 is crash-looping" in line and "/admin/processes/" in line
    finally:
        runner.stop()
    runner.status_path.write_text(json.dumps({**runner.status(), "supervisor_pid": os.getpid()}))  # all stopped
    index = admin_client.get("/admin/").content.decode()
    assert "web.1 is stopped" in index.split("data-supervision-line")[1]


def test_the_admin_with_every_process_running_and_without_a_supervisor(admin_client, tmp_path, monkeypatch):
    runner = Supervisor(tmp_path, "web: exec sleep 60\n")
    try:
        runner.wait_for_status(lambda p: p["web.1"]["pid"], "the process to run")
        monkeypatch.setenv(supervision.STATUS_ENV, str(runner.status_path))
        assert "Every process is running." in admin_client.get("/admin/processes/").content.decode()
        index = admin_client.get("/admin/").content.decode()
        assert "Processes: all 1 running." in index
    finally:
        runner.stop()
    monkeypatch.delenv(supervision.STATUS_ENV)
    page = admin_client.get("/admin/processes/").content.decode()
    assert 'data-supervision="none"' in page
    assert "was not started by the supervisor" in admin_client.get("/admin/").content.decode()


def test_the_processes_page_is_for_staff_only(client, django_user_model):
    assert client.get("/admin/processes/").status_code == 302
    user = django_user_model.objects.create_user("someone", password="pw-for-the-test")
    client.force_login(user)
    response = client.get("/admin/processes/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
