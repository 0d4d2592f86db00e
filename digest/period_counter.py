"""Event counts per calendar period: minute, hour, day, month and year buckets, all in UTC.

Window semantics: calendar buckets, not rolling windows. "The last 2 hours" at 10:20 means the buckets 09:00-09:59
and 10:00-10:59 (so far): the current, partly elapsed period plus the `nr_of_periods - 1` whole periods before it.
A period rolls over at the calendar boundary (the end of the minute, hour, day, month or year; 29 February is just
a day; there is no DST because everything is UTC). This matches how people read "5 events in the last hour" on a
clock, and it needs no per-event timestamps: a counter is a handful of integers however many events it saw.

Buckets are identified by integers that increase by one per period (minutes since the epoch, days since year 1,
months since year 0, ...), so "the last N periods" is a range of N consecutive integers. Only the newest
MAX_PERIODS[period] buckets of each period are kept.
"""

from datetime import UTC, datetime

PERIODS = ("minute", "hour", "day", "month", "year")

# how many buckets of each period are kept; also the largest nr_of_periods a condition may ask for
MAX_PERIODS = {"minute": 60, "hour": 48, "day": 62, "month": 24, "year": 10}


def bucket_index(period: str, when: datetime) -> int:
    when = when.astimezone(UTC)
    if period == "minute":
        return int(when.timestamp() // 60)
    if period == "hour":
        return int(when.timestamp() // 3600)
    if period == "day":
        return when.toordinal()
    if period == "month":
        return when.year * 12 + when.month - 1
    if period == "year":
        return when.year
    raise ValueError(f"unknown period {period!r}; use one of {', '.join(PERIODS)}")


def window(period: str, nr_of_periods: int, now: datetime) -> range:
    """The buckets of "the last `nr_of_periods` `period`s" at `now`: the current one and the ones before it."""
    current = bucket_index(period, now)
    return range(current - nr_of_periods + 1, current + 1)


class PeriodCounter:
    """Counts of events per bucket, for each period. Persisted as a small JSON dict (see to_dict/from_dict)."""

    __slots__ = ("buckets",)

    def __init__(self, buckets: dict[str, dict[int, int]] | None = None):
        self.buckets = {period: dict((buckets or {}).get(period, {})) for period in PERIODS}

    def inc(self, when: datetime, n: int = 1) -> None:
        for period in PERIODS:
            index = bucket_index(period, when)
            counts = self.buckets[period]
            counts[index] = counts.get(index, 0) + n
            if len(counts) > MAX_PERIODS[period]:
                newest = max(counts)
                for old in [i for i in counts if i <= newest - MAX_PERIODS[period]]:
                    del counts[old]

    def merge(self, other: "PeriodCounter") -> None:
        """Add another counter's counts, bucket by bucket (merged issues); only the newest buckets are kept."""
        for period in PERIODS:
            counts = self.buckets[period]
            for index, n in other.buckets[period].items():
                counts[index] = counts.get(index, 0) + n
            if counts:
                newest = max(counts)
                for old in [i for i in counts if i <= newest - MAX_PERIODS[period]]:
                    del counts[old]

    def drop_empty(self) -> "PeriodCounter":
        """Remove buckets at zero or below (events moved away with inc(when, -1)); returns self."""
        for period in PERIODS:
            self.buckets[period] = {i: n for i, n in self.buckets[period].items() if n > 0}
        return self

    def count(self, period: str, nr_of_periods: int, now: datetime) -> int:
        """Events in the current `period` bucket and the `nr_of_periods - 1` before it."""
        buckets = window(period, nr_of_periods, now)
        return sum(n for index, n in self.buckets[period].items() if index in buckets)

    def to_dict(self) -> dict:
        return {period: {str(i): n for i, n in counts.items()} for period, counts in self.buckets.items() if counts}

    @classmethod
    def from_dict(cls, data: dict | None) -> "PeriodCounter":
        data = data or {}
        return cls({p: {int(i): int(n) for i, n in (data.get(p) or {}).items()} for p in PERIODS})
