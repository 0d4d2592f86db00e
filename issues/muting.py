"""Reading a mute request, for the issue page, the list's bulk form and the API, with one error type (InvalidMute);
and the choices the forms offer.

The three name their fields differently (the list's buttons say `mute_1h` or `mute_volume` in `action`, the issue
page's say `mute_for=1h` and send `volume` beside `action=mute`, the API has Sentry's `ignoreDuration`,
`ignoreUntil`, `ignoreCount` and `ignoreWindow`), but each hands what it was sent to `parse_mute`, which reads a
duration, a moment and a volume condition once, with the same refusals, into a MuteRequest for
IssueStateManager.mute. Window semantics are calendar buckets in UTC: see digest.period_counter.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from digest.period_counter import MAX_PERIODS, PERIODS
from digest.volume_based_condition import InvalidCondition, VolumeBasedCondition, positive_whole_number

MUTE_DURATIONS = {
    "1h": ("1 hour", timedelta(hours=1)),
    "8h": ("8 hours", timedelta(hours=8)),
    "24h": ("24 hours", timedelta(hours=24)),
    "7d": ("7 days", timedelta(days=7)),
}


# the largest number of minutes, events or minutes of a window a request may give (ten years of minutes)
MAX_NUMBER = 10 * 366 * 24 * 60
# the periods a window in minutes can be expressed in exactly, largest first
WINDOW_PERIODS = (("day", 1440), ("hour", 60), ("minute", 1))
# how the numbers of a request are named in refusals: the forms' words (the API passes Sentry's field names)
FORM_NAMES = {"minutes": "Minutes", "count": "Number of events", "window": "Window (minutes)", "span": "The window"}
_ABSENT = object()


class InvalidMute(ValueError):
    """The request asks for a mute that cannot be; the message says why, in words for the user."""


@dataclass(frozen=True)
class MuteRequest:
    """A mute as asked for, validated: until a moment, and/or until one of the volume conditions is met; neither
    means until unmuted by hand."""

    until: datetime | None = None
    conditions: tuple[VolumeBasedCondition, ...] = ()

    def arguments(self, now: datetime) -> dict:
        """The keyword arguments of IssueStateManager.mute (and of issues.state.TRANSITIONS["mute"])."""
        return {"until": self.until, "conditions": list(self.conditions), "now": now}


def parse_mute(
    now: datetime,
    *,
    duration: str = "",
    minutes=_ABSENT,
    until: datetime | None = None,
    condition: dict | None = None,
    count=_ABSENT,
    window=_ABSENT,
    names: dict | None = None,
) -> MuteRequest:
    """The one reader of a mute request. The end of the mute: `duration` (a MUTE_DURATIONS key), `minutes` (a
    number of minutes from `now`) or `until` (a moment); the volume condition: `condition` (a dict with period,
    nr_of_periods and volume, as the forms send it) or `count` events within `window` minutes. Raises InvalidMute;
    `names` are the words its refusals use for those numbers (minutes, count, window) and for the window as a
    span of time (span)."""
    names = {**FORM_NAMES, **(names or {})}
    try:
        if duration:
            until = mute_until(duration, now)
        if minutes is not _ABSENT:
            until = now + timedelta(minutes=positive_whole_number(minutes, names["minutes"], MAX_NUMBER))
        conditions = []
        if condition is not None:
            conditions.append(VolumeBasedCondition.from_dict(condition))
        if count is not _ABSENT or window is not _ABSENT:
            count = positive_whole_number(None if count is _ABSENT else count, names["count"], MAX_NUMBER)
            window = positive_whole_number(None if window is _ABSENT else window, names["window"], MAX_NUMBER)
            conditions.append(window_condition(count, window, names["span"]))
    except InvalidCondition as e:
        raise InvalidMute(str(e)) from e
    return MuteRequest(until=until, conditions=tuple(conditions))


def window_condition(count: int, window_minutes: int, name: str = FORM_NAMES["span"]) -> VolumeBasedCondition:
    """`count` events within `window_minutes`, as the volume condition that means exactly that: the window in the
    largest of days, hours and minutes that divides it, within how far back the counters look."""
    for period, minutes in WINDOW_PERIODS:
        if window_minutes % minutes == 0 and window_minutes // minutes <= MAX_PERIODS[period]:
            return VolumeBasedCondition(period=period, nr_of_periods=window_minutes // minutes, volume=count)
    raise InvalidMute(
        f"{name} must be a window the event counters keep: up to "
        f"{MAX_PERIODS['minute']} minutes, a whole number of hours up to {MAX_PERIODS['hour']} hours "
        f"({MAX_PERIODS['hour'] * 60} minutes), or a whole number of days up to {MAX_PERIODS['day']} days "
        f"({MAX_PERIODS['day'] * 1440} minutes)."
    )


def window_minutes(condition: VolumeBasedCondition) -> int:
    """The window of a condition window_condition made, in minutes."""
    return condition.nr_of_periods * dict(WINDOW_PERIODS)[condition.period]


def duration_choices() -> list[tuple[str, str]]:
    """(key, label) for the "mute for" buttons."""
    return [(key, label) for key, (label, _) in MUTE_DURATIONS.items()]


def period_choices() -> list[tuple[str, int]]:
    """(period, how many of them a condition may look back on) for the volume form's select and its help text."""
    return [(period, MAX_PERIODS[period]) for period in PERIODS]


def mute_until(duration: str, now: datetime) -> datetime:
    """When a mute for one of MUTE_DURATIONS (by key) ends."""
    if duration not in MUTE_DURATIONS:
        raise InvalidMute("Choose how long to mute the issue for.")
    return now + MUTE_DURATIONS[duration][1]


def condition_data(form) -> dict:
    """The volume condition a mute form asks for, as a dict for VolumeBasedCondition.from_dict (which validates)."""
    return {
        "period": form.get("period", ""),
        "nr_of_periods": form.get("nr_of_periods", "").strip() or "1",
        "volume": form.get("volume", "").strip(),
    }


def volume_condition(form) -> VolumeBasedCondition:
    """The volume condition a mute form asks for, validated (the mute dialogs' preview reads it alone)."""
    return parse_mute(datetime.min, condition=condition_data(form)).conditions[0]
