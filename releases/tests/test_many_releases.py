"""A project with thousands of releases: the order, regressions and "resolved in the next release" behave as with a
few, and digest asks the same number of questions of the database (releases.ordering)."""

import json
import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from digest.batch import digest
from ingest.store import RawEvent, store_raw_event
from issues.models import Issue
from issues.state import IssueStateManager
from releases.models import Release
from releases.ordering import latest_version
from testing.utils import exception_event


def stored(project, event: dict) -> str:
    payload = json.dumps(event).encode()
    return store_raw_event(RawEvent(project.pk, uuid.uuid4().hex, time.time(), "127.0.0.1", payload))


def with_releases(project, count: int, kind: str = "semver"):
    """`count` releases first seen a minute apart: 0.0.0 .. in semver order, the reverse of their arrival order so
    that first-seen order and version order disagree; or builds with no version in their names."""
    start = timezone.now() - timedelta(days=30)
    if kind == "semver":
        versions = [f"0.{n // 100}.{n % 100}" for n in reversed(range(count))]
    else:
        versions = [f"build-{n:05d}" for n in range(count)]
    Release.objects.bulk_create(
        Release(project=project, version=v, date_released=start + timedelta(minutes=n)) for n, v in enumerate(versions)
    )


def test_the_latest_of_thousands_is_the_highest_version(project):
    with_releases(project, 3000)
    assert latest_version(project) == "0.29.99"


def test_regression_among_thousands_of_releases(project):
    with_releases(project, 3000)
    digest(stored(project, exception_event(release="0.20.0")))
    issue = Issue.objects.get()
    IssueStateManager.resolve_in_release(issue, "0.20.0")
    issue.save()
    digest(stored(project, exception_event(release="0.19.99")))  # older code still running
    issue.refresh_from_db()
    assert issue.is_resolved
    digest(stored(project, exception_event(release="0.20.1")))
    issue.refresh_from_db()
    assert not issue.is_resolved
    assert issue.turning_points.filter(kind="regressed").get().metadata["release"] == "0.20.1"


def test_resolved_in_next_release_among_thousands(project):
    with_releases(project, 3000)
    digest(stored(project, exception_event(release="0.29.99")))
    issue = Issue.objects.get()
    IssueStateManager.resolve_by_next(issue)
    issue.save()
    # a new release that is not the newest (a hotfix of an old line) is not "the next release"
    digest(stored(project, exception_event("Other", release="0.5.100")))
    issue.refresh_from_db()
    assert issue.is_resolved_by_next_release
    digest(stored(project, exception_event("Other", release="1.0.0")))
    issue.refresh_from_db()
    assert (issue.is_resolved, issue.is_resolved_by_next_release, issue.fixed_at) == (True, False, ["1.0.0"])
    digest(stored(project, exception_event(release="0.29.99")))
    issue.refresh_from_db()
    assert issue.is_resolved, "the old release still running is no regression"


def test_non_semver_releases_among_thousands_order_by_first_seen(project):
    with_releases(project, 3000, kind="builds")
    digest(stored(project, exception_event(release="build-01000")))
    issue = Issue.objects.get()
    IssueStateManager.resolve_by_latest(issue)
    issue.save()
    assert issue.fixed_at == ["build-02999"]
    digest(stored(project, exception_event(release="build-02998")))
    issue.refresh_from_db()
    assert issue.is_resolved
    digest(stored(project, exception_event(release="zzz-new")))
    issue.refresh_from_db()
    assert not issue.is_resolved


def test_last_release_is_the_newest_seen(project):
    with_releases(project, 300)
    for version in ["0.1.0", "0.2.50", "0.2.7"]:
        digest(stored(project, exception_event(release=version)))
    issue = Issue.objects.get()
    assert (issue.first_release, issue.last_release) == ("0.1.0", "0.2.50")


def regression_queries(project, django_assert_max_num_queries, fixed: str, newer: str) -> int:
    """Queries to digest an event of release `newer` into an issue resolved in `fixed` (a regression)."""
    digest(stored(project, exception_event(release=fixed)))
    issue = Issue.objects.get()
    IssueStateManager.resolve_in_release(issue, fixed)
    issue.save()
    with django_assert_max_num_queries(30) as captured:
        digest(stored(project, exception_event(release=newer)))
    issue.refresh_from_db()
    assert not issue.is_resolved and issue.last_release == newer
    return len(captured.captured_queries)


@pytest.mark.parametrize("kind", ["semver", "builds"])
def test_digest_queries_do_not_depend_on_the_number_of_releases(project, django_assert_max_num_queries, kind):
    start = timezone.now() - timedelta(days=60)
    pairs = [("1.0.0", "1.0.1"), ("2.0.0", "2.0.1")] if kind == "semver" else [("b-1", "b-2"), ("c-1", "c-2")]
    for n, version in enumerate(v for pair in pairs for v in pair):
        Release.objects.create(project=project, version=version, date_released=start + timedelta(minutes=n))
    few = regression_queries(project, django_assert_max_num_queries, *pairs[0])
    Issue.objects.all().delete()
    others = [f"0.{n}.0" if kind == "semver" else f"a-{n}" for n in range(3000)]
    Release.objects.bulk_create(
        Release(project=project, version=v, date_released=start - timedelta(minutes=n)) for n, v in enumerate(others)
    )
    many = regression_queries(project, django_assert_max_num_queries, *pairs[1])
    assert few == many
