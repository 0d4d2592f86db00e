"""PeriodCounter arithmetic: calendar buckets per period, roll-overs at every boundary, nr_of_periods > 1, gte."""

from datetime import UTC, datetime, timedelta

import pytest

from digest.period_counter import MAX_PERIODS, PERIODS, PeriodCounter, bucket_index
from digest.registry import PeriodCounterRegistry
from digest.volume_based_condition import InvalidCondition, VolumeBasedCondition, positive_whole_number


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def counter_with(*moments) -> PeriodCounter:
    counter = PeriodCounter()
    for moment in moments:
        counter.inc(moment)
    return counter


@pytest.mark.parametrize(
    "period, last_moment, first_moment_after",
    [
        ("minute", at(2026, 3, 1, 10, 5, 59, 999999), at(2026, 3, 1, 10, 6)),
        ("hour", at(2026, 3, 1, 10, 59, 59), at(2026, 3, 1, 11, 0)),
        ("day", at(2026, 3, 1, 23, 59, 59), at(2026, 3, 2, 0, 0)),
        ("month", at(2026, 1, 31, 23, 59, 59), at(2026, 2, 1)),
        ("month", at(2026, 12, 31, 23, 59, 59), at(2027, 1, 1)),
        ("year", at(2026, 12, 31, 23, 59, 59), at(2027, 1, 1)),
    ],
)
def test_each_period_rolls_over_at_its_calendar_boundary(period, last_moment, first_moment_after):
    counter = counter_with(last_moment, last_moment)
    assert counter.count(period, 1, last_moment) == 2
    assert counter.count(period, 1, first_moment_after) == 0, "a new bucket starts at the boundary"
    assert counter.count(period, 2, first_moment_after) == 2, "the previous bucket is still in a 2-period window"
    counter.inc(first_moment_after)
    assert counter.count(period, 1, first_moment_after) == 1


def test_leap_day_is_just_a_day():
    counter = counter_with(at(2028, 2, 28, 12), at(2028, 2, 29, 0, 0), at(2028, 2, 29, 23, 59), at(2028, 3, 1))
    assert counter.count("day", 1, at(2028, 2, 29, 18)) == 2
    assert counter.count("day", 2, at(2028, 3, 1, 1)) == 3
    assert counter.count("month", 1, at(2028, 2, 29)) == 3
    assert bucket_index("day", at(2028, 3, 1)) - bucket_index("day", at(2028, 2, 28)) == 2


def test_everything_is_utc():
    from zoneinfo import ZoneInfo

    amsterdam = datetime(2026, 3, 29, 3, 30, tzinfo=ZoneInfo("Europe/Amsterdam"))  # just after the DST jump
    assert bucket_index("hour", amsterdam) == bucket_index("hour", at(2026, 3, 29, 1, 30))


def test_nr_of_periods_spans_consecutive_buckets():
    now = at(2026, 5, 10, 12, 30)
    counter = counter_with(*(now - timedelta(hours=h) for h in range(6)))
    assert counter.count("hour", 1, now) == 1
    assert counter.count("hour", 3, now) == 3
    assert counter.count("hour", 6, now) == 6
    assert counter.count("hour", 48, now) == 6
    assert counter.count("day", 1, now) == 6
    # nothing after "now" is counted (a clock that went backwards)
    assert counter.count("hour", 2, now - timedelta(hours=3)) == 2


def test_old_buckets_are_dropped_beyond_what_any_condition_can_ask():
    start = at(2026, 1, 1)
    counter = counter_with(*(start + timedelta(minutes=m) for m in range(200)))
    assert len(counter.buckets["minute"]) <= MAX_PERIODS["minute"]
    now = start + timedelta(minutes=199)
    assert counter.count("minute", 60, now) == 60
    assert counter.count("day", 1, now) == 200


def test_persisted_form_round_trips():
    counter = counter_with(at(2026, 1, 1, 0, 0), at(2026, 1, 1, 0, 0), at(2027, 6, 1))
    again = PeriodCounter.from_dict(counter.to_dict())
    for period in PERIODS:
        assert again.count(period, 1, at(2026, 1, 1)) == counter.count(period, 1, at(2026, 1, 1))
    assert again.count("year", 2, at(2027, 6, 1)) == 3


def test_condition_gte_semantics():
    now = at(2026, 7, 1, 9, 15)
    three_per_hour = VolumeBasedCondition("hour", 1, 3)
    assert not three_per_hour.is_met(counter_with(now, now), now)
    assert three_per_hour.is_met(counter_with(now, now, now), now), "exactly the volume meets the condition"
    assert three_per_hour.is_met(counter_with(now, now, now, now), now)
    assert three_per_hour.describe() == "3 events in the last hour"
    assert VolumeBasedCondition("day", 3, 1).describe() == "1 event in the last 3 days"


