"""Check-ins into monitors: the `check_in` stream's digest (Sentry's cron check-ins, from the SDKs' `monitor`
decorators and `sentry-cli monitors run`), and the judgment both it and the deadline job (monitors.deadlines) pass
on each check-in.

A check-in names its monitor by slug, says `in_progress`, `ok` or `error` (a finished run names the `check_in_id`
of its start), and may carry a `monitor_config` that creates the monitor or replaces its settings. The deadline job
adds `missed` and `timeout` check-ins for runs that did not come or did not finish.

Failures (error, missed, timeout) count up; at the monitor's `failure_issue_threshold` consecutive failures it is
failing and each failure becomes an event, made here and digested as an SDK's would be (digest.batch
.digest_generated_events), with one fingerprint per monitor: one issue, whose new-issue alert, regressions, mute and
resolve follow IssueStateManager's rules like any other. `recovery_threshold` consecutive ok check-ins of a failing
monitor resolve that issue.

Runs in the project's single writer, inside its transaction. The payload is the client's: anything that is not a
check-in is counted and skipped, never raised. Writes are bounded per call: one query for the monitors named, one
for the running check-ins finished, one insert of the new check-ins, one update per monitor and per check-in
touched, and the events of failing monitors.
"""

import logging
import math
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils.text import slugify

from digest.batch import digest_generated_events
from events.models import Event
from events.safe import loads_json
from ingest.item_streams import StreamItem
from issues.models import Issue
from issues.state import STATE_FIELDS, IssueStateManager
from monitors import schedule
from monitors.models import FAILURES, CheckIn, CheckInStatus, Monitor, MonitorStatus, ScheduleType
from projects.models import Project

logger = logging.getLogger(__name__)

CLIENT_STATUSES = (CheckInStatus.IN_PROGRESS, CheckInStatus.OK, CheckInStatus.ERROR)
MAX_SLUG_CHARS = 128
MAX_MINUTES = 60 * 24 * 366  # checkin_margin and max_runtime: up to a year
MAX_THRESHOLD = 720
MAX_DURATION = 10 * 366 * 24 * 3600.0
MONITOR_FIELDS = [
    "status",
    "schedule_type",
    "schedule_value",
    "schedule_unit",
    "schedule_error",
    "timezone",
    "checkin_margin",
    "max_runtime",
    "failure_issue_threshold",
    "recovery_threshold",
    "last_checkin_at",
    "last_status",
    "next_expected_at",
    "missed_after",
    "consecutive_failures",
    "consecutive_oks",
    "issue",
]
FAILURE_TEXT = {
    CheckInStatus.ERROR: "a run reported an error",
    CheckInStatus.MISSED: "no check-in came by the expected time",
    CheckInStatus.TIMEOUT: "a run took longer than its maximum runtime",
}


@dataclass
class Verdict:
    """What judging a monitor's check-ins asks of the issue machinery, in order: ("fail", check-in) makes an event,
    ("recover", None) resolves the monitor's issue."""

    actions: list = field(default_factory=list)


def digest_checkins(project: Project, items: list[StreamItem]) -> None:
    """The stream's digest (ingest.item_streams): every check-in of the batch, in arrival order."""
    parsed, skipped = [], 0
    for item in items:
        checkin = parse_checkin(item)
        if checkin is None:
            skipped += 1
        else:
            parsed.append(checkin)
    if skipped:
        logger.info("project %s: %d check-in item(s) were not check-ins we can read; skipped", project.pk, skipped)
    if parsed:
        apply_checkins(project, parsed)


@dataclass
class ParsedCheckIn:
    slug: str
    check_in_id: uuid.UUID
    given_id: bool
    status: str
    duration: float | None
    environment: str
    release: str
    config: dict | None
    at: datetime


def parse_checkin(item: StreamItem) -> ParsedCheckIn | None:
    if item.headers.get("dropped") or not item.payload:
        return None
    try:
        data = loads_json(item.payload)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    slug = data.get("monitor_slug")
    slug = slugify(slug)[:MAX_SLUG_CHARS].strip("-") if isinstance(slug, str) else ""
    status = data.get("status")
    if not slug or status not in CLIENT_STATUSES:
        return None
    try:
        check_in_id, given = uuid.UUID(str(data.get("check_in_id"))[:64]), True
    except ValueError:
        check_in_id, given = uuid.uuid4(), False
    duration = data.get("duration")
    if isinstance(duration, bool) or not isinstance(duration, int | float) or not 0 <= duration <= MAX_DURATION:
        duration = None
    config = data.get("monitor_config")
    return ParsedCheckIn(
        slug=slug,
        check_in_id=check_in_id,
        given_id=given,
        status=status,
        duration=duration,
        environment=_text(data.get("environment"), 64),
        release=_text(data.get("release"), 250),
        config=config if isinstance(config, dict) else None,
        at=item.ingested_at,
    )


