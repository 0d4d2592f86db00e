"""Mute preview: how often a volume condition would have unmuted an issue lately, replayed on its stored counts.

The user picks "unmute at V events in the last N periods" blind unless we show what that condition would have done
to the issue's recent past. The issue keeps no per-event timestamps, only the PeriodCounter's calendar buckets; the
only granularity it keeps for the last two weeks is the day (hours reach back 48 hours, minutes one hour), so the
replay steps through the last WINDOW_DAYS days, day by day, and says so in its sentence.

What a day's replay means:
- day, month and year conditions are exact at day resolution: a calendar window only grows during a day, so the
  condition is met at some moment of a day exactly when it is met at the day's end. The count at the end of day d is
  the condition's buckets minus the events of later days that fell into the same bucket (all of them are within the
  window, so their day buckets are kept).
- hour and minute conditions cannot be replayed on daily counts; they are estimated as "a day with at least V
  events", and the sentence says it is an estimate.

A firing is the condition going from unmet to met: the issue unmutes, the user mutes it again (which is refused
while the condition holds), and only the next crossing counts again. The state just before the window is taken
from the day before it, so a condition that already held then does not count as a firing at the window's start;
buckets older than the window never count as firings of their own.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from digest.period_counter import PeriodCounter, bucket_index
from digest.volume_based_condition import VolumeBasedCondition

WINDOW_DAYS = 14
# at most this many issues are replayed for the list's bulk mute (each is a few dict lookups, but the page asks for
# them in one request)
MAX_BULK_ISSUES = 100


@dataclass(frozen=True)
class Replay:
    firings: int
    last: date | None  # the (UTC) day of the last firing
    days_met: int  # days of the window on which the condition held at the day's end
    met_now: bool  # the counts meet the condition now: the mute would be refused
    estimated: bool  # an hour or minute condition, estimated on daily counts
    count_now: int = 0  # the issue's events in the condition's span now (what it has, not the threshold)


def _day(ordinal: int) -> datetime:
    """The start of (UTC) day `ordinal`: a moment in it, for the counter's bucket arithmetic."""
    return datetime.combine(date.fromordinal(ordinal), time(), UTC)


def _met_on(counter: PeriodCounter, condition: VolumeBasedCondition, ordinal: int) -> bool:
    """Whether the condition held at the end of (UTC) day `ordinal`, judged on the stored buckets: the condition's
    count on that day (PeriodCounter.count), less the events of later days that fell into the same bucket."""
    days = counter.buckets["day"]
    if condition.period in ("hour", "minute"):
        return days.get(ordinal, 0) >= condition.volume
    total = counter.count(condition.period, condition.nr_of_periods, _day(ordinal))
    current = bucket_index(condition.period, _day(ordinal))
    later = sum(n for d, n in days.items() if d > ordinal and bucket_index(condition.period, _day(d)) == current)
    return total - later >= condition.volume


def replay(counter: PeriodCounter, condition: VolumeBasedCondition, now: datetime) -> Replay:
    """How often `condition` would have unmuted the issue over the last WINDOW_DAYS days (today included)."""
    today = now.astimezone(UTC).date().toordinal()
    first = today - WINDOW_DAYS + 1
    before = _met_on(counter, condition, first - 1)
    firings, last, days_met = 0, None, 0
    for ordinal in range(first, today + 1):
        met = _met_on(counter, condition, ordinal)
        if met:
            days_met += 1
            if not before:
                firings += 1
                last = date.fromordinal(ordinal)
        before = met
    return Replay(
        firings=firings,
        last=last,
        days_met=days_met,
        met_now=condition.is_met(counter, now),
        estimated=condition.period in ("hour", "minute"),
        count_now=counter.count(condition.period, condition.nr_of_periods, now),
    )


def _day_label(day: date) -> str:
    return f"{day:%b} {day.day}"


def sentence(result: Replay, condition: VolumeBasedCondition) -> str:
    """The preview in words, e.g. 'Would have unmuted 3 times in the last 14 days; last on Nov 20.' plus how."""
    if result.met_now:
        return (
            f"This issue already has {condition.describe_count(result.count_now)}, at least the {condition.volume} "
            f"to unmute at: the mute would be refused, since it would unmute at the next event."
        )
    if result.firings == 0:
        what = f"Would not have unmuted in the last {WINDOW_DAYS} days."
    else:
        times = "once" if result.firings == 1 else f"{result.firings} times"
        what = f"Would have unmuted {times} in the last {WINDOW_DAYS} days; last on {_day_label(result.last)}."
    if result.estimated:
        how = (
            f"Estimated from daily counts (UTC), the finest kept for {WINDOW_DAYS} days: a day with at least "
            f"{condition.volume} events counts as reaching the {condition.period} condition."
        )
    else:
        how = "Replayed on the issue's daily counts (UTC)."
    return f"{what} {how}"


def preview(period_counts: dict | None, condition: VolumeBasedCondition, now: datetime) -> tuple[Replay, str]:
    """Replay and sentence for an issue's stored `period_counts`."""
    result = replay(PeriodCounter.from_dict(period_counts), condition, now)
    return result, sentence(result, condition)


def bulk_summary(results: list[Replay]) -> str:
    """One line for the list's bulk mute: how many of the selected issues would have unmuted, the total and max."""
    if not results:
        return ""
    refused = sum(1 for r in results if r.met_now)
    firing = [r for r in results if not r.met_now and r.firings]
    parts = []
    if firing:
        total = sum(r.firings for r in firing)
        most = max(r.firings for r in firing)
        last = max(r.last for r in firing)
        parts.append(
            f"{len(firing)} of {len(results)} selected issues would have unmuted in the last {WINDOW_DAYS} days "
            f"({total} times in all, at most {most} for one issue; last on {_day_label(last)})."
        )
    else:
        parts.append(f"None of the {len(results)} selected issues would have unmuted in the last {WINDOW_DAYS} days.")
    if refused:
        verb = "meets" if refused == 1 else "meet"
        parts.append(f"{refused} already {verb} the condition and would be skipped.")
    parts.append("Replayed on daily counts (UTC).")
    return " ".join(parts)
