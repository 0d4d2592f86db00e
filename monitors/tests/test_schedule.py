"""monitors.schedule: when the next check-in is due, for crontabs in a timezone and for intervals."""

from datetime import UTC, datetime

import pytest

from monitors.schedule import ScheduleError, check, next_after, next_expected


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_crontab_in_a_timezone_across_the_spring_forward():
    # 03:00 in Vienna is 01:00 UTC on the day clocks go forward (CEST), 02:00 UTC the day before (CET)
    assert next_after("crontab", "0 3 * * *", "", "Europe/Vienna", at(2025, 3, 29, 0, 0)) == at(2025, 3, 29, 2, 0)
    assert next_after("crontab", "0 3 * * *", "", "Europe/Vienna", at(2025, 3, 30, 0, 0)) == at(2025, 3, 30, 1, 0)


def test_crontab_is_strictly_after_the_moment():
    assert next_after("crontab", "* * * * *", "", "UTC", at(2025, 1, 1, 10, 0, 0)) == at(2025, 1, 1, 10, 1)
    assert next_after("crontab", "* * * * *", "", "UTC", at(2025, 1, 1, 10, 0, 30)) == at(2025, 1, 1, 10, 1)


@pytest.mark.parametrize(
    "nickname, expected",
    [
        ("@hourly", at(2025, 1, 1, 11)),
        ("@daily", at(2025, 1, 2)),
        ("@weekly", at(2025, 1, 5)),
        ("@yearly", at(2026, 1, 1)),
    ],
)
def test_crontab_nicknames(nickname, expected):
    assert next_after("crontab", nickname, "", "UTC", at(2025, 1, 1, 10, 30)) == expected


def test_a_check_in_a_little_early_is_for_its_slot():
    hourly = ("crontab", "0 * * * *", "", "UTC")
    assert next_expected(*hourly, at(2025, 1, 1, 9, 59, 45)) == at(2025, 1, 1, 11)  # the 10:00 run, started early
    assert next_expected(*hourly, at(2025, 1, 1, 9, 50)) == at(2025, 1, 1, 10)  # a run of its own before 10:00


@pytest.mark.parametrize(
    "value, unit, expected",
    [
        ("30", "minute", at(2025, 1, 31, 12, 30)),
        ("2", "hour", at(2025, 1, 31, 14)),
        ("1", "day", at(2025, 2, 1, 12)),
        ("1", "week", at(2025, 2, 7, 12)),
        ("1", "month", at(2025, 2, 28, 12)),  # the 31st of a month without one: its last day
        ("1", "year", at(2026, 1, 31, 12)),
    ],
)
def test_intervals(value, unit, expected):
    assert next_after("interval", value, unit, "UTC", at(2025, 1, 31, 12)) == expected


@pytest.mark.parametrize(
    "schedule, message",
    [
        (("crontab", "61 * * * *", "", "UTC"), "cannot read crontab"),
        (("crontab", "", "", "UTC"), "1 to 128 characters"),
        (("crontab", "* * * * *", "", "Mars/Olympus"), "unknown timezone"),
        (("crontab", "* * * * *", "", "../../etc/passwd"), "unknown timezone"),
        (("interval", "soon", "day", "UTC"), "whole number"),
        (("interval", "0", "day", "UTC"), "between 1 and"),
        (("interval", "1e999", "day", "UTC"), "whole number"),
        (("interval", "1", "fortnight", "UTC"), "unit must be one of"),
        (("interval", "10000", "year", "UTC"), "past the year 9999"),
        (("weekly", "1", "", "UTC"), "unknown schedule type"),
    ],
)
def test_unusable_schedules_say_why(schedule, message):
    with pytest.raises(ScheduleError, match=message):
        check(*schedule)
