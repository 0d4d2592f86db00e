"""The mute preview: replaying a volume condition on constructed period counts (known answers and edge cases), its
sentence, and the endpoint the mute dialogs call."""

from datetime import UTC, date, datetime, timedelta

import pytest

from digest.period_counter import PeriodCounter
from digest.volume_based_condition import VolumeBasedCondition
from events.models import Event
from issues.preview import WINDOW_DAYS, Replay, _met_on, bulk_summary, replay, sentence
from projects.models import ProjectMembership
from testing.utils import exception_event

NOW = datetime(2026, 11, 29, 10, 20, tzinfo=UTC)


def counter_with(per_day: dict[int, int], now: datetime = NOW) -> PeriodCounter:
    """A counter that saw `n` events at noon on each of the given days before `now` (0 is today, at `now`)."""
    counter = PeriodCounter()
    for days_ago, n in per_day.items():
        when = now if days_ago == 0 else (now - timedelta(days=days_ago)).replace(hour=12, minute=0)
        counter.inc(when, n)
    return counter


def cond(volume, nr=1, period="day"):
    return VolumeBasedCondition(period=period, nr_of_periods=nr, volume=volume)


def test_no_events_never_fires():
    result = replay(PeriodCounter(), cond(1), NOW)
    assert (result.firings, result.last, result.days_met, result.met_now) == (0, None, 0, False)
    assert sentence(result, cond(1)).startswith("Would not have unmuted in the last 14 days.")


def test_separate_crossings_are_counted_each_with_the_last_day():
    # loud days 10, 9 (one crossing: it stays met), 6 and 2 days ago; quiet in between
    counter = counter_with({10: 5, 9: 7, 8: 1, 6: 5, 2: 6, 1: 1})
    result = replay(counter, cond(5), NOW)
    assert result.firings == 3
    assert result.last == date(2026, 11, 27)
    assert result.days_met == 4
    assert not result.met_now
    text = sentence(result, cond(5))
    assert text.startswith("Would have unmuted 3 times in the last 14 days; last on Nov 27.")
    assert "daily counts" in text


def test_multi_day_window_sums_days_and_holds_while_the_window_covers_them():
    # 3 + 3 events on Nov 22 and 24: "6 in the last 3 days" is met on Nov 24 only (Nov 22 leaves the window next)
    result = replay(counter_with({7: 3, 5: 3}), cond(6, nr=3), NOW)
    assert (result.firings, result.last, result.days_met) == (1, date(2026, 11, 24), 1)
    # on Nov 22 and 23: met on Nov 23 and still on Nov 24, as one crossing
    result = replay(counter_with({7: 3, 6: 3}), cond(6, nr=3), NOW)
    assert (result.firings, result.last, result.days_met) == (1, date(2026, 11, 23), 2)


def test_condition_met_constantly_counts_one_crossing_and_is_refused_now():
    counter = counter_with({d: 10 for d in range(0, 20)})
    result = replay(counter, cond(5), NOW)
    # met before the window started already, so no crossing within it; it holds on every day
    assert (result.firings, result.days_met, result.met_now) == (0, WINDOW_DAYS, True)
    assert "would be refused" in sentence(result, cond(5))

    # started within the window: one crossing, on the first loud day
    counter = counter_with({d: 10 for d in range(1, 6)})
    result = replay(counter, cond(5), NOW)
    assert (result.firings, result.last, result.days_met) == (1, date(2026, 11, 24), 5)


def test_buckets_older_than_the_window_are_ignored():
    counter = counter_with({20: 50, 15: 50})
    result = replay(counter, cond(5), NOW)
    assert (result.firings, result.days_met) == (0, 0)


def test_today_counts_so_far_and_the_edge_of_the_window():
    counter = counter_with({13: 5, 0: 5})  # 13 days ago is the window's first day
    result = replay(counter, cond(5), NOW)
    assert (result.firings, result.last, result.met_now) == (2, NOW.date(), True)


def test_month_condition_counts_only_the_month_so_far_at_each_day():
    # 4 events on Nov 3 and 2 on Nov 20: "5 in the last month" was first met on Nov 20, not on Nov 16
    counter = PeriodCounter()
    counter.inc(datetime(2026, 11, 3, 12, tzinfo=UTC), 4)
    counter.inc(datetime(2026, 11, 20, 12, tzinfo=UTC), 2)
    result = replay(counter, cond(5, period="month"), NOW)
    assert (result.firings, result.last, result.days_met) == (1, date(2026, 11, 20), 10)
    assert result.met_now


def test_refusal_sentence_names_the_real_count_not_the_threshold():
    # six events this hour; "3 in the last hour" is met: the sentence says 6, the issue's count, and 3 only as the
    # threshold
    counter = PeriodCounter()
    counter.inc(NOW - timedelta(minutes=5), 6)
    result = replay(counter, cond(3, period="hour"), NOW)
    assert result.met_now and result.count_now == 6
    text = sentence(result, cond(3, period="hour"))
    assert text.startswith("This issue already has 6 events in the last hour, at least the 3 to unmute at")
    assert "already has 3 events" not in text


