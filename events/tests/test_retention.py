"""Retention (events.retention): max events spread over issues, max age, protected events, bounded batches, and
where it runs (after digest, the periodic task, the `evict` command)."""

import os
import re
import time
import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events.models import Event
from events.retention import evict_after_digest, evict_expired_projects, evict_project, keep_counts, stored_estimate
from issues.models import Issue, TurningPoint
from projects.models import Project
from tags.models import EventTag, IssueTag
from testing.utils import exception_event, make_issue


def add_events(project, issue, n: int, *, age: timedelta = timedelta(0)) -> list[Event]:
    """`n` events of `issue` straight in the database, continuing its digest_order, accepted `age` ago (one second
    apart, oldest first). A new issue's first event gets its FIRST_SEEN turning point, as digest does."""
    accepted = timezone.now() - age
    start = issue.event_count if Event.objects.filter(issue=issue).exists() else 0
    events = Event.objects.bulk_create(
        Event(
            project=project,
            issue=issue,
            event_id=uuid.uuid4(),
            timestamp=accepted,
            ingested_at=accepted - timedelta(seconds=n - i),
            digested_at=accepted,
            digest_order=start + i + 1,
            data_json="{}",
        )
        for i in range(n)
    )
    if start == 0:
        TurningPoint.objects.create(
            issue=issue, kind=TurningPoint.Kind.FIRST_SEEN, timestamp=accepted, triggering_event=events[0]
        )
    Issue.objects.filter(pk=issue.pk).update(event_count=start + n)
    issue.event_count = start + n
    Project.objects.filter(pk=project.pk).update(digested_event_count=F("digested_event_count") + n)
    return events


def orders(issue) -> list[int]:
    return list(Event.objects.filter(issue=issue).order_by("digest_order").values_list("digest_order", flat=True))


def limit(project, max_events=0, max_age_days=0):
    Project.objects.filter(pk=project.pk).update(retention_max_events=max_events, retention_max_age_days=max_age_days)
    project.refresh_from_db()


# --- the policy, on its own -----------------------------------------------------------------------------------


def test_keep_counts_thins_the_biggest_issues_first():
    assert keep_counts([900] + [10] * 9, [2] * 10, 500) == [410] + [10] * 9
    # the places left after the common K go to the biggest issues, so the sum is exactly the limit
    assert keep_counts([50, 40, 30, 5], [2, 2, 2, 2], 100) == [33, 32, 30, 5]
    assert sum(keep_counts([7, 7, 7, 7, 7], [1] * 5, 23)) == 23
    assert keep_counts([10, 20], [2, 2], 100) == [10, 20]  # under the limit: nothing goes
    # protected events are kept even over the limit (the limit is a target)
    assert keep_counts([4, 4, 4, 4, 4], [2, 2, 2, 2, 2], 3) == [2, 2, 2, 2, 2]
    assert keep_counts([100, 3], [5, 3], 10) == [7, 3]


# --- max events -------------------------------------------------------------------------------------------------


def test_over_max_events_evicts_down_to_exactly_the_limit(project):
    limit(project, max_events=51)
    big, small = make_issue(project, event_count=0), make_issue(project, event_count=0)
    add_events(project, big, 80)
    add_events(project, small, 30)
    result = evict_project(project)
    assert (result.over_limit, result.stored) == (59, 110)
    assert Event.objects.filter(project=project).count() == 51
    # K = 25 for both (50 events); the one place left goes to the bigger issue. Each keeps its first event and
    # its newest ones: the oldest went first.
    assert orders(big) == [1, *range(56, 81)]
    assert orders(small) == [1, *range(7, 31)]
    # event_count counts every event ever seen: eviction leaves it alone
    assert Issue.objects.get(pk=big.pk).event_count == 80
    assert stored_estimate(Project.objects.get(pk=project.pk)) == 51


def test_events_that_turning_points_point_to_are_kept(project):
    limit(project, max_events=10)
    issue = make_issue(project, event_count=0)
    events = add_events(project, issue, 100)
    for index, kind in ((19, TurningPoint.Kind.REGRESSED), (39, TurningPoint.Kind.UNMUTED)):
        TurningPoint.objects.create(issue=issue, kind=kind, timestamp=timezone.now(), triggering_event=events[index])
    evict_project(project)
    assert orders(issue) == [1, 20, 40, *range(94, 101)]
    assert TurningPoint.objects.filter(issue=issue, triggering_event__isnull=True).count() == 0


def test_no_issue_loses_its_last_event_even_below_the_number_of_issues(project, django_assert_max_num_queries):
    """With more issues than max_events the limit cannot be met: every issue keeps its first and last event
    (protected), everything else goes, and the project stays over its limit."""
    limit(project, max_events=3)
    issues = [make_issue(project, event_count=0) for _ in range(5)]
    for issue in issues:
        add_events(project, issue, 4)
    result = evict_project(project)
    assert result.over_limit == 10
    for issue in issues:
        assert orders(issue) == [1, 4]
    # the protected excess is left out of the estimate, so digest does not count all over again after each batch
    project.refresh_from_db()
    assert stored_estimate(project) == 3
    with django_assert_max_num_queries(0):
        evict_after_digest(project, project.digested_event_count)


