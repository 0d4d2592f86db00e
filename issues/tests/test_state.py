"""Every IssueStateManager transition, its TurningPoint, and the illegal ones."""

from datetime import UTC, datetime, timedelta

import pytest

from digest.period_counter import PeriodCounter
from issues.models import Issue, TurningPoint
from issues.state import (
    ACTIONS,
    STATE_FIELDS,
    IllegalStateTransition,
    IssueStateManager,
    allowed_actions,
    apply_to_issues,
)
from releases.models import Release
from testing.utils import make_issue

NOW = datetime(2026, 6, 15, 10, 30, tzinfo=UTC)


@pytest.fixture
def issue(project):
    return make_issue(project)


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("ann", "ann@example.com", "pw")


def last_turning_point(issue) -> TurningPoint:
    return issue.turning_points.order_by("-id").first()


def test_resolve(issue, user):
    IssueStateManager.resolve(issue, user=user)
    assert issue.is_resolved and not issue.is_resolved_by_next_release and issue.fixed_at == []
    tp = last_turning_point(issue)
    assert (tp.kind, tp.user) == ("resolved", user)
    with pytest.raises(IllegalStateTransition, match="already resolved"):
        IssueStateManager.resolve(issue)


def test_resolve_by_latest_and_next(project, issue, user):
    Release.objects.create(project=project, version="1.0.0", date_released=NOW)
    Release.objects.create(project=project, version="1.2.0", date_released=NOW - timedelta(days=1))
    IssueStateManager.resolve_by_latest(issue, user=user)
    assert issue.fixed_at == ["1.2.0"]
    assert last_turning_point(issue).metadata == {"release": "1.2.0"}
    with pytest.raises(IllegalStateTransition, match="already resolved in 1.2.0"):
        IssueStateManager.resolve_by_latest(issue)
    IssueStateManager.resolve_by_next(issue, user=user)
    assert issue.is_resolved and issue.is_resolved_by_next_release
    with pytest.raises(IllegalStateTransition, match="next release"):
        IssueStateManager.resolve_by_next(issue)
    IssueStateManager.resolve(issue)  # a plain resolve replaces "in the next release"
    assert not issue.is_resolved_by_next_release


def test_resolve_in_a_given_release(project, issue, user):
    Release.objects.create(project=project, version="1.0.0", date_released=NOW - timedelta(days=2))
    Release.objects.create(project=project, version="1.1.0", date_released=NOW)
    IssueStateManager.mute(issue, now=NOW)
    with pytest.raises(IllegalStateTransition, match="no release '9.9'"):
        IssueStateManager.resolve_in_release(issue, "9.9", user=user)
    assert issue.is_muted and not issue.is_resolved, "a refusal changes nothing"
    IssueStateManager.resolve_in_release(issue, "1.0.0", user=user)
    assert issue.is_resolved and not issue.is_muted and issue.fixed_at == ["1.0.0"]
    tp = last_turning_point(issue)
    assert (tp.kind, tp.user, tp.metadata) == ("resolved", user, {"release": "1.0.0"})
    with pytest.raises(IllegalStateTransition, match="already resolved in 1.0.0"):
        IssueStateManager.resolve_in_release(issue, "1.0.0")
    IssueStateManager.resolve_in_release(issue, "1.1.0")  # also fixed in a later one
    assert issue.fixed_at == ["1.0.0", "1.1.0"]
    issue.save()  # apply_to_issues reads the issues again, as they are stored (with their rows locked)
    changed, skipped = apply_to_issues([issue], "resolve_in_release", version="1.1.0")
    assert changed == 0 and "already resolved in 1.1.0" in skipped[issue.short_id]


def test_reopen(issue, user):
    with pytest.raises(IllegalStateTransition, match="Only a resolved issue"):
        IssueStateManager.reopen(issue)
    IssueStateManager.resolve_by_next(issue)
    IssueStateManager.reopen(issue, user=user)
    assert not issue.is_resolved and not issue.is_resolved_by_next_release and issue.fixed_at == []
    assert last_turning_point(issue).kind == "reopened"


