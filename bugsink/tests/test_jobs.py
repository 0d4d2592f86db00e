"""bugsink.jobs: every declared job is a registered task, and every name in the settings a declared job; arguments
go through JSON on every path; one contention policy; with a broker a job is a message on the right queue; without
one, where and how it runs (the caller, the background thread, the writer lock, timers, the periodic loop); the
digest flag's key is this installation's own."""

import threading
import time

import pytest
from django.db import transaction

from alerts.dispatch import deliver_email, deliver_webhook, send_new_issue_alert, send_unmute_alert
from bugsink import jobs
from bugsink.celery import app
from digest import claims
from digest.job import digest_job
from events.retention import evict_expired_projects
from ingest.sweep import sweep
from issues.deletion import delete_issues_job


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


def test_every_job_is_a_registered_task_and_the_settings_name_only_declared_jobs(settings):
    declared = jobs.declared_jobs()
    assert {digest_job.name, sweep.name, delete_issues_job.name, deliver_email.name} <= set(declared)
    for name, job in declared.items():
        assert name in app.tasks, f"{name} is not a registered Celery task"
        assert app.tasks[name].run.__module__ == job.function.__module__
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in declared, f"the beat schedule names {entry['task']}, which no job declares"
    for pattern in settings.CELERY_TASK_ROUTES:
        prefix = pattern.removesuffix("*")
        assert any(name.startswith(prefix) if pattern.endswith("*") else name == pattern for name in declared), pattern


def test_a_job_is_declared_once():
    with pytest.raises(ValueError, match="declared twice"):
        jobs.job(sweep.name)(lambda: 0)


def test_with_a_broker_jobs_are_messages_on_their_queues(settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.DIGEST_SHARDS = 3
    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, args, **options: sent.append((name, args, options)))
    assert delete_issues_job.later(7, ["x"])  # a single writer's job: on the queue of the project its arguments name
    assert deliver_webhook.later(1, "i", "new_issue", {}, 2, countdown=4)
    assert sent == [
        (delete_issues_job.name, [7, ["x"]], {"queue": "digest-1", "countdown": None}),
        (deliver_webhook.name, [1, "i", "new_issue", {}, 2], {"queue": None, "countdown": 4}),
    ]


def test_arguments_go_through_json_without_a_broker_too(recorder):
    """What the broker would deliver, the in-process path delivers: a tuple as a list, a dict's keys as strings."""
    assert deliver_email.later("i", "new_issue", {1: "one"}, ("a@b.c",), 2)
    assert jobs.wait_idle(10)
    assert recorder.calls[0][:2] == (deliver_email.name, ["i", "new_issue", {"1": "one"}, ["a@b.c"], 2])


@pytest.mark.parametrize("broker", [False, True], ids=["in-process", "broker"])
def test_an_argument_that_is_not_json_fails_at_the_call(broker, recorder, settings, monkeypatch, transactional_db):
    from datetime import datetime

    settings.CELERY_TASK_ALWAYS_EAGER = not broker
    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, args, **options: sent.append(name))
    with pytest.raises(TypeError, match="must be JSON"):
        deliver_email.later("i", "new_issue", {"when": datetime.now()}, [], 1)
    with pytest.raises(TypeError, match="must be JSON"), transaction.atomic():
        delete_issues_job.after_commit(3, {"issue"})  # a set: refused at the call, not at the commit
    assert jobs.wait_idle(10)
    assert recorder.calls == [] and sent == []


def test_a_broker_that_is_down_is_logged_not_raised(settings, monkeypatch, caplog):
    settings.CELERY_TASK_ALWAYS_EAGER = False

    def down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(app, "send_task", down)
    assert sweep.later() is False
    assert "job ingest.tasks.sweep was not sent: the broker is unreachable (ConnectionError" in caplog.text
    assert "broker unreachable for 0 s" in caplog.text and "Traceback" not in caplog.text


