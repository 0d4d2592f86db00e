"""Regression detection and "resolved in the next release" through the real digest path."""

import pytest

from issues.models import Issue, TurningPoint
from issues.state import IllegalStateTransition, IssueStateManager
from testing.utils import exception_event


def resolve(issue, how="resolve"):
    getattr(IssueStateManager, how)(issue)
    issue.save()


def kinds(issue):
    return list(issue.turning_points.order_by("timestamp", "id").values_list("kind", flat=True))


def test_first_event_writes_first_seen(project, send_event):
    send_event(project, exception_event())
    issue = Issue.objects.get()
    assert kinds(issue) == [TurningPoint.Kind.FIRST_SEEN]
    assert issue.turning_points.get().triggering_event == issue.events.get()


def test_new_event_on_a_resolved_issue_reopens_it(project, send_event):
    send_event(project, exception_event())
    issue = Issue.objects.get()
    resolve(issue)
    send_event(project, exception_event())
    issue.refresh_from_db()
    assert not issue.is_resolved
    assert kinds(issue) == ["first_seen", "resolved", "regressed"]
    regressed = issue.turning_points.get(kind="regressed")
    assert regressed.triggering_event == issue.events.order_by("-digest_order").first()


def test_resolved_by_next_release_stays_resolved_for_the_old_release(project, send_event):
    send_event(project, exception_event(release="1.0.0"))
    issue = Issue.objects.get()
    resolve(issue, "resolve_by_next")
    send_event(project, exception_event(release="1.0.0"))
    issue.refresh_from_db()
    assert issue.is_resolved and issue.is_resolved_by_next_release
    assert issue.event_count == 2
    assert "regressed" not in kinds(issue)


def test_first_event_of_a_newer_release_materializes_next_release(project, send_event):
    send_event(project, exception_event(release="1.0.0"))
    issue = Issue.objects.get()
    resolve(issue, "resolve_by_next")
    # another issue's event brings release 1.1.0 into the world
    send_event(project, exception_event("OtherError", release="1.1.0"))
    issue.refresh_from_db()
    assert issue.is_resolved and not issue.is_resolved_by_next_release
    assert issue.fixed_at == ["1.1.0"]
    assert kinds(issue)[-1] == "next_materialized"
    # the old release still running is not a regression...
    send_event(project, exception_event(release="1.0.0"))
    issue.refresh_from_db()
    assert issue.is_resolved
    # ...but the error in the release that should have fixed it is
    send_event(project, exception_event(release="1.1.0"))
    issue.refresh_from_db()
    assert not issue.is_resolved
    assert kinds(issue)[-1] == "regressed"


def test_the_next_release_showing_the_error_itself_is_a_regression(project, send_event):
    send_event(project, exception_event(release="1.0.0"))
    issue = Issue.objects.get()
    resolve(issue, "resolve_by_next")
    send_event(project, exception_event(release="1.1.0"))
    issue.refresh_from_db()
    assert not issue.is_resolved
    assert kinds(issue)[-2:] == ["next_materialized", "regressed"]


def test_resolved_in_latest_release_semver_order(project, send_event):
    send_event(project, exception_event(release="2.0.0"))
    send_event(project, exception_event("Other", release="1.9.0"))  # an old deploy, first seen later
    issue = Issue.objects.get(calculated_type="ValueError")
    resolve(issue, "resolve_by_latest")
    assert issue.fixed_at == ["2.0.0"]  # semver latest, not most recently seen
    send_event(project, exception_event(release="1.9.0"))
    issue.refresh_from_db()
    assert issue.is_resolved
    send_event(project, exception_event(release="2.0.1"))
    issue.refresh_from_db()
    assert not issue.is_resolved


def test_non_semver_releases_order_by_first_seen(project, send_event):
    send_event(project, exception_event(release="build-b"))
    send_event(project, exception_event(release="build-a"))
    issue = Issue.objects.get()
    resolve(issue, "resolve_by_latest")
    assert issue.fixed_at == ["build-a"]
    send_event(project, exception_event(release="build-b"))
    issue.refresh_from_db()
    assert issue.is_resolved


def test_first_and_last_release_are_recorded(project, send_event):
    send_event(project, exception_event(release="1.0.0", environment="production"))
    send_event(project, exception_event(release="1.1.0"))
    send_event(project, exception_event(release="1.0.0"))  # the old release still running: not the last one
    issue = Issue.objects.get()
    assert (issue.first_release, issue.last_release) == ("1.0.0", "1.1.0")
    assert sorted(project.releases.values_list("version", flat=True)) == ["1.0.0", "1.1.0"]
    assert issue.events.order_by("digest_order").first().environment == "production"


def test_resolve_by_latest_without_releases_is_refused(project, send_event):
    send_event(project, exception_event())
    with pytest.raises(IllegalStateTransition, match="no releases"):
        IssueStateManager.resolve_by_latest(Issue.objects.get())


def test_reopen_clears_fix_claims(project, send_event):
    send_event(project, exception_event(release="1.0.0"))
    issue = Issue.objects.get()
    resolve(issue, "resolve_by_latest")
    IssueStateManager.reopen(issue)
    assert not issue.is_resolved and issue.fixed_at == []
    with pytest.raises(IllegalStateTransition):
        IssueStateManager.reopen(issue)


def test_mute_and_resolve_exclude_each_other(project, send_event):
    send_event(project, exception_event())
    issue = Issue.objects.get()
    IssueStateManager.mute(issue)
    assert issue.is_muted
    IssueStateManager.resolve(issue)
    assert issue.is_resolved and not issue.is_muted
    with pytest.raises(IllegalStateTransition, match="resolved issue cannot be muted"):
        IssueStateManager.mute(issue)
