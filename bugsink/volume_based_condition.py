"""VolumeBasedCondition: "at least `volume` events in the last `nr_of_periods` `period`s" (calendar buckets, see
bugsink.period_counter), used to unmute an issue when it gets loud again."""

from dataclasses import dataclass
from datetime import datetime

from bugsink.period_counter import MAX_PERIODS, PERIODS, PeriodCounter


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
        for name in ("nr_of_periods", "volume"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InvalidCondition(f"{name.replace('_', ' ').capitalize()} must be a positive whole number.")
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
                nr_of_periods=_positive_int(data.get("nr_of_periods", 1), "Number of periods"),
                volume=_positive_int(data.get("volume"), "Volume"),
            )
        except TypeError as e:
            raise InvalidCondition(str(e)) from e

    def to_dict(self) -> dict:
        return {"period": self.period, "nr_of_periods": self.nr_of_periods, "volume": self.volume}

    def is_met(self, counter: PeriodCounter, now: datetime) -> bool:
        return counter.count(self.period, self.nr_of_periods, now) >= self.volume

    def describe(self) -> str:
        """E.g. '5 events in the last hour', '10 events in the last 3 days'."""
        events = "event" if self.volume == 1 else "events"
        span = self.period if self.nr_of_periods == 1 else f"{self.nr_of_periods} {self.period}s"
        return f"{self.volume} {events} in the last {span}"


def _positive_int(value, label: str) -> int:
    if isinstance(value, bool):
        raise InvalidCondition(f"{label} must be a positive whole number.")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or value < 1:
        raise InvalidCondition(f"{label} must be a positive whole number.")
    return value
