"""The deadline job: check-ins that did not come (missed) and runs that did not finish (timed out), judged every
minute by the scheduler (the beat schedule, or `make run`'s in-process one).

The periodic job (`check_monitors`) only reads: which projects have a monitor past its `missed_after`
or a running check-in past its `timeout_after` (two indexed queries). Each such project gets a job of its single
writer (`monitor_deadlines_job`), which first digests the project's pending raw records, so that a check-in
that was accepted in time is counted before anything is judged missing, then writes the missed and timed-out
check-ins and judges them as any other (monitors.checkins.judge): a failing monitor's issue opens through digest.

The same writer job forgets monitor environments that have been silent for MONITOR_CHECKIN_RETENTION_DAYS (so that
retired jobs and short-lived environments do not fill MONITORS_MAX_PER_PROJECT); the periodic job finds them too.

Every function takes `now`, so tests move the clock instead of waiting for it.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from bugsink import jobs
from monitors.models import CheckIn, CheckInStatus, Monitor
from projects.models import Project

# per project and run, at most this many missed monitors and timed-out check-ins are judged; the rest next minute
MAX_JUDGED_PER_RUN = 500
RETENTION_BATCH = 1000


@jobs.job("monitors.tasks.check_monitors")
def check_monitors(now: datetime | None = None) -> int:
    """The periodic job: a `monitor_deadlines_job` for each project with something overdue; returns how many."""
    now = now or timezone.now()
    project_ids = (
        set(Monitor.objects.filter(missed_after__lte=now).values_list("project_id", flat=True).order_by().distinct())
        | set(silent_monitors(now).values_list("project_id", flat=True).order_by().distinct())
        | set(
            CheckIn.objects.filter(timeout_after__lte=now)
            .values_list("monitor__project_id", flat=True)
            .order_by()
            .distinct()
        )
    )
    for project_id in sorted(project_ids):  # judged as of this moment, when the job found them overdue
        monitor_deadlines_job.later(project_id, now.isoformat())
    expire_checkins(now)
    return len(project_ids)


@jobs.job("monitors.tasks.monitor_deadlines", writer=lambda project_id, now=None: project_id)
def monitor_deadlines_job(project_id: int, now: str | None = None) -> int:
    """The single-writer job for one project, as of `now` (ISO 8601)."""
    return judge_project_deadlines(project_id, datetime.fromisoformat(now) if now else timezone.now())


def judge_project_deadlines(project_id: int, now: datetime) -> int:
    """Digest what is pending, then judge the project's overdue monitors as of `now`; returns how many check-ins
    were judged missed or timed out."""
    # digest and judging are imported where a project's writer runs this, not by every process that knows the
    # periodic job (the alerts worker only runs check_monitors, which reads): digest.batch is ~5 MB resident
    from digest.batch import digest_pending

    digest_pending(project_id)
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        return 0
    with transaction.atomic():
        forget_silent_monitors(project, now)
        return judge_deadlines(project, now)


def silent_monitors(now: datetime):
    """Monitor environments without a check-in for MONITOR_CHECKIN_RETENTION_DAYS (none when that is 0): a job that
    was retired, or an environment that is gone (a review app's). Their check-ins have expired already."""
    days = settings.MONITOR_CHECKIN_RETENTION_DAYS
    if not days:
        return Monitor.objects.none()
    cutoff = now - timedelta(days=days)
    return Monitor.objects.filter(
        Q(last_checkin_at__lt=cutoff) | Q(last_checkin_at__isnull=True, created_at__lt=cutoff)
    )


def forget_silent_monitors(project: Project, now: datetime) -> int:
    """Inside the project's single writer (which alone saves monitors): delete its silent monitor environments, at
    most RETENTION_BATCH per run, with what is left of their check-ins; their issues stay. Returns how many."""
    ids = list(silent_monitors(now).filter(project=project).values_list("pk", flat=True)[:RETENTION_BATCH])
    if not ids:
        return 0
    CheckIn.objects.filter(monitor_id__in=ids).delete()
    return Monitor.objects.filter(pk__in=ids).delete()[0]


def judge_deadlines(project: Project, now: datetime) -> int:
    """Inside the single writer's transaction: timed-out runs, then missed check-ins, each judged in turn."""
    from monitors.checkins import MONITOR_FIELDS, Verdict, act_on, expect_next, judge

    verdicts: dict[int, tuple[Monitor, Verdict]] = {}
    judged = 0
    timed_out = list(
        CheckIn.objects.select_related("monitor")
        .filter(monitor__project=project, timeout_after__lte=now)
        .order_by("timeout_after")[:MAX_JUDGED_PER_RUN]
    )
    for checkin in timed_out:
        monitor, verdict = verdicts.setdefault(checkin.monitor_id, (checkin.monitor, Verdict()))
        checkin.monitor = monitor
        checkin.status = CheckInStatus.TIMEOUT
        checkin.timeout_after = None
        checkin.date_updated = now
        CheckIn.objects.filter(pk=checkin.pk).update(status=checkin.status, timeout_after=None, date_updated=now)
        judge(monitor, checkin, verdict)
        judged += 1
    missed = []
    overdue = Monitor.objects.filter(project=project, missed_after__lte=now).order_by("missed_after")
    for monitor in overdue[:MAX_JUDGED_PER_RUN]:
        monitor, verdict = verdicts.setdefault(monitor.pk, (monitor, Verdict()))
        expected = monitor.next_expected_at
        checkin = CheckIn(
            monitor=monitor,
            status=CheckInStatus.MISSED,
            date_added=now,
            date_updated=now,
            expected_at=expected,
            environment=monitor.environment,
        )
        # the next slot after the missed one, or after the oldest slot still within its margin when the monitor
        # has been silent for longer: one missed check-in per run and monitor, never a backlog of them
        since = max(expected, now - timedelta(minutes=monitor.checkin_margin)) if expected else now
        expect_next(monitor, since, from_checkin=False)
        judge(monitor, checkin, verdict)
        missed.append(checkin)
        judged += 1
    CheckIn.objects.bulk_create(missed)
    for monitor, verdict in verdicts.values():
        act_on(project, monitor, verdict)
        monitor.save(update_fields=MONITOR_FIELDS)
    return judged


def expire_checkins(now: datetime) -> int:
    """Age-based retention: finished check-ins older than MONITOR_CHECKIN_RETENTION_DAYS, a bounded batch per run."""
    days = settings.MONITOR_CHECKIN_RETENTION_DAYS
    if not days:
        return 0
    cutoff = now - timedelta(days=days)
    ids = list(
        CheckIn.objects.filter(date_added__lt=cutoff, timeout_after__isnull=True).values_list("pk", flat=True)[
            :RETENTION_BATCH
        ]
    )
    return CheckIn.objects.filter(pk__in=ids).delete()[0] if ids else 0