def test_a_big_noisy_issue_is_thinned_and_small_ones_keep_theirs(project):
    limit(project, max_events=500)
    big = make_issue(project, event_count=0)
    add_events(project, big, 900)
    small = [make_issue(project, event_count=0) for _ in range(9)]
    for issue in small:
        add_events(project, issue, 10)
    result = evict_project(project)
    assert result.over_limit == 490
    assert Event.objects.filter(project=project).count() == 500
    assert orders(big) == [1, *range(492, 901)]  # its first and its newest 409: the oldest went first
    for issue in small:
        assert orders(issue) == list(range(1, 11))


def test_under_the_limit_nothing_is_deleted(project):
    limit(project, max_events=100)
    add_events(project, make_issue(project, event_count=0), 60)
    result = evict_project(project, count=True)
    assert (result.deleted, result.stored) == (0, 60)
    assert Event.objects.count() == 60


# --- max age ----------------------------------------------------------------------------------------------------


def test_events_older_than_the_max_age_are_evicted_but_not_the_protected_ones(project):
    limit(project, max_age_days=90)
    mixed = make_issue(project, event_count=0)
    old = add_events(project, mixed, 20, age=timedelta(days=100))
    add_events(project, mixed, 5)
    TurningPoint.objects.create(
        issue=mixed, kind=TurningPoint.Kind.REGRESSED, timestamp=timezone.now(), triggering_event=old[9]
    )
    dead = make_issue(project, event_count=0)
    add_events(project, dead, 6, age=timedelta(days=200))
    fresh = make_issue(project, event_count=0)
    add_events(project, fresh, 3)

    result = evict_project(project)
    assert result.expired == 18 + 4
    assert orders(mixed) == [1, 10, 21, 22, 23, 24, 25]  # first, the regression, and everything recent
    assert orders(dead) == [1, 6]  # an issue whose every event is old keeps its first and its last
    assert orders(fresh) == [1, 2, 3]
    assert evict_project(project).expired == 0


def test_expired_events_go_before_the_count_is_looked_at(project):
    limit(project, max_events=10, max_age_days=30)
    issue = make_issue(project, event_count=0)
    add_events(project, issue, 10, age=timedelta(days=40))
    add_events(project, issue, 8)
    result = evict_project(project, count=True)
    assert (result.expired, result.over_limit) == (9, 0)  # the first of the old ones stays
    assert orders(issue) == [1, *range(11, 19)]


# --- bounded batches --------------------------------------------------------------------------------------------


def test_eviction_deletes_in_bounded_batches(project, settings, django_assert_max_num_queries):
    settings.RETENTION_BATCH_SIZE = 10
    limit(project, max_events=20)
    issue = make_issue(project, event_count=0)
    add_events(project, issue, 100)
    # one batch: the project, its count per issue, the turning points, the estimate; then the batch itself (its
    # events, their tags, the turning points' links, the events, the estimate; savepoint and release)
    with django_assert_max_num_queries(15):
        result = evict_project(project, max_batches=1)
    assert (result.over_limit, result.batches, result.finished) == (10, 1, False)

    with CaptureQueriesContext(connection) as queries:
        result = evict_project(project, max_batches=3)
    assert (result.over_limit, result.batches, result.finished) == (30, 3, False)
    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DELETE")]
    event_deletes = [s for s in deletes if re.match(r'DELETE FROM [`"]events_event[`"]', s)]
    assert len(event_deletes) == 3
    for statement in deletes:
        assert statement.split(" IN (", 1)[1].count(",") < 10, statement  # never more than a batch at once
    assert not any("data_json" in q["sql"] for q in queries.captured_queries), "event bodies are never loaded"

    result = evict_project(project)
    assert (result.over_limit, result.finished) == (40, True)
    assert orders(issue) == [1, *range(82, 101)]


def test_expired_events_are_deleted_in_bounded_batches(project, settings):
    settings.RETENTION_BATCH_SIZE = 10
    limit(project, max_age_days=1)
    issue = make_issue(project, event_count=0)
    add_events(project, issue, 36, age=timedelta(days=2))
    add_events(project, issue, 1)
    result = evict_project(project, max_batches=2)
    assert (result.expired, result.batches, result.finished) == (20, 2, False)
    result = evict_project(project, max_batches=2)
    assert (result.expired, result.finished) == (15, True)
    assert orders(issue) == [1, 37]


# --- what goes with an event, what stays ------------------------------------------------------------------------


