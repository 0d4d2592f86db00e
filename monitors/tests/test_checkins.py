"""Check-ins through the real ingest endpoint into monitors, and the deadline job judging what did not come: a
failing monitor opens an issue through digest (alerts, mute, resolve as for any issue), its recovery resolves it."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import DeliveryAttempt
from bugsink import jobs
from events.models import Event
from issues.models import Issue, TurningPoint
from issues.state import STATE_FIELDS, IssueStateManager
from monitors import deadlines
from monitors.models import CheckIn, CheckInStatus, Monitor, MonitorStatus
from monitors.tests.conftest import HOURLY
from projects.models import Project, ProjectMembership


def checkin(status, slug="nightly", config=HOURLY, **fields):
    data = {"check_in_id": uuid.uuid4().hex, "monitor_slug": slug, "status": status, **fields}
    if config is not None:
        data["monitor_config"] = config
    return data


def judge_at(project, now):
    return deadlines.judge_project_deadlines(project.pk, now)


def test_a_run_that_starts_and_finishes_is_one_check_in_with_its_duration(send_checkins, project):
    start = checkin("in_progress")
    send_checkins(start)
    monitor = Monitor.objects.get(project=project, slug="nightly")
    assert (monitor.schedule_type, monitor.schedule_value, monitor.checkin_margin, monitor.max_runtime) == (
        "crontab",
        "0 * * * *",
        5,
        10,
    )
    assert monitor.last_status == "in_progress" and monitor.next_expected_at is not None
    running = CheckIn.objects.get(monitor=monitor)
    assert running.timeout_after == running.date_added + timedelta(minutes=10)

    send_checkins({**start, "status": "ok", "duration": 12.5})
    done = CheckIn.objects.get(monitor=monitor)
    assert (done.status, done.duration, done.timeout_after) == ("ok", 12.5, None)
    monitor.refresh_from_db()
    assert (monitor.status, monitor.last_status, monitor.consecutive_oks) == (MonitorStatus.OK, "ok", 1)
    assert Issue.objects.filter(project=project).count() == 0


def test_an_error_opens_an_issue_with_an_alert_and_an_ok_resolves_it(
    transactional_db, send_checkins, project, mailoutbox, django_user_model
):
    # committed rows: the alert job runs on the jobs' background thread, with its own connection
    ProjectMembership.objects.create(project=project, user=django_user_model.objects.create_user("ops", "o@x.org"))
    send_checkins(checkin("ok"))
    send_checkins(checkin("error", duration=3))
    assert jobs.wait_idle(30)
    assert DeliveryAttempt.objects.filter(project=project, alert_kind="new_issue", status="sent").count() == 1
    assert "Monitor nightly" in mailoutbox[0].subject
    monitor = Monitor.objects.get(project=project)
    assert monitor.status == MonitorStatus.FAILING and monitor.issue_id is not None
    issue = Issue.objects.get(pk=monitor.issue_id)
    assert issue.calculated_type == "MonitorFailure"
    assert issue.calculated_value == "Monitor nightly: a run reported an error"
    assert not issue.is_resolved
    event = Event.objects.get(issue=issue)
    assert event.data["contexts"]["monitor"]["slug"] == "nightly"
    assert TurningPoint.objects.filter(issue=issue, kind="first_seen").exists()

    send_checkins(checkin("ok"))
    issue.refresh_from_db()
    monitor.refresh_from_db()
    assert issue.is_resolved and monitor.status == MonitorStatus.OK
    assert TurningPoint.objects.filter(issue=issue, kind="resolved").exists()

    # failing again is a regression of the same issue, as a resolved error's next event is
    send_checkins(checkin("error"))
    issue.refresh_from_db()
    assert not issue.is_resolved and issue.event_count == 2
    assert TurningPoint.objects.filter(issue=issue, kind="regressed").exists()
    assert Issue.objects.filter(project=project).count() == 1


def test_thresholds_count_consecutive_check_ins(send_checkins, project):
    config = {**HOURLY, "failure_issue_threshold": 2, "recovery_threshold": 2}
    send_checkins(checkin("error", config=config))
    assert Issue.objects.count() == 0  # one failure is not yet two
    send_checkins(checkin("ok", config=config), checkin("error", config=config))
    assert Issue.objects.count() == 0  # an ok in between starts the count again
    send_checkins(checkin("error", config=config))
    issue = Issue.objects.get()
    send_checkins(checkin("ok", config=config))
    issue.refresh_from_db()
    assert not issue.is_resolved  # one ok of the two the recovery needs
    send_checkins(checkin("ok", config=config))
    issue.refresh_from_db()
    assert issue.is_resolved


def test_failure_and_recovery_in_one_envelope_leave_the_issue_resolved(send_checkins, project):
    send_checkins(checkin("error"), checkin("ok"))
    issue = Issue.objects.get()
    assert issue.is_resolved and Monitor.objects.get().status == MonitorStatus.OK


def test_a_muted_monitor_issue_stays_muted_while_failing(send_checkins, project):
    send_checkins(checkin("error"))
    issue = Issue.objects.get()
    IssueStateManager.mute(issue)
    issue.save(update_fields=STATE_FIELDS)
    send_checkins(checkin("error"))
    issue.refresh_from_db()
    assert issue.is_muted and issue.event_count == 2


def test_a_missed_check_in_opens_an_issue_and_a_later_ok_resolves_it(send_checkins, project):
    send_checkins(checkin("ok"))
    monitor = Monitor.objects.get()
    expected = monitor.next_expected_at
    assert monitor.missed_after == expected + timedelta(minutes=5)

    assert judge_at(project, monitor.missed_after - timedelta(seconds=1)) == 0  # within the margin: not yet
    assert deadlines.check_monitors(monitor.missed_after - timedelta(seconds=1)) == 0

    assert judge_at(project, monitor.missed_after + timedelta(seconds=1)) == 1
    missed = CheckIn.objects.get(status=CheckInStatus.MISSED)
    assert missed.expected_at == expected
    monitor.refresh_from_db()
    assert monitor.status == MonitorStatus.FAILING
    assert monitor.next_expected_at == expected + timedelta(hours=1)  # the next slot, not judged twice
    issue = Issue.objects.get(pk=monitor.issue_id)
    assert issue.calculated_value == "Monitor nightly: no check-in came by the expected time"

    assert judge_at(project, monitor.missed_after - timedelta(seconds=1)) == 0  # the same slot is missed once

    send_checkins(checkin("ok"))
    issue.refresh_from_db()
    assert issue.is_resolved


def test_the_periodic_job_judges_each_project_with_something_overdue(transactional_db, send_checkins, project):
    other = Project.objects.create(name="Other", slug="other")
    send_checkins(checkin("ok", slug="a"))
    send_checkins(checkin("ok", slug="b"), to=other)
    later = timezone.now() + timedelta(hours=2)
    assert deadlines.check_monitors(later) == 2
    assert jobs.wait_idle(30)  # a single-writer job each, on the jobs' background thread
    assert CheckIn.objects.filter(status=CheckInStatus.MISSED).count() == 2
    assert Issue.objects.filter(project=other).count() == 1


def test_a_run_that_never_finishes_times_out(send_checkins, project):
    # a daily slot: with the hourly one, a run started at minute 50 or later would also be missed (at :05) before
    # its timeout, and the judge would count that too (CI met it at 21:57)
    start = checkin("in_progress", config={**HOURLY, "schedule": {"type": "crontab", "value": "0 3 * * *"}})
    send_checkins(start)
    running = CheckIn.objects.get()
    assert judge_at(project, running.timeout_after - timedelta(seconds=1)) == 0
    assert judge_at(project, running.timeout_after + timedelta(seconds=1)) == 1
    running.refresh_from_db()
    assert running.status == CheckInStatus.TIMEOUT and running.timeout_after is None
    issue = Issue.objects.get()
    assert issue.calculated_value == "Monitor nightly: a run took longer than its maximum runtime"
    # the run's late end records its duration, but does not undo the timeout
    send_checkins({**start, "status": "ok", "duration": 4000})
    running.refresh_from_db()
    assert (running.status, running.duration) == ("timeout", 4000)


def test_a_monitor_without_a_usable_schedule_is_never_missed(send_checkins, project):
    send_checkins(checkin("ok", slug="bad", config={"schedule": {"type": "crontab", "value": "every day"}}))
    send_checkins(checkin("ok", slug="none", config=None))
    bad, none = Monitor.objects.get(slug="bad"), Monitor.objects.get(slug="none")
    assert "cannot read crontab" in bad.schedule_error and bad.missed_after is None
    assert none.schedule_type == "" and none.missed_after is None
    assert judge_at(project, timezone.now() + timedelta(days=30)) == 0


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"[1, 2]",
        b'{"monitor_slug": "x"}',
        b'{"monitor_slug": "x", "status": "exploded"}',
        b'{"monitor_slug": "!!!", "status": "ok"}',
        b'{"monitor_slug": ["x"], "status": "ok"}',
        b'{"monitor_slug": "x\\u0000y", "status": "ok", "check_in_id": {"a": 1}, "duration": "long",'
        b' "environment": 5, "monitor_config": {"schedule": {"type": "interval", "value": 1e999, "unit": 7},'
        b' "checkin_margin": -4, "max_runtime": true, "timezone": ["x"], "failure_issue_threshold": 1e99}}',
    ],
)
def test_hostile_check_ins_are_skipped_or_tamed_never_raised(send_checkins, project, payload):
    send_checkins(payload, checkin("ok", slug="fine"))
    assert Monitor.objects.filter(slug="fine").exists()
    for monitor in Monitor.objects.exclude(slug="fine"):
        assert monitor.slug == "xy"
        assert monitor.checkin_margin == 1 and monitor.max_runtime == 30 and monitor.failure_issue_threshold == 720
        assert monitor.schedule_error


def test_slugs_are_slugified_and_history_is_bounded(send_checkins, project, settings):
    settings.MONITOR_MAX_CHECKINS = 3
    send_checkins(*[checkin("ok", slug="Nightly Backup") for _ in range(5)])
    monitor = Monitor.objects.get()
    assert monitor.slug == "nightly-backup"
    assert CheckIn.objects.filter(monitor=monitor).count() == 3
    settings.MONITOR_MAX_CHECKINS = 0  # no limit by count
    send_checkins(*[checkin("ok", slug="Nightly Backup") for _ in range(2)])
    assert CheckIn.objects.filter(monitor=monitor).count() == 5


def test_monitors_per_project_are_bounded(send_checkins, project, settings):
    settings.MONITORS_MAX_PER_PROJECT = 2
    send_checkins(checkin("ok", slug="a"), checkin("ok", slug="b"), checkin("ok", slug="c"))
    send_checkins(checkin("ok", slug="a"), checkin("ok", slug="d"))
    assert sorted(Monitor.objects.values_list("slug", flat=True)) == ["a", "b"]
    assert CheckIn.objects.count() == 3


def test_old_check_ins_expire(send_checkins, project, settings):
    settings.MONITOR_CHECKIN_RETENTION_DAYS = 7
    send_checkins(checkin("ok"), checkin("in_progress"))
    assert deadlines.expire_checkins(timezone.now() + timedelta(days=8)) == 1  # the running one stays
    assert CheckIn.objects.get().status == "in_progress"


def test_a_runs_end_that_arrives_after_a_later_run_started_does_not_decide_the_monitors_state(send_checkins, project):
    # two runs of one job whose check-ins cross on the way (an SDK sends each on its own connection): the second run
    # failed, the first one's ok comes last; the monitor follows the later run, the first run's row still says ok
    first, second = checkin("in_progress"), checkin("in_progress")
    send_checkins(first)
    send_checkins(second)
    send_checkins({**second, "status": "error"})
    send_checkins({**first, "status": "ok"})
    monitor = Monitor.objects.get()
    assert monitor.status == MonitorStatus.FAILING
    assert sorted(CheckIn.objects.values_list("status", flat=True)) == ["error", "ok"]
    assert not Issue.objects.get().is_resolved
