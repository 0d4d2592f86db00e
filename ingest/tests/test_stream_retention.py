"""Retention of every stream, in one place (README: Retention): each has a periodic job in the beat schedule (and so
in `make run`'s own scheduler), and each job removes what is past its limit while keeping the rest. The per-stream
details are tested with each app (health/tests/test_sessions.py, logs/tests/test_logs.py,
monitors/tests/test_checkins.py, events' retention tests); here: CSP reports go with events, monitor environments
that fell silent are forgotten, and the quota's refusal counts age out."""

import uuid
from datetime import timedelta

from django.test import TestCase
from django.utils import timezone

from events.models import Event
from events.retention import evict_project
from ingest import quota
from ingest.tests.test_security_reports import report_uri_body
from issues.models import Issue
from monitors import deadlines
from monitors.models import CheckIn, Monitor
from monitors.tests.conftest import HOURLY, send_checkins  # noqa: F401 (a fixture)

PERIODIC_JOBS = {
    "events.tasks.evict_expired",  # events, CSP reports among them
    "health.tasks.expire_health",  # session buckets, client reports and not-kept counts
    "monitors.tasks.check_monitors",  # check-ins by age (and count after each digest), silent monitor environments
    "logs.tasks.expire_logs",  # logs by age (and count after each digest)
}


def test_every_stream_has_a_periodic_retention_job(settings):
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert PERIODIC_JOBS <= scheduled


def test_csp_reports_are_evicted_as_events_are(client, project, settings):
    for blocked in ("https://cdn.example/a.js", "https://cdn.example/b.js", "https://cdn.example/c.js"):
        with TestCase.captureOnCommitCallbacks(execute=True):
            response = client.post(
                f"/api/{project.pk}/security/?sentry_key={project.sentry_key}",
                data=report_uri_body(blocked),
                content_type="application/csp-report",
            )
        assert response.status_code == 200
    assert Event.objects.filter(project=project).count() == 3
    settings.RETENTION_MAX_AGE_DAYS = 30
    Event.objects.filter(project=project).update(ingested_at=timezone.now() - timedelta(days=31))
    evict_project(project)
    # the issue keeps its first and its latest report; the one between is gone
    assert Event.objects.filter(project=project).count() == 2
    assert Issue.objects.get(project=project).event_count == 3


def test_silent_monitor_environments_are_forgotten(send_checkins, project, settings):  # noqa: F811
    settings.MONITOR_CHECKIN_RETENTION_DAYS = 7

    def checkin(environment):
        return {
            "check_in_id": uuid.uuid4().hex,
            "monitor_slug": "nightly",
            "status": "error",
            "environment": environment,
            "monitor_config": HOURLY,
        }

    send_checkins(checkin("production"), checkin("review-app-17"))
    review = Monitor.objects.get(environment="review-app-17")
    production = Monitor.objects.get(environment="production")
    issue_id = review.issue_id
    later = timezone.now() + timedelta(days=8)
    Monitor.objects.filter(pk=production.pk).update(last_checkin_at=later - timedelta(days=1))  # still checking in

    assert deadlines.silent_monitors(later).get() == review  # the periodic job finds it, and gives the project
    deadlines.judge_project_deadlines(project.pk, later)  # its writer job, which forgets it
    assert list(Monitor.objects.values_list("environment", flat=True)) == ["production"]
    assert not CheckIn.objects.filter(monitor_id=review.pk).exists()
    assert Issue.objects.filter(pk=issue_id).exists()  # its issue stays, as any issue does
    assert deadlines.forget_silent_monitors(project, later) == 0

    settings.MONITOR_CHECKIN_RETENTION_DAYS = 0  # no age limit: nothing is forgotten
    assert deadlines.forget_silent_monitors(project, later + timedelta(days=365)) == 0
    assert Monitor.objects.count() == 1


def test_quota_refusal_counts_age_out(project, settings, monkeypatch):
    quota.reset()
    settings.CELERY_BROKER_URL = ""
    now = [1_800_000_000.0]
    monkeypatch.setattr(quota, "clock", lambda: now[0])
    quota.count_refused(project.pk, quota.LOG_ITEM, 5, now[0])
    now[0] += 6 * 86400
    quota.count_refused(project.pk, quota.LOG_ITEM, 1, now[0])
    assert quota.refused_counts(project.pk) == {quota.LOG_ITEM: 6}
    now[0] += 86400  # the first day is now 7 days back: out of the window
    assert quota.refused_counts(project.pk) == {quota.LOG_ITEM: 1}
    now[0] += 7 * 86400
    assert quota.refused_counts(project.pk) == {}
    quota.reset()