def test_event_tags_go_with_their_events_and_issue_tag_counts_stay(project, send_event):
    for n in range(6):
        send_event(project, exception_event(release="1.0", tags={"n": str(n)}))
    issue = Issue.objects.get()
    issue_tags = IssueTag.objects.filter(issue=issue).values_list("value__key", "value__value", "count")
    issue_tags_before = set(issue_tags)
    tags_per_event = EventTag.objects.count() // 6
    assert tags_per_event > 1 and EventTag.objects.count() == 6 * tags_per_event

    limit(project, max_events=3)
    evict_project(project)
    kept = set(Event.objects.values_list("pk", flat=True))
    assert len(kept) == 3
    assert set(EventTag.objects.values_list("event_id", flat=True)) == kept
    assert EventTag.objects.count() == 3 * tags_per_event
    assert set(issue_tags) == issue_tags_before  # "events seen with this value", like Issue.event_count
    assert Issue.objects.get().event_count == 6


# --- where it runs ----------------------------------------------------------------------------------------------


def test_digest_evicts_after_a_batch_when_the_project_is_over_its_limit(
    project, send_event, django_capture_on_commit_callbacks
):
    limit(project, max_events=3)
    for n in range(6):
        with django_capture_on_commit_callbacks(execute=True):
            assert send_event(project, exception_event(tags={"n": str(n)})).status_code == 200
        assert Event.objects.count() == min(n + 1, 3)
    issue = Issue.objects.get()
    assert orders(issue) == [1, 5, 6]
    assert issue.event_count == 6
    assert EventTag.objects.filter(event__isnull=True).count() == 0


def test_digest_does_not_evict_within_the_slack(project, send_event, django_capture_on_commit_callbacks):
    limit(project, max_events=40)  # slack: 40 // 20 = 2
    add_events(project, make_issue(project, event_count=0), 40)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            send_event(project, exception_event())
    assert Event.objects.count() == 42
    with django_capture_on_commit_callbacks(execute=True):
        send_event(project, exception_event())
    assert Event.objects.count() == 40


def test_the_digest_hook_runs_no_query_under_the_limit(project, django_assert_num_queries):
    limit(project, max_events=100)
    with django_assert_num_queries(0):
        evict_after_digest(project, 104)  # within the 5% slack


def test_the_periodic_job_evicts_expired_events(project, settings):
    limit(project, max_age_days=30)
    issue = make_issue(project, event_count=0)
    add_events(project, issue, 10, age=timedelta(days=31))
    add_events(project, issue, 2)
    other = Project.objects.create(name="Unlimited", slug="unlimited", retention_max_events=0, retention_max_age_days=0)
    add_events(other, make_issue(other, event_count=0), 5, age=timedelta(days=400))

    # as the jobs' background thread runs it: the evictions it asks for run as part of it, under the writer lock
    assert evict_expired_projects.task.apply().get() == 1
    assert orders(issue) == [1, 11, 12]
    assert Event.objects.filter(project=other).count() == 5


def test_the_sweep_removes_orphan_temporaries(project, settings):
    from ingest.sweep import sweep

    directory = settings.INGEST_STORE_DIR / str(project.pk)
    directory.mkdir(parents=True)
    orphan, recent, raw = directory / ".a.event.1.2.tmp", directory / ".b.event.1.3.tmp", directory / "c.event"
    for path in (orphan, recent, raw):
        path.write_bytes(b"{}")
    two_hours_ago = time.time() - 7200
    os.utime(orphan, (two_hours_ago, two_hours_ago))
    os.utime(raw, (two_hours_ago, two_hours_ago))
    assert sweep(grace_seconds=10**9) == 0  # no raw event that old: nothing to digest
    assert not orphan.exists() and recent.exists() and raw.exists()


def test_the_periodic_task_is_on_the_beat_schedule():
    entry = django_settings.CELERY_BEAT_SCHEDULE["evict-expired-events"]
    assert entry["task"] == evict_expired_projects.name == "events.tasks.evict_expired"
    assert entry["schedule"] == django_settings.RETENTION_INTERVAL_SECONDS
    assert django_settings.CELERY_TASK_ROUTES[evict_expired_projects.name] == {"queue": "maintenance"}


def test_the_evict_command(project):
    limit(project, max_events=20, max_age_days=30)
    issue = make_issue(project, event_count=0)
    add_events(project, issue, 10, age=timedelta(days=31))
    add_events(project, issue, 25)

    out = StringIO()
    call_command("evict", "--project", str(project.pk), "--dry-run", stdout=out)
    assert "would delete 9 expired and 6 over the limit" in out.getvalue()
    assert Event.objects.count() == 35

    out = StringIO()
    call_command("evict", stdout=out)
    assert "deleted 9 expired and 6 over the limit" in out.getvalue()
    assert orders(issue) == [1, *range(17, 36)]

    with pytest.raises(CommandError):
        call_command("evict", "--project", "999999")
