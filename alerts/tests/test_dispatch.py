"""alert_on_commit, the digest's entry point: after commit, switch-checked, off the caller's thread, never raises."""

import logging
import threading

import pytest
from django.db import transaction

from alerts import dispatch
from alerts.dispatch import alert_on_commit
from alerts.models import AlertChannel, DeliveryAttempt
from bugsink import jobs
from bugsink.jobs import wait_idle as wait_for_background_alerts


@pytest.fixture
def enqueued(monkeypatch):
    """The jobs that would run, instead of running them (after_commit is kept: it registers on_commit)."""
    calls = []
    run = jobs._run

    def record(name, args, **options):
        if options.get("after_commit"):
            return run(name, args, **options)
        calls.append((name, list(args)))
        return True

    monkeypatch.setattr(jobs, "_run", record)
    return calls


@pytest.mark.parametrize(
    ("kind", "context", "task_name", "extra_args"),
    [
        ("new_issue", {}, "alerts.tasks.send_new_issue_alert", []),
        ("regression", {"event_id": "d" * 32}, "alerts.tasks.send_regression_alert", ["d" * 32]),
        (
            "unmute",
            {"reason": "3 events in the last hour"},
            "alerts.tasks.send_unmute_alert",
            ["3 events in the last hour"],
        ),
    ],
)
def test_registers_on_commit_and_enqueues_the_matching_task(
    issue, enqueued, django_capture_on_commit_callbacks, kind, context, task_name, extra_args
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        alert_on_commit(kind, issue, **context)
    assert len(callbacks) == 1
    assert enqueued == []  # nothing before the commit
    callbacks[0]()
    assert enqueued == [(task_name, [str(issue.pk), *extra_args])]


@pytest.mark.parametrize(
    ("kind", "switch"),
    [("new_issue", "alert_on_new_issue"), ("regression", "alert_on_regression"), ("unmute", "alert_on_unmute")],
)
def test_switch_off_registers_nothing(issue, enqueued, django_capture_on_commit_callbacks, kind, switch):
    setattr(issue.project, switch, False)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        alert_on_commit(kind, issue, event_id="e" * 32, reason="x")
    assert callbacks == [] and enqueued == []


def test_no_unmute_alert_for_the_implicit_unmute_of_resolve_or_reopen(
    issue, enqueued, django_capture_on_commit_callbacks
):
    from issues.state import IssueStateManager

    IssueStateManager.mute(issue)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        IssueStateManager.resolve(issue)  # unmutes implicitly
        issue.save()
        IssueStateManager.reopen(issue)
        issue.save()
    assert callbacks == [] and enqueued == []
    assert not issue.is_muted


def test_never_raises_into_the_caller(issue, caplog, django_capture_on_commit_callbacks, monkeypatch, settings):
    class BrokenIssue:
        pk = "x"

        @property
        def project(self):
            raise RuntimeError("database went away")

    with caplog.at_level(logging.ERROR, logger="alerts.dispatch"):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            alert_on_commit("new_issue", BrokenIssue())
            alert_on_commit("no_such_kind", issue)
            alert_on_commit("new_issue", None)
    assert callbacks == []
    assert caplog.text.count("could not schedule") == 3

    # and a broker that is down at commit time is logged, not raised into the committing code
    from bugsink.celery import app

    monkeypatch.setattr(app, "send_task", _raise)
    monkeypatch.setattr(jobs, "_submit", _raise)
    for eager in (True, False):
        settings.CELERY_TASK_ALWAYS_EAGER = eager
        with caplog.at_level(logging.ERROR, logger="bugsink.jobs"):
            with django_capture_on_commit_callbacks(execute=True) as callbacks:
                alert_on_commit("new_issue", issue)
        assert len(callbacks) == 1
    # the first failure is reported as such; the second, inside the outage's retry pause, as not sent (bugsink.jobs)
    alert_errors = [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.ERROR and "alerts.tasks.send_new_issue_alert" in r.getMessage()
    ]
    assert len(alert_errors) == 2, alert_errors


def _raise(*args, **kwargs):
    raise ConnectionError("broker unreachable")


def test_with_a_broker_the_task_goes_to_celery(issue, settings, monkeypatch, django_capture_on_commit_callbacks):
    from bugsink.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, args, **options: sent.append((name, args)))
    with django_capture_on_commit_callbacks(execute=True):
        alert_on_commit("unmute", issue, reason="5 events in the last hour")
    assert sent == [("alerts.tasks.send_unmute_alert", [str(issue.pk), "5 events in the last hour"])]


def test_tasks_are_routed_to_the_alerts_queue():
    from bugsink.celery import app

    for name in (
        "send_new_issue_alert",
        "send_regression_alert",
        "send_unmute_alert",
        "deliver_email",
        "deliver_webhook",
    ):
        job = getattr(dispatch, name)
        assert job.name == f"alerts.tasks.{name}" and job.name in app.tasks
        assert app.amqp.router.route({}, job.name)["queue"].name == "alerts"


def test_embedded_mode_runs_alerts_off_the_callers_thread(settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    ran_on = []
    release = threading.Event()

    class SlowTask:
        name = dispatch.send_new_issue_alert.name

        def apply(self, args, throw=False):
            release.wait(5)  # a webhook that hangs
            ran_on.append(threading.current_thread().name)

    monkeypatch.setattr(jobs, "_task", lambda name: SlowTask())
    assert dispatch.send_new_issue_alert.later("x")
    assert ran_on == []  # run came back although the job is still "sending"
    release.set()
    assert wait_for_background_alerts(5)
    assert ran_on and ran_on[0] != threading.current_thread().name and ran_on[0].startswith("jobs")


def test_end_to_end_after_commit(settings, allow_loopback, receiver, smtp_sink, members, issue, transactional_db):
    """The digest's view: inside its transaction it calls alert_on_commit; after commit, email and webhooks go out
    on the background thread."""
    AlertChannel.objects.create(project=issue.project, name="hook", kind="webhook", url=receiver.url())
    with transaction.atomic():
        alert_on_commit("unmute", issue, reason="5 events in the last hour")
        assert wait_for_background_alerts(0.2) and receiver.requests == []  # not before the commit

    assert wait_for_background_alerts(20)
    assert receiver.json()["reason"] == "5 events in the last hour"
    assert smtp_sink.recipients() == ["alice@example.com", "bob@example.com"]
    assert sorted(DeliveryAttempt.objects.values_list("channel_kind", "status")) == [
        ("email", "sent"),
        ("webhook", "sent"),
    ]


def test_rolled_back_transaction_sends_nothing(settings, allow_loopback, receiver, issue, transactional_db):
    AlertChannel.objects.create(project=issue.project, name="hook", kind="webhook", url=receiver.url())
    with pytest.raises(RuntimeError), transaction.atomic():
        alert_on_commit("new_issue", issue)
        raise RuntimeError("digest failed")
    assert wait_for_background_alerts(5)
    assert receiver.requests == []
