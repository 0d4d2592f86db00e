"""issues.merge: merging issues keeps every event and count, re-points the groupings, writes history on both sides;
unmerge splits a grouping back out with its events; both keep digest's numbering of events usable."""

import pytest
from django.utils import timezone

from alerts.models import DeliveryAttempt
from digest.period_counter import PeriodCounter
from events.models import Event
from issues import merge
from issues.merge import MergeRefused, choose_parent, merge_issues, request_merge, unmerge_grouping
from issues.models import Grouping, Issue, TurningPoint
from issues.state import STATE_FIELDS, IssueStateManager
from projects.models import Project
from tags.models import EventTag, IssueTag
from testing.utils import exception_event


def send_many(send_event, project, n, exc_type, **extra):
    for _ in range(n):
        assert send_event(project, exception_event(exc_type, "x", **extra)).status_code == 200
    return Issue.objects.get(project=project, calculated_type=exc_type)


def tag_counts(issue):
    return {(t.value.key, t.value.value): t.count for t in IssueTag.objects.filter(issue=issue).select_related("value")}


def assert_orders_fit(issue):
    """Digest numbers an issue's next event event_count + 1: every number in use must be below that."""
    orders = list(Event.objects.filter(issue=issue).values_list("digest_order", flat=True))
    assert len(orders) == len(set(orders))
    assert max(orders) <= issue.event_count


def test_merge_keeps_every_event_count_and_tag_and_later_events_land_in_the_survivor(project, send_event):
    big = send_many(send_event, project, 3, "KeyError", release="1.0", tags={"browser": "firefox"})
    small = send_many(send_event, project, 2, "ValueError", release="2.0", tags={"browser": "chrome"})
    tiny = send_many(send_event, project, 1, "TypeError", release="1.0", tags={"browser": "firefox"})
    DeliveryAttempt.objects.create(
        project=project, issue=small, alert_kind="new_issue", channel_kind="email", target="a@b.c", status="sent"
    )
    IssueStateManager.add_comment(small, None, "seen on checkout")

    result = merge_issues(project.pk, big.pk, [small.pk, tiny.pk], batch_size=1)
    assert (result.parent, result.children, result.events) == (big.short_id, [small.short_id, tiny.short_id], 3)
    assert not Issue.objects.filter(pk__in=[small.pk, tiny.pk]).exists()
    big.refresh_from_db()
    assert big.event_count == 6 and Event.objects.filter(issue=big).count() == 6
    assert big.first_release == "1.0" and big.last_release == "2.0"
    assert PeriodCounter.from_dict(big.period_counts).count("hour", 1, timezone.now()) == 6
    assert tag_counts(big)[("browser", "firefox")] == 4 and tag_counts(big)[("browser", "chrome")] == 2
    assert EventTag.objects.filter(issue=big).count() == EventTag.objects.count()
    assert set(Grouping.objects.values_list("issue_id", flat=True)) == {big.pk}
    assert DeliveryAttempt.objects.get().issue_id == big.pk
    assert_orders_fit(big)
    # every event keeps its own data and the grouping it was digested under
    assert (
        Event.objects.filter(
            issue=big, calculated_type="ValueError", grouping__grouping_key__contains="ValueError"
        ).count()
        == 2
    )

    # history on both sides: the survivor names them; theirs moved along, with their "merged into" entry
    merged = big.turning_points.get(kind=TurningPoint.Kind.MERGED)
    assert [i["short_id"] for i in merged.metadata["issues"]] == [small.short_id, tiny.short_id]
    into = big.turning_points.filter(kind=TurningPoint.Kind.MERGED_INTO)
    assert sorted(p.metadata["merged_from"] for p in into) == sorted([small.short_id, tiny.short_id])
    assert all(p.metadata["into"] == big.short_id for p in into)
    assert big.turning_points.get(kind=TurningPoint.Kind.COMMENT).comment == "seen on checkout"

    # later events of either merged grouping land in the survivor, numbered after everything
    send_event(project, exception_event("ValueError", "x", release="2.0"))
    send_event(project, exception_event("TypeError", "x"))
    big.refresh_from_db()
    assert big.event_count == 8 and Issue.objects.count() == 1
    assert_orders_fit(big)


def test_the_survivor_is_the_one_with_most_events(project):
    now = timezone.now()
    a = Issue(number=1, event_count=3, first_seen=now)
    b = Issue(number=2, event_count=5, first_seen=now)
    c = Issue(number=3, event_count=5, first_seen=now - timezone.timedelta(days=1))
    assert choose_parent([a, b, c]) == (c, [b, a])


