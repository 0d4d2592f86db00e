"""A broker that does not answer (bugsink.jobs.BrokerOutage): ingest goes on answering 200 with the events kept in the
store, the log gets one warning per interval with the number of events waiting instead of a traceback per event,
and the first send that works again asks for the waiting projects' digests."""

import logging
import re
import shutil
import sys
import threading
import urllib.request

import pytest

from alerts.dispatch import send_new_issue_alert
from bugsink import jobs
from bugsink.celery import BrokerUnreachableOnOneLine, Scheduler
from digest.job import digest_job
from ingest import store
from ingest.sweep import sweep
from testing.utils import (
    RedisServer,
    exception_event,
    free_port,
    make_envelope,
    require_service,
    start_web_server,
    store_event,
    wait_until,
)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def outage_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("broker unreachable for")]


def test_one_warning_per_interval_with_the_events_waiting(project, caplog):
    for _ in range(3):
        store_event(project, exception_event())
    clock = Clock()
    outage = jobs.BrokerOutage(retry_seconds=1, warning_seconds=30, clock=clock)
    outage.failed(digest_job.name, project.pk, f"{project.pk}/a", ConnectionError("Connection refused"))
    for _ in range(290):  # a hundred events a second, each asking for its digest
        clock.now += 0.1
        outage.not_sent(digest_job.name, project.pk, f"{project.pk}/b")
    assert outage_warnings(caplog) == [
        "broker unreachable for 0 s (ConnectionError: Connection refused): 1 jobs not sent; 3 accepted events wait in "
        "the ingest store for digest, which resumes when the broker is back (next report in 30 s unless it is back)"
    ]
    clock.now += 1.0  # 30 s after the first warning
    outage.not_sent(digest_job.name, project.pk, f"{project.pk}/c")
    assert len(outage_warnings(caplog)) == 2 and "for 30 s" in outage_warnings(caplog)[1]
    assert "292 jobs not sent" in outage_warnings(caplog)[1]
    assert not any(r.exc_info for r in caplog.records)


def test_after_a_failure_one_caller_tries_again_and_the_others_do_not_wait(caplog):
    clock = Clock()
    outage = jobs.BrokerOutage(retry_seconds=1, warning_seconds=30, clock=clock)
    assert outage.may_send_deferrable() and not outage.is_down()
    outage.failed(digest_job.name, 4, "4/a", ConnectionError("refused"))
    assert outage.is_down() and not outage.may_send_deferrable()
    clock.now += 1
    assert not outage.is_down()
    assert outage.may_send_deferrable()  # the probe
    assert not outage.may_send_deferrable()  # the others, while it tries
    outage.failed(digest_job.name, 5, "5/b", ConnectionError("refused"))
    assert not outage.may_send_deferrable()
    clock.now += 1
    assert outage.may_send_deferrable()
    outage.not_sent(digest_job.name, 4, "4/c")  # another event of project 4: one key per project is enough
    assert outage.sent() == [(digest_job.name, 4, "4/a"), (digest_job.name, 5, "5/b")]
    assert outage.may_send_deferrable() and outage.sent() == []
    assert "broker reachable again after 2 s; 3 jobs were not sent meanwhile" in caplog.text


def test_a_job_other_than_a_digest_that_is_not_sent_is_an_error_each_time(caplog):
    outage = jobs.BrokerOutage(retry_seconds=1, warning_seconds=30, clock=Clock())
    outage.failed(send_new_issue_alert.name, None, None, ConnectionError("refused"))
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert [r.getMessage() for r in errors] == [
        "job alerts.tasks.send_new_issue_alert was not sent: the broker is unreachable (ConnectionError: refused); "
        "it will not run"
    ]


def send(url: str, project) -> int:
    request = urllib.request.Request(
        f"{url}/api/{project.pk}/envelope/?sentry_key={project.sentry_key}",
        data=make_envelope(exception_event("OutageError", "while the broker is down")),
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


@pytest.mark.live
def test_the_web_server_through_a_broker_outage(project, tmp_path, transactional_db):
    """A real web server whose Redis is not there yet, then is started (empty) on that port."""
    require_service(shutil.which("redis-server") is not None, "redis-server (the Debian package redis-server)")
    redis_server = RedisServer(tmp_path, port=free_port())
    env = {"CELERY_BROKER_URL": redis_server.url, "BROKER_OUTAGE_WARNING_SECONDS": "600"}
    server = start_web_server(tmp_path, extra_env=env)
    with server as url:
        try:
            statuses: list[int] = []
            lock = threading.Lock()

            def sender():
                for _ in range(15):
                    status = send(url, project)
                    with lock:
                        statuses.append(status)

            threads = [threading.Thread(target=sender) for _ in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
            assert statuses == [200] * 60
            assert len(store.pending_raw_events()) == 60  # accepted means kept
            with urllib.request.urlopen(f"{url}/health/live", timeout=10) as response:
                assert response.status == 200
            log = server.output()
            warnings = re.findall(r"broker unreachable for \d+ s \(.*?\): (\d+) jobs not sent; (\d+) accepted", log)
            assert len(warnings) == 1, log  # one per interval (600 s here), not one per event
            assert int(warnings[0][1]) >= 1
            assert "Traceback" not in log, log

            redis_server.start()  # back, empty
            wait_until(lambda: send(url, project) == 200 and "broker reachable again" in server.output(), 30)
            # the digest the waiting events needed is queued (one: the project's "digest queued" flag is set again)
            assert redis_server.client().llen("digest") == 1
            assert "Traceback" not in server.output(), server.output()
        finally:
            redis_server.kill()


def test_the_beat_schedule_says_in_one_line_that_the_broker_is_down(tmp_path, caplog):
    """The scheduler of `celery beat` and --beat-thread, on a real broker address where nothing listens."""
    from celery import Celery
    from celery.beat import ScheduleEntry

    app = Celery("beat-test", broker=f"redis://127.0.0.1:{free_port()}/0")
    app.conf.broker_connection_max_retries = 1
    scheduler = Scheduler(app=app, schedule_filename=str(tmp_path / "schedule"), lazy=True)
    entry = ScheduleEntry(name="sweep-ingest-store", task=sweep.name, schedule=60.0, app=app)
    try:
        scheduler.apply_entry(entry, producer=None)
    finally:
        app.close()
    assert [r.getMessage().split(" (")[0] for r in caplog.records if r.name == "bugsink.celery"] == [
        "beat: sweep-ingest-store not sent, the broker is unreachable"
    ]
    assert not any(r.exc_info for r in caplog.records)


def test_the_workers_log_a_broker_error_on_one_line():
    def record_of(error: BaseException) -> logging.LogRecord:
        try:
            raise error
        except BaseException:
            return logging.LogRecord(
                "kombu", logging.CRITICAL, __file__, 1, "Couldn't ack %r", ("tag",), sys.exc_info()
            )

    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except ConnectionRefusedError as refused:
            raise RuntimeError("Couldn't apply scheduled task") from refused
    except RuntimeError as wrapped:
        chained = record_of(wrapped)
    plain = record_of(ConnectionError("Connection closed by server."))
    unrelated = record_of(ValueError("a bug"))
    for record in (chained, plain, unrelated):
        assert BrokerUnreachableOnOneLine().filter(record)
    assert chained.exc_info is None and chained.getMessage() == (
        "Couldn't ack 'tag' [ConnectionRefusedError: [Errno 111] Connection refused]"
    )
    assert plain.exc_info is None and plain.levelname == "CRITICAL"
    assert unrelated.exc_info is not None, "a bug keeps its traceback"