def test_mute_forever_for_a_time_and_until_volume(issue, user):
    IssueStateManager.mute(issue, user=user, now=NOW)
    assert issue.is_muted and issue.unmute_after is None and issue.unmute_on_volume_based_conditions == []
    assert last_turning_point(issue).kind == "muted"

    IssueStateManager.unmute(issue, user=user)
    assert not issue.is_muted
    assert last_turning_point(issue).kind == "unmuted"
    with pytest.raises(IllegalStateTransition, match="not muted"):
        IssueStateManager.unmute(issue)

    IssueStateManager.mute(issue, until=NOW + timedelta(hours=2), now=NOW)
    assert issue.unmute_after == NOW + timedelta(hours=2)
    assert last_turning_point(issue).metadata == {"until": (NOW + timedelta(hours=2)).isoformat()}

    IssueStateManager.mute(issue, conditions=[{"period": "hour", "nr_of_periods": 1, "volume": 3}], now=NOW)
    assert issue.unmute_on_volume_based_conditions == [{"period": "hour", "nr_of_periods": 1, "volume": 3}]
    assert last_turning_point(issue).metadata["description"] == "3 events in the last hour"


def test_mute_refusals(issue):
    with pytest.raises(IllegalStateTransition, match="in the future"):
        IssueStateManager.mute(issue, until=NOW - timedelta(minutes=1), now=NOW)
    with pytest.raises(IllegalStateTransition, match="Unknown period"):
        IssueStateManager.mute(issue, conditions=[{"period": "week", "volume": 3}], now=NOW)
    IssueStateManager.resolve(issue)
    with pytest.raises(IllegalStateTransition, match="resolved issue cannot be muted"):
        IssueStateManager.mute(issue, now=NOW)
    assert not issue.is_muted


def test_a_condition_already_met_is_refused(issue):
    counter = PeriodCounter()
    for _ in range(3):
        counter.inc(NOW - timedelta(minutes=5))
    issue.period_counts = counter.to_dict()
    with pytest.raises(IllegalStateTransition, match="already has 3 events in the last hour, at least the 2 "):
        IssueStateManager.mute(issue, conditions=[{"period": "hour", "nr_of_periods": 1, "volume": 2}], now=NOW)
    with pytest.raises(IllegalStateTransition, match="already has 3 events in the last hour, at least the 3 "):
        IssueStateManager.mute(issue, conditions=[{"period": "hour", "nr_of_periods": 1, "volume": 3}], now=NOW)
    assert not issue.is_muted
    IssueStateManager.mute(issue, conditions=[{"period": "hour", "nr_of_periods": 1, "volume": 4}], now=NOW)
    assert issue.is_muted


def test_resolve_and_reopen_unmute_implicitly(issue):
    IssueStateManager.mute(issue, conditions=[{"period": "day", "volume": 10}], now=NOW)
    IssueStateManager.resolve(issue)
    assert not issue.is_muted and issue.unmute_on_volume_based_conditions == []
    kinds = list(issue.turning_points.values_list("kind", flat=True))
    assert "unmuted" not in kinds, "an implicit unmute writes no UNMUTED turning point"


def test_unmute_reason(issue):
    counter = PeriodCounter()
    assert IssueStateManager.unmute_reason(issue, counter, NOW) is None
    IssueStateManager.mute(issue, until=NOW + timedelta(hours=1), now=NOW)
    assert IssueStateManager.unmute_reason(issue, counter, NOW) is None
    assert IssueStateManager.unmute_reason(issue, counter, NOW + timedelta(hours=1)) == "the mute period ended"
    IssueStateManager.mute(issue, conditions=[{"period": "minute", "nr_of_periods": 5, "volume": 2}], now=NOW)
    counter.inc(NOW)
    assert IssueStateManager.unmute_reason(issue, counter, NOW) is None
    counter.inc(NOW + timedelta(minutes=4))
    assert IssueStateManager.unmute_reason(issue, counter, NOW + timedelta(minutes=4)) == (
        "2 events in the last 5 minutes"
    )