@pytest.mark.parametrize(
    "value, maximum, expected",
    [(" 7 ", None, 7), (7, None, 7), ("12", 12, 12), ("13", 12, None), (0, None, None), ("-1", None, None)]
    + [(True, None, None), (2.0, None, None), ("", None, None), (None, None, None), ("1e3", None, None)],
)
def test_positive_whole_number_is_read_one_way(value, maximum, expected):
    if expected is None:
        limit = f"a whole number from 1 to {maximum}" if maximum else "a positive whole number"
        with pytest.raises(InvalidCondition, match=f"^Count must be {limit}"):
            positive_whole_number(value, "Count", maximum)
    else:
        assert positive_whole_number(value, "Count", maximum) == expected


def test_a_condition_made_directly_is_validated_as_one_read_from_a_dict():
    with pytest.raises(InvalidCondition, match="^Number of periods must be a positive whole number"):
        VolumeBasedCondition(period="hour", nr_of_periods=0, volume=1)
    assert VolumeBasedCondition(period="hour", nr_of_periods=" 2", volume=3) == VolumeBasedCondition("hour", 2, 3)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"period": "fortnight", "nr_of_periods": 1, "volume": 3}, "Unknown period"),
        ({"period": "hour", "nr_of_periods": 0, "volume": 3}, "Number of periods must be a positive"),
        ({"period": "hour", "nr_of_periods": 1, "volume": -1}, "Volume must be a positive"),
        ({"period": "hour", "nr_of_periods": 1, "volume": "many"}, "Volume must be a positive"),
        ({"period": "hour", "nr_of_periods": 1.5, "volume": 2}, "Number of periods must be a positive"),
        ({"period": "hour", "nr_of_periods": True, "volume": 2}, "Number of periods must be a positive"),
        ({"period": "minute", "nr_of_periods": 61, "volume": 2}, "At most 60 minutes"),
        ({"period": "hour", "nr_of_periods": 1}, "Volume must be a positive"),
        ("5 per hour", "needs a period"),
        # digits Python reads but a form's number field never sends, and more digits than Python reads
        ({"period": "hour", "nr_of_periods": 1, "volume": "\u00b2"}, "Volume must be a positive"),
        ({"period": "hour", "nr_of_periods": 1, "volume": "\u0663"}, "Volume must be a positive"),
        ({"period": "hour", "nr_of_periods": 1, "volume": "9" * 5000}, "Volume must be a positive"),
    ],
)
def test_conditions_are_validated_with_clear_messages(data, message):
    with pytest.raises(InvalidCondition, match=message):
        VolumeBasedCondition.from_dict(data)


def test_condition_from_form_strings():
    assert VolumeBasedCondition.from_dict({"period": "day", "nr_of_periods": "2", "volume": "10"}) == (
        VolumeBasedCondition("day", 2, 10)
    )


def test_registry_reloads_when_the_persisted_count_moved_on():
    registry = PeriodCounterRegistry(max_cached=2)
    loads = []

    def load():
        loads.append(1)
        return counter_with(at(2026, 1, 1)).to_dict()

    first = registry.get("issue", 1, 1, load)
    first.inc(at(2026, 1, 1))
    registry.counted("issue", 1, 2)
    assert registry.get("issue", 1, 2, load) is first and len(loads) == 1, "cached while in step with the DB"
    assert registry.get("issue", 1, 5, load) is not first and len(loads) == 2, "reloaded when the DB moved on"
    registry.get("issue", 2, 0, dict)
    registry.get("issue", 3, 0, dict)
    registry.get("issue", 1, 5, load)
    assert len(loads) == 3, "least recently used entries are evicted beyond max_cached"


def test_merge_adds_bucket_by_bucket_and_keeps_only_the_newest_buckets():
    """Merged issues add their counters; an event moved away is counted off (inc with -1) and its empty buckets go."""
    now = datetime(2026, 12, 7, 10, 20, tzinfo=UTC)
    a, b = PeriodCounter(), PeriodCounter()
    a.inc(now)
    a.inc(now - timedelta(hours=3))
    b.inc(now, n=2)
    b.inc(now - timedelta(hours=MAX_PERIODS["hour"] + 5))  # older than any hour bucket `a` keeps after merging
    a.merge(b)
    assert a.count("hour", 1, now) == 3 and a.count("hour", 4, now) == 4
    assert len(a.buckets["hour"]) == 2, "the bucket older than the newest 48 hours was dropped"
    assert a.count("year", 1, now) == 5
    a.inc(now - timedelta(hours=3), -1)
    assert a.drop_empty().count("hour", 4, now) == 3
    assert bucket_index("hour", now - timedelta(hours=3)) not in a.buckets["hour"]