def test_merge_refusals(project, send_event):
    one = send_many(send_event, project, 1, "KeyError")
    other_project = Project.objects.create(name="Other", slug="other")
    theirs = send_many(send_event, other_project, 1, "KeyError")
    with pytest.raises(MergeRefused, match="two or more"):
        request_merge([one])
    with pytest.raises(MergeRefused, match="one project"):
        request_merge([one, theirs])
    # a job asked for with the wrong project's issues leaves them alone
    assert merge_issues(project.pk, one.pk, [theirs.pk]).children == []
    assert Issue.objects.filter(pk=theirs.pk).exists()


def test_merged_counts_meet_a_volume_condition_and_unmute(project, send_event):
    muted = send_many(send_event, project, 3, "KeyError")
    other = send_many(send_event, project, 2, "ValueError")
    IssueStateManager.mute(muted, conditions=[{"period": "hour", "nr_of_periods": 1, "volume": 5}])
    muted.save(update_fields=STATE_FIELDS)
    merge_issues(project.pk, muted.pk, [other.pk])
    muted.refresh_from_db()
    assert not muted.is_muted
    unmuted = muted.turning_points.get(kind=TurningPoint.Kind.UNMUTED)
    assert "5 events" in unmuted.metadata["reason"] and other.short_id in unmuted.metadata["reason"]


def test_unmerge_splits_a_grouping_out_with_its_events_and_counts(project, send_event):
    keep = send_many(send_event, project, 3, "KeyError", tags={"browser": "firefox"})
    split = send_many(send_event, project, 2, "ValueError", tags={"browser": "chrome"})
    merge_issues(project.pk, keep.pk, [split.pk])
    send_event(project, exception_event("KeyError", "x", tags={"browser": "firefox"}))  # after the merge
    grouping = Grouping.objects.get(grouping_key__contains="ValueError")

    new = unmerge_grouping(project.pk, grouping.pk, batch_size=1)
    keep.refresh_from_db()
    assert new.title() == "ValueError: x" and new.number == 3
    assert (keep.event_count, new.event_count) == (4, 2)
    assert Event.objects.filter(issue=new, calculated_type="ValueError").count() == 2
    assert Event.objects.filter(issue=keep, calculated_type="KeyError").count() == 4
    assert tag_counts(keep)[("level", "error")] == 4 and tag_counts(new)[("level", "error")] == 2
    assert ("browser", "chrome") not in tag_counts(keep) and tag_counts(new)[("browser", "chrome")] == 2
    now = timezone.now()
    assert PeriodCounter.from_dict(keep.period_counts).count("hour", 1, now) == 4
    assert PeriodCounter.from_dict(new.period_counts).count("hour", 1, now) == 2
    assert_orders_fit(keep)
    assert_orders_fit(new)
    assert keep.turning_points.filter(kind=TurningPoint.Kind.UNMERGED, metadata__into=new.short_id).exists()
    assert new.turning_points.filter(kind=TurningPoint.Kind.UNMERGED, metadata__out_of=keep.short_id).exists()

    # its later events go to the new issue, and both issues number their next events without a clash
    send_event(project, exception_event("ValueError", "x"))
    send_event(project, exception_event("KeyError", "x"))
    keep.refresh_from_db()
    new.refresh_from_db()
    assert (keep.event_count, new.event_count) == (5, 3)
    assert_orders_fit(keep)
    assert_orders_fit(new)
    # an issue with one grouping only has nothing to split off
    assert unmerge_grouping(project.pk, grouping.pk) is None


def test_numbers_above_the_event_count_are_renumbered_in_order(project, send_event):
    """What a merge cut short and run again can leave (the rest of the child's events numbered after another
    offset): the issue's events are numbered 1, 2, ... again, in their order, so digest's next number is free."""
    issue = send_many(send_event, project, 4, "KeyError")
    events = list(Event.objects.filter(issue=issue).order_by("digest_order"))
    Event.objects.filter(pk=events[1].pk).update(digest_order=9)
    Event.objects.filter(pk=events[3].pk).update(digest_order=30)
    merge._renumber_if_needed(issue, batch_size=1)
    assert list(Event.objects.filter(issue=issue).order_by("digest_order").values_list("pk", "digest_order")) == [
        (event.pk, n) for n, event in enumerate([events[0], events[2], events[1], events[3]], start=1)
    ]
    send_event(project, exception_event("KeyError", "x"))
    issue.refresh_from_db()
    assert_orders_fit(issue)
