"""When a monitor's next check-in is expected: its crontab (in its timezone) or its interval, from a moment.

Pure: no database. Crontabs are read by `cronsim` (the parser healthchecks.io maintains; `croniter` said it would
stop being maintained); intervals are counted here, months and years on the calendar. A schedule we cannot read is
reported as a ScheduleError, never raised past the caller: its monitor then simply has nothing to miss.
"""

import calendar
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

INTERVAL_UNITS = ("minute", "hour", "day", "week", "month", "year")
MAX_CRONTAB_CHARS = 128
MAX_INTERVAL = 10_000  # of its unit: generous, and keeps datetime arithmetic in range
# A check-in that comes a little before its slot (a clock a few seconds fast, a job started early) is for that slot,
# not for the one before it: the next expected time is the first slot at least this long after the check-in.
EARLY_TOLERANCE = timedelta(seconds=30)
# the nicknames Sentry's crontabs accept, as five fields
NICKNAMES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


class ScheduleError(ValueError):
    pass


def check(schedule_type: str, value: str, unit: str, timezone: str) -> None:
    """Raise ScheduleError when the schedule cannot be used; the message says why."""
    next_after(schedule_type, value, unit, timezone, datetime(2000, 1, 1, tzinfo=UTC))


def next_after(schedule_type: str, value: str, unit: str, timezone: str, moment: datetime) -> datetime:
    """The first time the schedule fires strictly after `moment` (aware), in UTC."""
    if schedule_type == "crontab":
        return _next_crontab(value, timezone, moment)
    if schedule_type == "interval":
        return _add_interval(moment, _interval_count(value), unit).astimezone(UTC)
    raise ScheduleError(f"unknown schedule type {schedule_type!r}")


def next_expected(schedule_type: str, value: str, unit: str, timezone: str, checkin_at: datetime) -> datetime:
    """The next check-in expected after one at `checkin_at`."""
    if schedule_type == "crontab":
        return next_after(schedule_type, value, unit, timezone, checkin_at + EARLY_TOLERANCE)
    return next_after(schedule_type, value, unit, timezone, checkin_at)


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ScheduleError(f"unknown timezone {timezone[:64]!r}") from error


def _next_crontab(expression: str, timezone: str, moment: datetime) -> datetime:
    if not expression or len(expression) > MAX_CRONTAB_CHARS:
        raise ScheduleError("a crontab must be 1 to 128 characters")
    zone = _zone(timezone)
    fields = NICKNAMES.get(expression.strip().lower(), expression)
    local = moment.astimezone(zone).replace(microsecond=0)
    try:
        # cronsim yields times after its start (never the start itself) and ignores seconds; from the start of the
        # minute, a moment at hh:mm:30 may yield hh:mm:00 itself, which is not after it: skip that one
        for fire in CronSim(fields, local.replace(second=0)):
            if fire > moment:
                return fire.astimezone(UTC)
    except CronSimError as error:
        raise ScheduleError(f"cannot read crontab {expression!r}: {error}") from error
    except (StopIteration, OverflowError, ValueError) as error:
        raise ScheduleError(f"crontab {expression!r} never fires") from error
    raise ScheduleError(f"crontab {expression!r} never fires")


def _interval_count(value: str) -> int:
    try:
        count = int(float(value))
    except (TypeError, ValueError, OverflowError) as error:
        raise ScheduleError(f"an interval must be a whole number, not {str(value)[:32]!r}") from error
    if not 1 <= count <= MAX_INTERVAL:
        raise ScheduleError(f"an interval must be between 1 and {MAX_INTERVAL}")
    return count


def _add_interval(moment: datetime, count: int, unit: str) -> datetime:
    if unit in ("minute", "hour", "day", "week"):
        return moment + timedelta(**{f"{unit}s": count})
    if unit in ("month", "year"):
        months = count * (12 if unit == "year" else 1)
        index = moment.month - 1 + months
        year, month = moment.year + index // 12, index % 12 + 1
        if year > 9999:
            raise ScheduleError("the interval runs past the year 9999")
        day = min(moment.day, calendar.monthrange(year, month)[1])
        return moment.replace(year=year, month=month, day=day)
    raise ScheduleError(f"an interval's unit must be one of {', '.join(INTERVAL_UNITS)}, not {str(unit)[:32]!r}")