def test_on_event_regression_beats_unmute_and_names_the_alert(project, issue):
    from releases.ordering import ReleaseOrder

    order = ReleaseOrder(project.pk)
    counter = PeriodCounter()
    counter.inc(NOW)
    assert IssueStateManager.on_event(issue, counter, "", order, NOW) is None, "an open issue: nothing happens"

    IssueStateManager.mute(issue, conditions=[{"period": "hour", "nr_of_periods": 1, "volume": 2}], now=NOW)
    counter.inc(NOW)
    deferred: list = []
    outcome = IssueStateManager.on_event(issue, counter, "", order, NOW, event_id="e" * 32, defer=deferred)
    assert (outcome.transition, outcome.alert) == ("unmuted", "unmute")
    assert outcome.alert_context == {"reason": "2 events in the last hour"}
    assert not issue.is_muted and [tp.kind for tp in deferred] == ["unmuted"]

    # resolved (which unmutes): the event regresses it; an unmute, and its alert, never concern a resolved issue
    IssueStateManager.resolve(issue)
    deferred = []
    outcome = IssueStateManager.on_event(issue, counter, "", order, NOW, event_id="e" * 32, defer=deferred)
    assert (outcome.transition, outcome.alert, outcome.alert_context) == (
        "regressed",
        "regression",
        {"event_id": "e" * 32},
    )
    assert not issue.is_resolved and [tp.kind for tp in deferred] == ["regressed"]
    assert IssueStateManager.on_event(issue, counter, "", order, NOW) is None


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"is_muted": True},
        {"is_resolved": True},
        {"is_resolved": True, "fixed_at": ["1.0"]},
        {"is_resolved": True, "is_resolved_by_next_release": True},
    ],
)
def test_allowed_actions_are_the_ones_the_manager_takes(project, fields):
    """Every action allowed_actions offers is a transition the manager makes from that state; every action without
    arguments it leaves out is refused there, or changes nothing the API would not call done."""
    Release.objects.create(project=project, version="1.0", date_released=NOW)
    issue = make_issue(project, **fields)
    allowed = allowed_actions(issue, "1.0")
    assert "resolve_by_latest" not in allowed_actions(issue) and allowed
    for name in ACTIONS:
        candidate = Issue.objects.select_related("project").get(pk=issue.pk)
        if name in allowed:
            ACTIONS[name](candidate)  # raises when the manager refuses
        elif name != "resolve_by_latest":
            with pytest.raises(IllegalStateTransition):
                ACTIONS[name](candidate)


def test_comments_add_edit_delete_by_their_author(issue, user, django_user_model):
    other = django_user_model.objects.create_user("bob")
    comment = IssueStateManager.add_comment(issue, user, "  looking into it  ")
    assert (comment.kind, comment.comment, comment.user) == ("comment", "looking into it", user)
    with pytest.raises(IllegalStateTransition, match="needs some text"):
        IssueStateManager.add_comment(issue, user, "   ")
    with pytest.raises(IllegalStateTransition, match="Only the author"):
        IssueStateManager.edit_comment(comment, other, "mine now")
    IssueStateManager.edit_comment(comment, user, "fixed in #12")
    comment.refresh_from_db()
    assert comment.comment == "fixed in #12" and "edited_at" in comment.metadata
    with pytest.raises(IllegalStateTransition, match="Only the author"):
        IssueStateManager.delete_comment(comment, other)
    with pytest.raises(IllegalStateTransition, match="Only comments"):
        IssueStateManager.delete_comment(issue.turning_points.create(kind="resolved", timestamp=NOW, user=user), user)
    IssueStateManager.delete_comment(comment, user)
    assert not issue.turning_points.filter(kind="comment").exists()


def test_bulk_form_applies_to_each_and_reports_the_skipped(project, user):
    issues = [make_issue(project) for _ in range(3)]
    IssueStateManager.resolve(issues[0])
    issues[0].save(update_fields=STATE_FIELDS)
    changed, skipped = apply_to_issues(Issue.objects.filter(project=project).order_by("number"), "resolve", user=user)
    assert changed == 2
    assert skipped == {issues[0].short_id: "This issue is already resolved."}
    assert Issue.objects.filter(is_resolved=True).count() == 3
    changed, skipped = apply_to_issues(Issue.objects.all(), "mute", user=user)
    assert changed == 0 and len(skipped) == 3
    with pytest.raises(ValueError):
        apply_to_issues(Issue.objects.all(), "explode")


def test_state_saves_do_not_overwrite_counters(issue):
    """The web side saves only state fields; a concurrent digest's counter update survives."""
    stale = Issue.objects.get(pk=issue.pk)
    Issue.objects.filter(pk=issue.pk).update(event_count=42)  # digest, meanwhile
    IssueStateManager.resolve(stale)
    stale.save(update_fields=STATE_FIELDS)
    issue.refresh_from_db()
    assert issue.event_count == 42 and issue.is_resolved
