"""VolumeBasedCondition: "at least `volume` events in the last `nr_of_periods` `period`s" (calendar buckets, see
digest.period_counter), used to unmute an issue when it gets loud again."""

from dataclasses import dataclass
from datetime import datetime

from digest.period_counter import MAX_PERIODS, PERIODS, PeriodCounter


class InvalidCondition(ValueError):
    """The message says what is wrong, in words fit for the UI."""


@dataclass(frozen=True)
class VolumeBasedCondition:
    period: str
    nr_of_periods: int
    volume: int

    def __post_init__(self):
        if self.period not in PERIODS:
            raise InvalidCondition(f"Unknown period {self.period!r}: use one of {', '.join(PERIODS)}.")
        for name, label in (("nr_of_periods", "Number of periods"), ("volume", "Volume")):
            object.__setattr__(self, name, positive_whole_number(getattr(self, name), label))
        if self.nr_of_periods > MAX_PERIODS[self.period]:
            raise InvalidCondition(
                f"At most {MAX_PERIODS[self.period]} {self.period}s can be looked back on; use a longer period."
            )

    @classmethod
    def from_dict(cls, data) -> "VolumeBasedCondition":
        if not isinstance(data, dict):
            raise InvalidCondition("A condition needs a period, a number of periods and a volume.")
        try:
            return cls(
                period=str(data.get("period", "")),
                nr_of_periods=positive_whole_number(data.get("nr_of_periods", 1), "Number of periods"),
                volume=positive_whole_number(data.get("volume"), "Volume"),
            )
        except TypeError as e:
            raise InvalidCondition(str(e)) from e

    def to_dict(self) -> dict:
        return {"period": self.period, "nr_of_periods": self.nr_of_periods, "volume": self.volume}

    def is_met(self, counter: PeriodCounter, now: datetime) -> bool:
        return counter.count(self.period, self.nr_of_periods, now) >= self.volume

    def describe(self) -> str:
        """E.g. '5 events in the last hour', '10 events in the last 3 days'."""
        return self.describe_count(self.volume)

    def describe_count(self, count: int) -> str:
        """`count` events over this condition's span, e.g. '6 events in the last hour': what an issue actually has,
        as opposed to the condition's threshold (describe)."""
        events = "event" if count == 1 else "events"
        span = self.period if self.nr_of_periods == 1 else f"{self.nr_of_periods} {self.period}s"
        return f"{count} {events} in the last {span}"


def positive_whole_number(value, label: str, maximum: int | None = None) -> int:
    """The one reading of "a positive whole number" (a condition's numbers, the API's minutes and counts): an int,
    or a string of ASCII digits with spaces around (a form's field), from 1 up to `maximum` when one is given; not a
    bool, a float or other digits. Otherwise InvalidCondition, whose message names `label`."""
    if isinstance(value, str):
        text = value.strip()
        # a few thousand digits at most: Python refuses to read longer numbers (and none of them is in range)
        if text.isascii() and text.isdigit() and len(text) <= MAX_DIGITS:
            value = int(text)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1 or (maximum is not None and value > maximum):
        if maximum is not None:
            raise InvalidCondition(f"{label} must be a whole number from 1 to {maximum}.")
        raise InvalidCondition(f"{label} must be a positive whole number.")
    return value


MAX_DIGITS = 4000
