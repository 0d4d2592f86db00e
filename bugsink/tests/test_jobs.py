"""bugsink.jobs: every job name is a registered task; with a broker a job is a message on the right queue; without
one, where and how it runs (the caller, the background thread, the writer lock, timers, the periodic loop); the
digest flag's key is this installation's own."""

import threading

import pytest
from django.db import transaction

from bugsink import jobs
from bugsink.celery import app


class Recorder:
    """Stands in for the Celery task of any job: records the thread, and whether it held the writer lock."""

    def __init__(self, release: threading.Event | None = None):
        self.calls = []
        self.release = release

    def __call__(self, name):
        recorder = self

        class Task:
            def apply(self, args, throw=False):
                if recorder.release is not None:
                    recorder.release.wait(5)
                recorder.calls.append((name, args, threading.current_thread().name, jobs.WRITER_LOCK.locked()))

        return Task()


@pytest.fixture
def recorder(monkeypatch, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    fake = Recorder()
    monkeypatch.setattr(jobs, "_task", fake)
    yield fake
    assert jobs.wait_idle(10)


def test_every_job_is_a_registered_task_with_a_thin_name():
    app.loader.import_default_modules()
    for name in jobs.ALL:
        assert name in app.tasks, f"{name} is not a registered Celery task"


def test_with_a_broker_jobs_are_messages_on_their_queues(settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.DIGEST_SHARDS = 3
    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, args, **options: sent.append((name, args, options)))
    assert jobs.run(jobs.DELETE_ISSUES, [7, ["x"]], project_id=7)
    assert jobs.run(jobs.DELIVER_WEBHOOK, [1, "i", "new_issue", {}, 2], countdown=4)
    assert sent == [
        (jobs.DELETE_ISSUES, [7, ["x"]], {"queue": "digest-1", "countdown": None}),
        (jobs.DELIVER_WEBHOOK, [1, "i", "new_issue", {}, 2], {"queue": None, "countdown": 4}),
    ]


def test_a_single_writer_job_needs_its_project():
    with pytest.raises(ValueError):
        jobs.run(jobs.EVICT_PROJECT, [1])


def test_a_broker_that_is_down_is_logged_not_raised(settings, monkeypatch, caplog):
    settings.CELERY_TASK_ALWAYS_EAGER = False

    def down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(app, "send_task", down)
    assert jobs.run(jobs.SWEEP) is False
    assert "job ingest.tasks.sweep was not sent: the broker is unreachable (ConnectionError" in caplog.text
    assert "broker unreachable for 0 s" in caplog.text and "Traceback" not in caplog.text


def test_without_a_broker_a_digest_runs_in_the_caller_under_the_writer_lock(recorder):
    jobs.schedule_digest("5/000-abc")
    assert recorder.calls == [(jobs.DIGEST, ["5/000-abc"], threading.current_thread().name, True)]


def test_without_a_broker_and_not_immediately_a_digest_runs_in_the_background_once_per_project(monkeypatch, settings):
    """`make run`'s default: the request does not wait; while a project's digest is queued, more events of that
    project ask for none (the queued one takes them along), another project's events ask for their own; once the
    digest has started, a new event asks again."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.DIGEST_IMMEDIATELY = False
    release = threading.Event()
    fake = Recorder(release)
    monkeypatch.setattr(jobs, "_task", fake)
    jobs.schedule_digest("5/001-a")
    jobs.schedule_digest("5/002-b")
    jobs.schedule_digest("6/003-c")
    assert fake.calls == []  # the caller went on at once
    jobs.release_digest_claim(5)  # what the digest of project 5 does as it starts
    jobs.schedule_digest("5/004-d")
    release.set()
    assert jobs.wait_idle(10)
    assert [(name, args, thread.startswith("jobs"), locked) for name, args, thread, locked in fake.calls] == [
        (jobs.DIGEST, ["5/001-a"], True, True),
        (jobs.DIGEST, ["6/003-c"], True, True),
        (jobs.DIGEST, ["5/004-d"], True, True),
    ]
    jobs.release_digest_claim(5)
    jobs.release_digest_claim(6)


def test_without_a_broker_other_jobs_run_on_the_background_thread(recorder):
    assert jobs.run(jobs.SEND_NEW_ISSUE_ALERT, ["issue"])
    assert jobs.run(jobs.DELETE_ISSUES, [3, ["issue"]], project_id=3)
    assert jobs.wait_idle(10)
    assert [(name, thread.startswith("jobs"), locked) for name, _, thread, locked in recorder.calls] == [
        (jobs.SEND_NEW_ISSUE_ALERT, True, False),
        (jobs.DELETE_ISSUES, True, True),  # a single writer's job takes the writer lock
    ]


def test_the_caller_does_not_wait_for_a_background_job(monkeypatch, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    release = threading.Event()
    fake = Recorder(release)
    monkeypatch.setattr(jobs, "_task", fake)
    jobs.run(jobs.SEND_UNMUTE_ALERT, ["issue", "reason"])
    assert fake.calls == [] and not jobs.wait_idle(0.05)
    release.set()
    assert jobs.wait_idle(10) and len(fake.calls) == 1


def test_retries_wait_on_a_timer(recorder):
    jobs.run(jobs.DELIVER_EMAIL, ["i", "new_issue", {}, ["a@b.c"], 2], countdown=0.05)
    assert recorder.calls == []
    assert jobs.wait_idle(10)
    assert recorder.calls[0][:2] == (jobs.DELIVER_EMAIL, ["i", "new_issue", {}, ["a@b.c"], 2])


def test_after_commit_only_after_a_commit(recorder, transactional_db):
    with pytest.raises(RuntimeError), transaction.atomic():
        jobs.run(jobs.SWEEP, [], after_commit=True)
        raise RuntimeError("rolled back")
    with transaction.atomic():
        jobs.run(jobs.SWEEP, [1], after_commit=True)
        assert jobs.wait_idle(10) and recorder.calls == []
    assert jobs.wait_idle(10)
    assert [call[:2] for call in recorder.calls] == [(jobs.SWEEP, [1])]


def test_the_periodic_loop_runs_the_beat_schedule_on_the_background_thread(recorder):
    stop = threading.Event()
    schedule = [(jobs.SWEEP, [], 0.05), (jobs.EVICT_EXPIRED, [], 0.05)]
    thread = threading.Thread(target=jobs._periodic_loop, args=(schedule, stop), daemon=True)
    thread.start()
    try:
        assert jobs.wait_idle(10)
        for _ in range(200):
            if {call[0] for call in recorder.calls} == {jobs.SWEEP, jobs.EVICT_EXPIRED}:
                break
            stop.wait(0.05)
    finally:
        stop.set()
        thread.join(5)
    assert {call[0] for call in recorder.calls} == {jobs.SWEEP, jobs.EVICT_EXPIRED}
    assert all(call[2].startswith("jobs") for call in recorder.calls)
    assert not thread.is_alive()


def test_the_digest_flag_is_namespaced_per_installation(settings, monkeypatch):
    from django.db import connection

    settings.JOBS_NAMESPACE = ""
    key = jobs._flag_key(42)
    assert key.startswith("bugsink:") and key.endswith(":digest-queued:42")
    monkeypatch.setitem(connection.settings_dict, "NAME", "another-database")
    assert jobs._flag_key(42) != key
    settings.JOBS_NAMESPACE = "eu-1"
    assert jobs._flag_key(42) == "bugsink:eu-1:digest-queued:42"


@pytest.mark.live
def test_without_a_broker_the_web_server_runs_the_periodic_jobs(transactional_db, tmp_path):
    """`make run` has no beat: its web server runs the beat schedule itself. A raw event that nobody asked to digest
    (a process stopped right after writing it) is digested by the periodic sweep, with no request at all."""
    import json
    import time
    import uuid

    from bugsink.testutils import exception_event, start_web_server, wait_until
    from events.models import Event
    from ingest.store import RawEvent, store_raw_event
    from projects.models import Project

    project = Project.objects.create(name="Left behind")
    event_id = uuid.uuid4().hex
    store_raw_event(
        RawEvent(
            project_id=project.pk,
            event_id=event_id,
            received_at=time.time(),
            remote_addr="127.0.0.1",
            payload=json.dumps(exception_event("Orphaned", "never scheduled")).encode(),
        )
    )
    env = {
        "INGEST_SWEEP_INTERVAL_SECONDS": "1",
        "INGEST_SWEEP_GRACE_SECONDS": "0",
        "CELERY_BROKER_URL": "",
        "JOBS_PERIODIC_WITHOUT_BROKER": "true",
    }
    with start_web_server(tmp_path, extra_env=env):
        wait_until(
            lambda: Event.objects.filter(project=project, event_id=event_id).exists(),
            timeout=30,
            message="the periodic sweep to digest the raw event",
        )


def test_a_job_that_lost_a_deadlock_runs_again(monkeypatch, settings, caplog):
    from django.db import OperationalError

    settings.CELERY_TASK_ALWAYS_EAGER = True
    runs = []

    class Task:
        def apply(self, args, throw=False):
            runs.append(args)
            if len(runs) == 1:
                raise OperationalError("deadlock detected")

    monkeypatch.setattr(jobs, "_task", lambda name: Task())
    jobs.run(jobs.SEND_NEW_ISSUE_ALERT, ["issue"])
    assert jobs.wait_idle(10)
    assert runs == [["issue"], ["issue"]]
    assert "trying again" in caplog.text and "Traceback" not in caplog.text


def test_one_question_to_redis_per_project_per_claim_window(settings):
    """A web process asks whether a digest is queued at most once per project per window: the first event at once,
    the others of that window by one question when it ends (for the newest of them), never none."""
    settings.DIGEST_CLAIM_WINDOW_MS = 200
    asked, lock = [], threading.Lock()

    def ask(project_id, key):
        with lock:
            asked.append((project_id, key))

    window = jobs.ClaimWindow(ask)
    answers = [window.ask_now(1, f"1/00{n}-e") for n in range(5)] + [window.ask_now(2, "2/000-f")]
    assert answers == [True, False, False, False, False, True]  # the caller asks for the first of each project
    for _ in range(100):
        with lock:
            if asked:
                break
        threading.Event().wait(0.05)
    assert asked == [(1, "1/004-e")]  # once, for the newest, after the window
    threading.Event().wait(0.4)
    assert asked == [(1, "1/004-e")]  # and nothing more while nothing new came
    assert window.ask_now(1, "1/005-e") is True  # that question's window has ended too


def test_without_a_claim_window_every_event_asks(settings):
    settings.DIGEST_CLAIM_WINDOW_MS = 0
    window = jobs.ClaimWindow(lambda project_id, key: pytest.fail("nothing waits"))
    assert all(window.ask_now(1, f"1/00{n}-e") for n in range(3))


def test_forgetting_claims_opens_every_window_and_flag(settings):
    settings.DIGEST_CLAIM_WINDOW_MS = 60_000
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert jobs._claims.ask_now(7, "7/001-a") is True and jobs._claims.ask_now(7, "7/002-b") is False
    assert jobs._claim_local(7) is True and jobs._claim_local(7) is False
    jobs.forget_claims()
    assert jobs._claims.ask_now(7, "7/003-c") is True  # a window no longer open
    assert jobs._claim_local(7) is True  # a flag no longer set
    jobs.forget_claims()
