"""IssueStateManager: the only code that changes an issue's resolution and mute state.

Resolved and muted exclude each other. Every transition writes a TurningPoint. Callers save the issue (the digest
saves it once with its counters; the UI saves it after the call).

`reopen` clears `fixed_at` and the "resolved by next release" flag: a reopened issue is by definition not fixed,
and keeping stale "fixed in 1.4" claims around would make the next resolve-and-regress cycle misjudge which
releases are affected. The history of earlier fix claims stays readable in the TurningPoints.
"""

from django.utils import timezone

from issues.models import Issue, TurningPoint


class IllegalStateTransition(ValueError):
    """A transition that makes no sense from the issue's current state; the message says why."""


class IssueStateManager:
    @staticmethod
    def _turning_point(issue: Issue, kind: str, user=None, event=None, when=None, **metadata) -> TurningPoint:
        return TurningPoint.objects.create(
            issue=issue,
            kind=kind,
            user=user,
            triggering_event=event,
            timestamp=when or timezone.now(),
            metadata=metadata,
        )

    @staticmethod
    def _clear_mute(issue: Issue) -> None:
        # implicit unmute (resolve/reopen): no TurningPoint of its own, no alert
        issue.is_muted = False
        issue.unmute_after = None
        issue.unmute_on_volume_based_conditions = []

    @classmethod
    def resolve(cls, issue: Issue, user=None) -> None:
        if issue.is_resolved and not issue.is_resolved_by_next_release:
            raise IllegalStateTransition("This issue is already resolved.")
        cls._clear_mute(issue)
        issue.is_resolved = True
        issue.is_resolved_by_next_release = False
        cls._turning_point(issue, TurningPoint.Kind.RESOLVED, user=user)

    @classmethod
    def resolve_by_latest(cls, issue: Issue, user=None) -> None:
        """Resolved in the project's latest release: events of older releases are not regressions."""
        from releases.ordering import latest_version

        latest = latest_version(issue.project)
        if latest is None:
            raise IllegalStateTransition("This project has no releases yet; resolve the issue without one.")
        cls._clear_mute(issue)
        issue.is_resolved = True
        issue.is_resolved_by_next_release = False
        if latest not in issue.fixed_at:
            issue.fixed_at = [*issue.fixed_at, latest]
        cls._turning_point(issue, TurningPoint.Kind.RESOLVED, user=user, release=latest)

    @classmethod
    def resolve_by_next(cls, issue: Issue, user=None) -> None:
        """Resolved in whatever release comes next; materialized into `fixed_at` when that release is first seen."""
        cls._clear_mute(issue)
        issue.is_resolved = True
        issue.is_resolved_by_next_release = True
        cls._turning_point(issue, TurningPoint.Kind.RESOLVED, user=user, release="next")

    @classmethod
    def materialize_next_release(cls, issue: Issue, version: str, when=None) -> None:
        issue.is_resolved_by_next_release = False
        if version not in issue.fixed_at:
            issue.fixed_at = [*issue.fixed_at, version]
        cls._turning_point(issue, TurningPoint.Kind.NEXT_MATERIALIZED, when=when, release=version)

    @classmethod
    def reopen(cls, issue: Issue, user=None) -> None:
        if not issue.is_resolved:
            raise IllegalStateTransition("Only a resolved issue can be reopened.")
        cls._clear_mute(issue)
        cls._unresolve(issue)
        cls._turning_point(issue, TurningPoint.Kind.REOPENED, user=user)

    @classmethod
    def regress(cls, issue: Issue, event=None, when=None, release: str = "") -> None:
        """An event arrived for a resolved issue in a release the fix should cover (or without one)."""
        cls._unresolve(issue)
        cls._turning_point(issue, TurningPoint.Kind.REGRESSED, event=event, when=when, release=release)

    @staticmethod
    def _unresolve(issue: Issue) -> None:
        issue.is_resolved = False
        issue.is_resolved_by_next_release = False
        issue.fixed_at = []

    @classmethod
    def mute(cls, issue: Issue, user=None, unmute_after=None, conditions: list | None = None) -> None:
        if issue.is_resolved:
            raise IllegalStateTransition("A resolved issue cannot be muted; reopen it first.")
        issue.is_muted = True
        issue.unmute_after = unmute_after
        issue.unmute_on_volume_based_conditions = list(conditions or [])
        metadata = {}
        if unmute_after:
            metadata["unmute_after"] = unmute_after.isoformat()
        if conditions:
            metadata["conditions"] = list(conditions)
        cls._turning_point(issue, TurningPoint.Kind.MUTED, user=user, **metadata)

    @classmethod
    def unmute(cls, issue: Issue, user=None, event=None, reason: str = "") -> None:
        if not issue.is_muted:
            raise IllegalStateTransition("This issue is not muted.")
        cls._clear_mute(issue)
        metadata = {"reason": reason} if reason else {}
        cls._turning_point(issue, TurningPoint.Kind.UNMUTED, user=user, event=event, **metadata)


def is_regression(issue: Issue, release: str, ordered_versions: list[str]) -> bool:
    """Whether a new event (of `release`, "" for none) on this issue means the issue came back.

    - not resolved: no.
    - resolved, waiting for the next release: no (the event comes from the release that is still out there).
    - resolved without any release: yes, any event.
    - resolved in releases (`fixed_at`): yes when the event's release is at or after one of them; an event of an
      older release is the old code still running, not a regression. An event without a release cannot be placed
      and counts as a regression.
    """
    from releases.ordering import is_at_or_after

    if not issue.is_resolved or issue.is_resolved_by_next_release:
        return False
    if not issue.fixed_at or not release:
        return True
    return any(is_at_or_after(release, fixed, ordered_versions) for fixed in issue.fixed_at)
