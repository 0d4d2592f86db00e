"""Volume-based unmute through the digest (embedded mode): counts, warm start, and eviction of events."""

from digest.period_counter import PeriodCounter
from digest.registry import registry
from events.models import Event
from issues.models import Issue
from issues.state import STATE_FIELDS, IssueStateManager
from projects.models import Project
from testing.utils import exception_event

THREE_PER_HOUR = [{"period": "hour", "nr_of_periods": 1, "volume": 3}]


def mute_from_the_web_side(issue_pk, conditions=THREE_PER_HOUR):
    issue = Issue.objects.get(pk=issue_pk)  # a fresh copy, as a web request would load it
    IssueStateManager.mute(issue, conditions=conditions)
    issue.save(update_fields=STATE_FIELDS)


def test_counts_are_persisted_with_every_event(project, send_event):
    for _ in range(4):
        send_event(project, exception_event())
    issue = Issue.objects.get()
    from django.utils import timezone

    now = timezone.now()
    assert PeriodCounter.from_dict(issue.period_counts).count("hour", 1, now) == 4
    project.refresh_from_db()
    assert project.digested_event_count == 4
    assert PeriodCounter.from_dict(project.period_counts).count("day", 1, now) == 4


def test_unmutes_when_the_volume_condition_is_met(project, send_event):
    send_event(project, exception_event())
    issue = Issue.objects.get()
    mute_from_the_web_side(issue.pk, [{"period": "hour", "nr_of_periods": 1, "volume": 4}])
    send_event(project, exception_event())
    send_event(project, exception_event())
    issue.refresh_from_db()
    assert issue.is_muted, "3 of 4 events: still muted"
    send_event(project, exception_event())
    issue.refresh_from_db()
    assert not issue.is_muted and issue.unmute_on_volume_based_conditions == []
    unmuted = issue.turning_points.get(kind="unmuted")
    assert unmuted.metadata == {"reason": "4 events in the last hour"}
    assert unmuted.triggering_event == issue.events.order_by("-digest_order").first()


def test_counts_survive_a_restart_of_the_digest_process(project, send_event):
    send_event(project, exception_event())
    issue = Issue.objects.get()
    mute_from_the_web_side(issue.pk, [{"period": "hour", "nr_of_periods": 1, "volume": 3}])
    send_event(project, exception_event())
    registry.clear()  # what a restart of the digest worker leaves behind: nothing in memory
    send_event(project, exception_event())
    issue.refresh_from_db()
    assert not issue.is_muted


def test_counts_stay_right_after_the_events_that_fed_them_are_deleted(project, send_event):
    send_event(project, exception_event())
    send_event(project, exception_event())
    issue = Issue.objects.get()
    Event.objects.filter(issue=issue).delete()  # eviction
    registry.clear()
    mute_from_the_web_side(issue.pk, [{"period": "hour", "nr_of_periods": 1, "volume": 3}])
    send_event(project, exception_event())
    issue.refresh_from_db()
    assert not issue.is_muted, "2 evicted + 1 new = 3 in this hour"


def test_a_stale_registry_entry_is_reloaded(project, send_event):
    """Another process digested in between (e.g. a second web process in embedded mode): the cache must not win."""
    send_event(project, exception_event())
    issue = Issue.objects.get()
    counter = PeriodCounter.from_dict(issue.period_counts)
    from django.utils import timezone

    for _ in range(5):
        counter.inc(timezone.now())
    Issue.objects.filter(pk=issue.pk).update(period_counts=counter.to_dict(), event_count=6)
    send_event(project, exception_event())
    issue.refresh_from_db()
    assert PeriodCounter.from_dict(issue.period_counts).count("hour", 1, timezone.now()) == 7


def test_mute_until_a_time_unmutes_at_the_next_event_after_it(project, send_event):
    from datetime import timedelta

    from django.utils import timezone

    send_event(project, exception_event())
    issue = Issue.objects.get()
    IssueStateManager.mute(issue, until=timezone.now() + timedelta(hours=1))
    issue.save(update_fields=STATE_FIELDS)
    send_event(project, exception_event())
    issue.refresh_from_db()
    assert issue.is_muted
    Issue.objects.filter(pk=issue.pk).update(unmute_after=timezone.now() - timedelta(seconds=1))
    send_event(project, exception_event())
    issue.refresh_from_db()
    assert not issue.is_muted
    assert issue.turning_points.get(kind="unmuted").metadata == {"reason": "the mute period ended"}


def test_project_counters_are_per_project(project, send_event):
    other = Project.objects.create(name="Other")
    send_event(project, exception_event())
    send_event(other, exception_event())
    send_event(other, exception_event())
    assert dict(Project.objects.values_list("name", "digested_event_count")) == {"My App": 1, "Other": 2}