def _text(value, length: int) -> str:
    return value.replace("\x00", "")[:length] if isinstance(value, str) else ""


def _bounded_int(value, default: int, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return default
    return min(max(int(value), low), high)


def apply_config(monitor: Monitor, config: dict) -> None:
    """Replace the monitor's settings with a check-in's `monitor_config` (Sentry's upsert); a schedule that cannot be
    used is kept with the reason, and leaves the monitor with nothing to miss."""
    sched = config.get("schedule") if isinstance(config.get("schedule"), dict) else {}
    kind = sched.get("type") if sched.get("type") in ScheduleType.values else ""
    value = sched.get("value")
    monitor.schedule_type = kind
    monitor.schedule_value = _text(value if isinstance(value, str) else str(value) if value is not None else "", 128)
    monitor.schedule_unit = _text(sched.get("unit"), 16) if kind == ScheduleType.INTERVAL else ""
    monitor.timezone = _text(config.get("timezone"), 64) or "UTC"
    monitor.checkin_margin = _bounded_int(config.get("checkin_margin"), 1, 1, MAX_MINUTES)
    monitor.max_runtime = _bounded_int(config.get("max_runtime"), 30, 1, MAX_MINUTES)
    monitor.failure_issue_threshold = _bounded_int(config.get("failure_issue_threshold"), 1, 1, MAX_THRESHOLD)
    monitor.recovery_threshold = _bounded_int(config.get("recovery_threshold"), 1, 1, MAX_THRESHOLD)
    monitor.schedule_error = ""
    if not kind:
        monitor.schedule_error = "the monitor_config has no crontab or interval schedule"
        return
    try:
        schedule.check(kind, monitor.schedule_value, monitor.schedule_unit, monitor.timezone)
    except schedule.ScheduleError as error:
        monitor.schedule_error = str(error)[:255]


def expect_next(monitor: Monitor, after: datetime, *, from_checkin: bool) -> None:
    """Set when the monitor's next check-in is due (and so when it is missed), counted from a check-in at `after`
    or, for a missed one, from the moment it was judged missed."""
    monitor.next_expected_at = monitor.missed_after = None
    if not monitor.schedule_type or monitor.schedule_error:
        return
    try:
        if from_checkin:
            nxt = schedule.next_expected(
                monitor.schedule_type, monitor.schedule_value, monitor.schedule_unit, monitor.timezone, after
            )
        else:
            nxt = schedule.next_after(
                monitor.schedule_type, monitor.schedule_value, monitor.schedule_unit, monitor.timezone, after
            )
    except (schedule.ScheduleError, OverflowError) as error:
        monitor.schedule_error = str(error)[:255]
        return
    monitor.next_expected_at = nxt
    monitor.missed_after = nxt + timedelta(minutes=monitor.checkin_margin)


def judge(monitor: Monitor, checkin: CheckIn, verdict: Verdict) -> None:
    """Count a finished check-in (ok, or one of FAILURES) towards the monitor's failing or recovery."""
    monitor.last_status = checkin.status
    if checkin.status in FAILURES:
        monitor.consecutive_failures += 1
        monitor.consecutive_oks = 0
        if monitor.consecutive_failures >= monitor.failure_issue_threshold:
            monitor.status = MonitorStatus.FAILING
            verdict.actions.append(("fail", checkin))
    elif checkin.status == CheckInStatus.OK:
        monitor.consecutive_oks += 1
        monitor.consecutive_failures = 0
        if monitor.status == MonitorStatus.FAILING:
            if monitor.consecutive_oks >= monitor.recovery_threshold:
                monitor.status = MonitorStatus.OK
                verdict.actions.append(("recover", None))
        else:
            monitor.status = MonitorStatus.OK


def apply_checkins(project: Project, checkins: list[ParsedCheckIn]) -> None:
    """Each check-in goes to the monitor of its slug and environment (a row of its own per environment: judged
    apart, monitors.models); a new environment of a muted slug starts muted."""
    monitors = {
        (m.slug, _env_key(m.environment)): m
        for m in Monitor.objects.filter(project=project, slug__in={c.slug for c in checkins})
    }
    muted_slugs = {slug for (slug, _), monitor in monitors.items() if monitor.is_muted}
    room = max(settings.MONITORS_MAX_PER_PROJECT - Monitor.objects.filter(project=project).count(), 0)
    running = {
        (c.monitor_id, c.check_in_id): c
        for c in CheckIn.objects.filter(
            monitor__in=list(monitors.values()), check_in_id__in={c.check_in_id for c in checkins if c.given_id}
        )
    }
    new_checkins: dict[tuple, CheckIn] = {}
    updated: dict[int, CheckIn] = {}
    verdicts: dict[tuple[str, str], Verdict] = {}
    refused = 0
    for parsed in checkins:
        key = (parsed.slug, _env_key(parsed.environment))
        monitor = monitors.get(key)
        if monitor is None:
            if room <= 0:
                refused += 1
                continue
            room -= 1
            monitor = Monitor.objects.create(
                project=project,
                slug=parsed.slug,
                environment=parsed.environment.strip(),
                created_at=parsed.at,
                is_muted=parsed.slug in muted_slugs,
            )
            monitors[key] = monitor
        if parsed.config is not None:
            apply_config(monitor, parsed.config)
        verdict = verdicts.setdefault(key, Verdict())
        run = (monitor.pk, parsed.check_in_id)
        existing = new_checkins.get(run) or running.get(run)
        monitor.last_checkin_at = parsed.at
        if existing is not None:
            # a run's end that arrives after a later run has started (an SDK sends each check-in on its own, so they
            # can cross): the run's own row gets its status, but the monitor follows the later run
            later = any(
                c.monitor is monitor and c is not existing and c.date_added > existing.date_added
                for c in new_checkins.values()
            ) or (
                existing.pk is not None
                and CheckIn.objects.filter(monitor=monitor, date_added__gt=existing.date_added).exists()
            )
            _finish(monitor, existing, parsed, verdict, judged=not later)
            if existing.pk is not None:
                updated[existing.pk] = existing
            continue
        checkin = CheckIn(
            monitor=monitor,
            check_in_id=parsed.check_in_id,
            status=parsed.status,
            environment=parsed.environment,
            release=parsed.release,
            duration=parsed.duration,
            date_added=parsed.at,
            date_updated=parsed.at,
            expected_at=monitor.next_expected_at,
        )
        expect_next(monitor, parsed.at, from_checkin=True)
        if parsed.status == CheckInStatus.IN_PROGRESS:
            checkin.timeout_after = parsed.at + timedelta(minutes=monitor.max_runtime)
            monitor.last_status = CheckInStatus.IN_PROGRESS
        else:
            judge(monitor, checkin, verdict)
        new_checkins[run] = checkin
    if refused:
        logger.warning(
            "project %s: %d check-in(s) for new monitors refused: it has %d monitors (MONITORS_MAX_PER_PROJECT)",
            project.pk,
            refused,
            settings.MONITORS_MAX_PER_PROJECT,
        )
    CheckIn.objects.bulk_create(list(new_checkins.values()))
    for checkin in updated.values():  # an update, not a save: retention may have deleted an old row meanwhile
        CheckIn.objects.filter(pk=checkin.pk).update(
            status=checkin.status,
            duration=checkin.duration,
            date_updated=checkin.date_updated,
            timeout_after=checkin.timeout_after,
        )
    touched = [monitors[key] for key in verdicts]
    for monitor in touched:
        act_on(project, monitor, verdicts[(monitor.slug, _env_key(monitor.environment))])
        monitor.save(update_fields=MONITOR_FIELDS)
    trim_history(touched)


def _env_key(environment: str) -> str:
    """Environments that one monitor row stands for: "Staging" and "staging " are one, on every database (MariaDB's
    unique index compares them so, whatever we did)."""
    return environment.strip().casefold()


def _finish(monitor: Monitor, checkin: CheckIn, parsed: ParsedCheckIn, verdict: Verdict, judged: bool = True) -> None:
    """A check-in naming one that exists: a run that started (in_progress) now says how it ended. One that was
    judged already (timed out, or finished) only gains its duration. `judged=False`: a later run has started, so this
    end counts for its own row only, not for the monitor's state."""
    if parsed.duration is not None:
        checkin.duration = parsed.duration
    elif parsed.status != CheckInStatus.IN_PROGRESS and checkin.duration is None:
        checkin.duration = max((parsed.at - checkin.date_added).total_seconds(), 0.0)
    checkin.date_updated = parsed.at
    if checkin.status != CheckInStatus.IN_PROGRESS or parsed.status == CheckInStatus.IN_PROGRESS:
        return
    checkin.status = parsed.status
    checkin.timeout_after = None
    if judged:
        judge(monitor, checkin, verdict)


def act_on(project: Project, monitor: Monitor, verdict: Verdict) -> None:
    """Carry out a monitor's verdict in order: consecutive failures as one digest of their events, a recovery as a
    resolve of the monitor's issue. A muted monitor's failures make no event (no issue, no alert); its recovery
    still resolves an issue opened before it was muted."""
    pending: list[dict] = []
    for action, checkin in verdict.actions:
        if action == "fail":
            if not monitor.is_muted:
                pending.append(failure_event(monitor, checkin))
            continue
        _open(project, monitor, pending)
        pending = []
        _resolve(monitor)
    _open(project, monitor, pending)


def _open(project: Project, monitor: Monitor, events: list[dict]) -> None:
    if not events:
        return
    digest_generated_events(project, events, datetime.fromtimestamp(events[-1]["timestamp"], UTC))
    issue_id = Event.objects.filter(project=project, event_id=events[-1]["event_id"]).values_list("issue_id").first()
    if issue_id is not None:
        monitor.issue_id = issue_id[0]


def _resolve(monitor: Monitor) -> None:
    issue = Issue.objects.filter(pk=monitor.issue_id).select_related("project").first() if monitor.issue_id else None
    if issue is None or (issue.is_resolved and not issue.is_resolved_by_next_release):
        return
    IssueStateManager.resolve(issue)
    issue.save(update_fields=STATE_FIELDS)


def failure_event(monitor: Monitor, checkin: CheckIn) -> dict:
    """The event a failure of a failing monitor becomes: one fingerprint per monitor (and so per environment), so its
    failures are one issue; its id derived from the check-in, so that digesting it twice stores it once."""
    what = FAILURE_TEXT.get(checkin.status, checkin.status)
    name = f"{monitor.slug} ({monitor.environment})" if monitor.environment else monitor.slug
    event = {
        "event_id": uuid.uuid5(uuid.NAMESPACE_URL, f"monitor:{monitor.pk}:{checkin.check_in_id}").hex,
        "timestamp": checkin.date_updated.timestamp(),
        "level": "error",
        "platform": "other",
        "logger": "monitors",
        "exception": {"values": [{"type": "MonitorFailure", "value": f"Monitor {name}: {what}"}]},
        "fingerprint": ["monitor", str(monitor.pk)],
        "tags": {"monitor.slug": monitor.slug, "monitor.status": str(checkin.status)},
        "contexts": {
            "monitor": {
                "slug": monitor.slug,
                "schedule": monitor.schedule_text(),
                "check_in_id": str(checkin.check_in_id),
                "status": str(checkin.status),
                "expected_at": checkin.expected_at.isoformat() if checkin.expected_at else None,
                "duration": checkin.duration,
                "consecutive_failures": monitor.consecutive_failures,
            }
        },
    }
    if monitor.environment:
        event["environment"] = monitor.environment
    return event


def trim_history(monitors: list[Monitor]) -> None:
    """Keep each monitor's newest MONITOR_MAX_CHECKINS check-ins (age is the deadline job's: monitors.deadlines)."""
    keep = settings.MONITOR_MAX_CHECKINS
    if not keep:  # 0: no limit by count
        return
    for monitor in monitors:
        cutoff = (
            CheckIn.objects.filter(monitor=monitor)
            .order_by("-date_added", "-id")
            .values_list("date_added", "id")[keep : keep + 1]
        )
        row = next(iter(cutoff), None)
        if row is not None:
            older = Q(date_added__lt=row[0]) | Q(date_added=row[0], id__lte=row[1])
            CheckIn.objects.filter(older, monitor=monitor).delete()