def test_without_a_broker_a_digest_runs_in_the_caller_under_the_writer_lock(recorder):
    digest_job.schedule("5/000-abc")
    assert recorder.calls == [(digest_job.name, ["5/000-abc"], threading.current_thread().name, True)]


def test_without_a_broker_and_not_immediately_a_digest_runs_in_the_background_once_per_project(monkeypatch, settings):
    """`make run`'s default: the request does not wait; while a project's digest is queued, more events of that
    project ask for none (the queued one takes them along), another project's events ask for their own; once the
    digest has started, a new event asks again."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.DIGEST_IMMEDIATELY = False
    release = threading.Event()
    fake = Recorder(release)
    monkeypatch.setattr(jobs, "_task", fake)
    digest_job.schedule("5/001-a")
    digest_job.schedule("5/002-b")
    digest_job.schedule("6/003-c")
    assert fake.calls == []  # the caller went on at once
    claims.release_digest_claim(5)  # what the digest of project 5 does as it starts
    digest_job.schedule("5/004-d")
    release.set()
    assert jobs.wait_idle(10)
    assert [(name, args, thread.startswith("jobs"), locked) for name, args, thread, locked in fake.calls] == [
        (digest_job.name, ["5/001-a"], True, True),
        (digest_job.name, ["6/003-c"], True, True),
        (digest_job.name, ["5/004-d"], True, True),
    ]
    claims.release_digest_claim(5)
    claims.release_digest_claim(6)


def test_without_a_broker_other_jobs_run_on_the_background_thread(recorder):
    assert send_new_issue_alert.later("issue")
    assert delete_issues_job.later(3, ["issue"])
    assert jobs.wait_idle(10)
    assert [(name, thread.startswith("jobs"), locked) for name, _, thread, locked in recorder.calls] == [
        (send_new_issue_alert.name, True, False),
        (delete_issues_job.name, True, True),  # a single writer's job takes the writer lock
    ]


def test_the_caller_does_not_wait_for_a_background_job(monkeypatch, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    release = threading.Event()
    fake = Recorder(release)
    monkeypatch.setattr(jobs, "_task", fake)
    send_unmute_alert.later("issue", "reason")
    assert fake.calls == [] and not jobs.wait_idle(0.05)
    release.set()
    assert jobs.wait_idle(10) and len(fake.calls) == 1


def test_retries_wait_on_a_timer(recorder):
    deliver_email.later("i", "new_issue", {}, ["a@b.c"], 2, countdown=0.05)
    assert recorder.calls == []
    assert jobs.wait_idle(10)
    assert recorder.calls[0][:2] == (deliver_email.name, ["i", "new_issue", {}, ["a@b.c"], 2])


def test_after_commit_only_after_a_commit(recorder, transactional_db):
    with pytest.raises(RuntimeError), transaction.atomic():
        sweep.after_commit()
        raise RuntimeError("rolled back")
    with transaction.atomic():
        sweep.after_commit(1)
        assert jobs.wait_idle(10) and recorder.calls == []
    assert jobs.wait_idle(10)
    assert [call[:2] for call in recorder.calls] == [(sweep.name, [1])]


def test_the_periodic_loop_runs_the_beat_schedule_on_the_background_thread(recorder):
    stop = threading.Event()
    schedule = [(sweep.name, [], 0.05), (evict_expired_projects.name, [], 0.05)]
    thread = threading.Thread(target=jobs._periodic_loop, args=(schedule, stop), daemon=True)
    thread.start()
    try:
        assert jobs.wait_idle(10)
        for _ in range(200):
            if {call[0] for call in recorder.calls} == {sweep.name, evict_expired_projects.name}:
                break
            stop.wait(0.05)
    finally:
        stop.set()
        thread.join(5)
    assert {call[0] for call in recorder.calls} == {sweep.name, evict_expired_projects.name}
    assert all(call[2].startswith("jobs") for call in recorder.calls)
    assert not thread.is_alive()


def test_the_digest_flag_is_namespaced_per_installation(settings, monkeypatch):
    from django.db import connection

    settings.JOBS_NAMESPACE = ""
    key = claims._flag_key(42)
    assert key.startswith("bugsink:") and key.endswith(":digest-queued:42")
    monkeypatch.setitem(connection.settings_dict, "NAME", "another-database")
    assert claims._flag_key(42) != key
    settings.JOBS_NAMESPACE = "eu-1"
    assert claims._flag_key(42) == "bugsink:eu-1:digest-queued:42"


@pytest.mark.live
def test_without_a_broker_the_web_server_runs_the_periodic_jobs(transactional_db, tmp_path):
    """`make run` has no beat: its web server runs the beat schedule itself. A raw event that nobody asked to digest
    (a process stopped right after writing it) is digested by the periodic sweep, with no request at all."""
    import json
    import time
    import uuid

    from events.models import Event
    from ingest.store import RawEvent, store_raw_event
    from projects.models import Project
    from testing.utils import exception_event, start_web_server, wait_until

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


@pytest.mark.parametrize("broker", [False, True], ids=["in-process", "worker"])
def test_a_job_that_lost_a_deadlock_runs_again(broker, monkeypatch, settings, caplog):
    """The one contention policy, the same whether the job runs in this process or in a worker (which runs the
    registered task: `task.apply` here)."""
    from django.db import OperationalError

    settings.CELERY_TASK_ALWAYS_EAGER = True
    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    runs = []

    def deadlocked_once(issue_id):
        runs.append(issue_id)
        if len(runs) == 1:
            raise OperationalError("deadlock detected")
        return 0

    monkeypatch.setattr(send_new_issue_alert, "function", deadlocked_once)
    if broker:
        send_new_issue_alert.task.apply(args=["issue"], throw=True)
    else:
        send_new_issue_alert.later("issue")
    assert jobs.wait_idle(10)
    assert runs == ["issue", "issue"]
    assert "trying again" in caplog.text and "Traceback" not in caplog.text


def test_contention_is_tried_a_bounded_number_of_times_in_one_place(monkeypatch, settings, caplog):
    """A database that stays busy: CONTENTION_TRIES runs in all, then one failure logged; no layer above (the
    in-process runner, a timer) tries the job again, so the tries never multiply."""
    from django.db import OperationalError

    settings.CELERY_TASK_ALWAYS_EAGER = True
    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    runs = []

    def always_busy(issue_id):
        runs.append(issue_id)
        raise OperationalError("database is locked")

    monkeypatch.setattr(send_new_issue_alert, "function", always_busy)
    assert send_new_issue_alert.later("issue")
    assert jobs.wait_idle(10)
    assert len(runs) == jobs.CONTENTION_TRIES
    assert caplog.text.count("trying again") == jobs.CONTENTION_TRIES - 1
    assert caplog.text.count(f"job {send_new_issue_alert.name}['issue'] failed") == 1


def test_one_question_to_redis_per_project_per_claim_window(settings):
    """A web process asks whether a digest is queued at most once per project per window: the first event at once,
    the others of that window by one question when it ends (for the newest of them), never none."""
    settings.DIGEST_CLAIM_WINDOW_MS = 200
    asked, lock = [], threading.Lock()

    def ask(project_id, key):
        with lock:
            asked.append((project_id, key))

    window = claims.ClaimWindow(ask)
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
    window = claims.ClaimWindow(lambda project_id, key: pytest.fail("nothing waits"))
    assert all(window.ask_now(1, f"1/00{n}-e") for n in range(3))


def test_forgetting_claims_opens_every_window_and_flag(settings):
    settings.DIGEST_CLAIM_WINDOW_MS = 60_000
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert claims._claims.ask_now(7, "7/001-a") is True and claims._claims.ask_now(7, "7/002-b") is False
    assert claims._claim_local(7) is True and claims._claim_local(7) is False
    claims.forget_claims()
    assert claims._claims.ask_now(7, "7/003-c") is True  # a window no longer open
    assert claims._claim_local(7) is True  # a flag no longer set
    claims.forget_claims()
