"""The one description of an issue's state (issues.presentation) and the one reading of the mute forms
(issues.muting), which the list and the issue page share."""

from datetime import UTC, datetime, timedelta

import pytest

from digest.volume_based_condition import VolumeBasedCondition
from issues.models import Issue
from issues.muting import (
    InvalidMute,
    MuteRequest,
    duration_choices,
    mute_until,
    parse_mute,
    period_choices,
    volume_condition,
)
from issues.presentation import describe_state, format_moment, state_view

UNTIL = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
HOURLY = {"period": "hour", "nr_of_periods": 1, "volume": 5}


@pytest.mark.parametrize(
    "fields, badge, tooltip",
    [
        ({}, {"state": "open", "label": "Open", "detail": ""}, "Open"),
        ({"is_resolved": True}, {"state": "resolved", "label": "Resolved", "detail": ""}, "Resolved"),
        (
            {"is_resolved": True, "is_resolved_by_next_release": True},
            {"state": "resolved", "label": "Resolved", "detail": "in the next release"},
            "Resolved in the next release",
        ),
        (
            {"is_resolved": True, "fixed_at": ["1.0", "2.0"]},
            {"state": "resolved", "label": "Resolved", "detail": "in 1.0, 2.0"},
            "Resolved in 1.0, 2.0",
        ),
        (
            {"is_muted": True},
            {"state": "muted", "label": "Muted", "detail": "until unmuted", "until": None, "conditions": []},
            "Muted forever",
        ),
        (
            {"is_muted": True, "unmute_on_volume_based_conditions": [HOURLY, {"period": "fortnight"}]},
            {
                "state": "muted",
                "label": "Muted",
                "detail": "",
                "until": None,
                "conditions": ["5 events in the last hour"],
            },
            "Muted until 5 events in the last hour",
        ),
    ],
)
def test_badge_and_tooltip_say_the_same(fields, badge, tooltip):
    issue = Issue(**fields)
    assert state_view(issue) == badge
    assert describe_state(issue) == tooltip


def test_a_mute_until_a_moment_or_a_condition(settings):
    settings.TIME_ZONE = "UTC"
    issue = Issue(is_muted=True, unmute_after=UNTIL, unmute_on_volume_based_conditions=[HOURLY])
    assert state_view(issue)["until"] == UNTIL
    assert "2026" in format_moment(UNTIL)
    assert describe_state(issue) == f"Muted until {format_moment(UNTIL)} or until 5 events in the last hour"


def test_mute_durations_and_periods():
    assert [key for key, _ in duration_choices()] == ["1h", "8h", "24h", "7d"]
    assert period_choices() == [("minute", 60), ("hour", 48), ("day", 62), ("month", 24), ("year", 10)]
    assert mute_until("8h", UNTIL) == UNTIL + timedelta(hours=8)
    with pytest.raises(InvalidMute, match="Choose how long"):
        mute_until("3y", UNTIL)


@pytest.mark.parametrize(
    "form, error",
    [
        ({"volume": "", "period": "hour"}, "Volume must be a positive whole number."),
        ({"volume": "5", "nr_of_periods": "1", "period": "week"}, "Unknown period 'week'"),
        ({"volume": "5", "nr_of_periods": "61", "period": "minute"}, "At most 60 minutes"),
    ],
)
def test_volume_condition_refusals(form, error):
    with pytest.raises(InvalidMute, match=error):
        volume_condition(form)


@pytest.mark.parametrize(
    "asked, error",
    [
        ({"duration": "3y"}, "Choose how long"),  # the forms' durations
        ({"minutes": 0}, "Minutes must be a whole number from 1"),  # the API's ignoreDuration
        ({"condition": {"volume": "0", "period": "hour"}}, "Volume must be a positive whole number."),  # the forms
        ({"count": 0, "window": 60}, "Number of events must be a whole number from 1"),  # the API's
        ({"count": 3}, "Window \\(minutes\\) must be a whole number from 1"),
        ({"count": 3, "window": 61}, "The window must be a window the event counters keep"),
        ({"count": 3, "window": 61, "names": {"span": "ignoreWindow"}}, "^ignoreWindow must be a window"),
    ],
)
def test_parse_mute_refuses_every_request_with_one_error_type(asked, error):
    with pytest.raises(InvalidMute, match=error):
        parse_mute(UNTIL, **asked)


def test_parse_mute_reads_every_way_of_asking():
    hour = VolumeBasedCondition(period="hour", nr_of_periods=1, volume=3)
    assert parse_mute(UNTIL) == MuteRequest()
    assert parse_mute(UNTIL, duration="1h").until == UNTIL + timedelta(hours=1)
    assert parse_mute(UNTIL, minutes="90").until == UNTIL + timedelta(minutes=90)
    assert parse_mute(UNTIL, condition={"volume": "3", "period": "hour"}).conditions == (hour,)
    assert parse_mute(UNTIL, count=3, window=60).conditions == (hour,)
    assert parse_mute(UNTIL, count=3, window=2880).conditions == (VolumeBasedCondition("day", 2, 3),)
    request = parse_mute(UNTIL, until=UNTIL + timedelta(days=1), count=3, window=60)
    assert request.arguments(UNTIL) == {"until": UNTIL + timedelta(days=1), "conditions": [hour], "now": UNTIL}


def test_volume_condition_reads_the_form():
    form = {"volume": " 10 ", "nr_of_periods": "", "period": "day"}
    assert volume_condition(form) == VolumeBasedCondition(period="day", nr_of_periods=1, volume=10)
