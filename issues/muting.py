"""The mute forms of the issue list and the issue page: the choices they offer and reading what they ask for.

The two forms name their fields differently (the list's buttons say `mute_1h` or `mute_volume` in `action`, the
issue page's say `mute_for=1h` and send `volume` beside `action=mute`), but a duration and a volume condition are
read here, once, with the same refusals. Window semantics are calendar buckets in UTC: see bugsink.period_counter.
"""

from datetime import datetime, timedelta

from bugsink.period_counter import MAX_PERIODS, PERIODS
from bugsink.volume_based_condition import InvalidCondition, VolumeBasedCondition

MUTE_DURATIONS = {
    "1h": ("1 hour", timedelta(hours=1)),
    "8h": ("8 hours", timedelta(hours=8)),
    "24h": ("24 hours", timedelta(hours=24)),
    "7d": ("7 days", timedelta(days=7)),
}


class InvalidMute(ValueError):
    """The form asks for a mute that cannot be; the message says why, in words for the user."""


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
    """The volume condition a mute form asks for, validated."""
    try:
        return VolumeBasedCondition.from_dict(condition_data(form))
    except InvalidCondition as e:
        raise InvalidMute(str(e)) from e