def test_month_condition_across_the_month_boundary():
    now = datetime(2026, 12, 5, 10, tzinfo=UTC)
    counter = PeriodCounter()
    counter.inc(datetime(2026, 11, 25, 12, tzinfo=UTC), 5)
    counter.inc(datetime(2026, 12, 2, 12, tzinfo=UTC), 5)
    # the calendar month resets on Dec 1: met Nov 25-30, unmet Dec 1, met again from Dec 2
    result = replay(counter, cond(5, period="month"), now)
    assert (result.firings, result.last) == (2, date(2026, 12, 2))


@pytest.mark.parametrize("period, nr_of_periods", [("day", 1), ("day", 3), ("month", 1), ("month", 2), ("year", 1)])
def test_the_replay_of_today_is_the_counters_own_count(period, nr_of_periods):
    """The replay reads the buckets with the counter's arithmetic: on the last day it agrees with is_met."""
    now = datetime(2026, 1, 2, 15, 0, tzinfo=UTC)
    counter = PeriodCounter()
    for days_back, n in ((0, 2), (1, 1), (3, 2), (40, 4), (400, 8)):
        counter.inc(now - timedelta(days=days_back), n)
    for volume in range(1, 20):
        condition = VolumeBasedCondition(period=period, nr_of_periods=nr_of_periods, volume=volume)
        assert _met_on(counter, condition, now.date().toordinal()) == condition.is_met(counter, now)


def test_hour_condition_is_an_estimate_on_daily_counts_and_says_so():
    counter = counter_with({4: 30, 3: 2})
    result = replay(counter, cond(20, period="hour"), NOW)
    assert (result.firings, result.last, result.estimated) == (1, date(2026, 11, 25), True)
    text = sentence(result, cond(20, period="hour"))
    assert text.startswith("Would have unmuted once in the last 14 days; last on Nov 25.")
    assert "Estimated from daily counts" in text


def test_bulk_summary_gives_total_and_max():
    results = [
        Replay(firings=2, last=date(2026, 11, 20), days_met=2, met_now=False, estimated=False),
        Replay(firings=1, last=date(2026, 11, 25), days_met=1, met_now=False, estimated=False),
        Replay(firings=0, last=None, days_met=0, met_now=False, estimated=False),
        Replay(firings=4, last=date(2026, 11, 26), days_met=5, met_now=True, estimated=False),
    ]
    text = bulk_summary(results)
    assert "2 of 4 selected issues would have unmuted in the last 14 days" in text
    assert "3 times in all, at most 2 for one issue; last on Nov 25" in text
    assert "1 already meets the condition" in text
    assert bulk_summary([results[2]]).startswith("None of the 1 selected issues")
    assert bulk_summary([]) == ""


# --- the endpoint -------------------------------------------------------------------------------------------------


@pytest.fixture
def member(client, django_user_model, project):
    user = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user)
    client.force_login(user)
    return user


def _issue(project, send_event, message="boom"):
    assert send_event(project, exception_event(value=message)).status_code == 200
    return Event.objects.filter(project=project).order_by("-digest_order").first().issue


def test_endpoint_previews_one_and_several_issues(client, member, project, send_event):
    first = _issue(project, send_event, "one")
    second = _issue(project, send_event, "two")
    url = "/issues/mute-preview/"

    response = client.get(url, {"issue": str(first.pk), "volume": "1", "nr_of_periods": "1", "period": "day"})
    assert response.status_code == 200
    data = response.json()
    assert data["condition"] == "1 event in the last day"
    [row] = data["issues"]
    assert row["issue"] == str(first.pk) and row["met_now"] is True and "would be refused" in row["text"]
    # both events went to one issue: its real count, not the threshold of 1
    assert row["text"].startswith("This issue already has 2 events in the last day, at least the 1 to unmute at")

    response = client.get(
        url, {"issue": [str(first.pk), str(second.pk), "not-a-uuid"], "volume": "5", "period": "hour"}
    )
    data = response.json()
    assert [row["issue"] for row in data["issues"]] == [str(first.pk), str(second.pk)]
    assert all(row["firings"] == 0 and not row["met_now"] for row in data["issues"])
    assert data["summary"].startswith("None of the 2 selected issues")


def test_endpoint_refuses_a_bad_condition_and_hides_other_projects(client, member, project, send_event):
    from projects.models import Project

    issue = _issue(project, send_event)
    response = client.get("/issues/mute-preview/", {"issue": str(issue.pk), "volume": "0", "period": "day"})
    assert response.status_code == 400
    assert "Volume must be a positive whole number." in response.json()["error"]
    response = client.get("/issues/mute-preview/", {"issue": str(issue.pk), "volume": "\u00b2", "period": "day"})
    assert response.status_code == 400
    assert "Volume must be a positive whole number." in response.json()["error"]

    ProjectMembership.objects.filter(user=member).delete()
    assert Project.objects.filter(pk=project.pk).exists()
    response = client.get("/issues/mute-preview/", {"issue": str(issue.pk), "volume": "3", "period": "day"})
    assert response.status_code == 200 and response.json()["issues"] == []


def test_endpoint_needs_login(client, project):
    response = client.get("/issues/mute-preview/", {"volume": "3", "period": "day"})
    assert response.status_code == 302
