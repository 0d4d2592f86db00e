"""IssueStateManager: the only code that changes an issue's resolution and mute state.

Rules:
- resolved and muted exclude each other; resolving or reopening unmutes implicitly, without an unmute alert and
  without an UNMUTED TurningPoint of its own (the RESOLVED/REOPENED one tells the story);
- every transition writes a TurningPoint (who, when, what, the triggering event, details);
- a transition that makes no sense from the current state raises IllegalStateTransition with a message fit for
  the UI, and changes nothing.

Callers save the issue afterwards with `save(update_fields=STATE_FIELDS)`, so that a web request never
overwrites the counters that digest updates concurrently (digest saves counters and, when it changed them,
state fields). A web request applies a transition to the state as it is at that moment, not as it was when the page
was rendered: it reads the row again with a lock (`select_for_update`) in the transaction that writes it, so that
two requests changing the same issue take turns, and the second sees what the first did (one UNMUTED, not two).
The issue page does this for its one issue; `apply_to_issues` and `apply_locked` for lists of issues (the list's
bulk form, the admin's actions, the API's bulk update).

`reopen` clears `fixed_at` and the "resolved by next release" flag: a reopened issue is by definition not fixed,
and keeping stale "fixed in 1.4" claims around would make the next resolve-and-regress cycle misjudge which
releases are affected. The history of earlier fix claims stays readable in the TurningPoints.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from digest.period_counter import PeriodCounter
from digest.volume_based_condition import InvalidCondition, VolumeBasedCondition
from issues.models import Issue, TurningPoint
from projects.models import Project
from releases.ordering import ReleaseOrder, has_version, latest_version

STATE_FIELDS = [
    "is_resolved",
    "is_resolved_by_next_release",
    "fixed_at",
    "is_muted",
    "unmute_after",
    "unmute_on_volume_based_conditions",
]


class IllegalStateTransition(ValueError):
    """A transition that makes no sense from the issue's current state; the message says why."""


@dataclass(frozen=True)
class EventOutcome:
    """What an arriving event did to its issue (IssueStateManager.on_event): the TurningPoint kind of the transition,
    and the alert it calls for (an alerts.dispatch kind) with that alert's context."""

    transition: str
    alert: str
    alert_context: dict = field(default_factory=dict)


class IssueStateManager:
    @staticmethod
    def _turning_point(
        issue: Issue, kind: str, user=None, event=None, when=None, defer: list | None = None, **metadata
    ) -> TurningPoint:
        """Write a TurningPoint; with `defer` (digest, which saves its events in bulk) append it unsaved instead,
        for the caller to link to its triggering event and save."""
        turning_point = TurningPoint(
            issue=issue,
            kind=kind,
            user=user,
            triggering_event=event,
            timestamp=when or timezone.now(),
            metadata=metadata,
        )
        if defer is not None:
            defer.append(turning_point)
        else:
            turning_point.save(force_insert=True)
        return turning_point

    @classmethod
    def first_seen(cls, issue: Issue, when=None, defer: list | None = None) -> TurningPoint:
        return cls._turning_point(issue, TurningPoint.Kind.FIRST_SEEN, when=when, defer=defer)

    @staticmethod
    def _clear_mute(issue: Issue) -> None:
        issue.is_muted = False
        issue.unmute_after = None
        issue.unmute_on_volume_based_conditions = []

    @staticmethod
    def _unresolve(issue: Issue) -> None:
        issue.is_resolved = False
        issue.is_resolved_by_next_release = False
        issue.fixed_at = []

    # --- resolving ----------------------------------------------------------------------------------------------

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
        latest = latest_version(issue.project)
        if latest is None:
            raise IllegalStateTransition("This project has no releases yet; resolve the issue without one.")
        cls.resolve_in_release(issue, latest, user=user)

    @classmethod
    def resolve_in_release(cls, issue: Issue, version: str, user=None) -> None:
        """Resolved in a release the project has seen (the API's `inRelease`); events of older releases are not
        regressions."""
        if not has_version(issue.project, version):
            raise IllegalStateTransition(f"This project has no release {version!r}.")
        if cls.resolved_in(issue, version):
            raise IllegalStateTransition(f"This issue is already resolved in {version}.")
        cls._clear_mute(issue)
        issue.is_resolved = True
        issue.is_resolved_by_next_release = False
        if version not in issue.fixed_at:
            issue.fixed_at = [*issue.fixed_at, version]
        cls._turning_point(issue, TurningPoint.Kind.RESOLVED, user=user, release=version)

    @staticmethod
    def resolved_in(issue: Issue, version: str) -> bool:
        """Whether the issue is resolved in `version` already: resolving it there again changes nothing."""
        return issue.is_resolved and version in issue.fixed_at

    @classmethod
    def resolve_by_next(cls, issue: Issue, user=None) -> None:
        """Resolved in whatever release comes next; materialized into `fixed_at` when that release is first seen."""
        if issue.is_resolved_by_next_release:
            raise IllegalStateTransition("This issue is already resolved in the next release.")
        cls._clear_mute(issue)
        issue.is_resolved = True
        issue.is_resolved_by_next_release = True
        cls._turning_point(issue, TurningPoint.Kind.RESOLVED, user=user, release="next")

    @classmethod
    def materialize_next_release(cls, issue: Issue, version: str, when=None, defer: list | None = None) -> None:
        issue.is_resolved_by_next_release = False
        if version not in issue.fixed_at:
            issue.fixed_at = [*issue.fixed_at, version]
        cls._turning_point(issue, TurningPoint.Kind.NEXT_MATERIALIZED, when=when, defer=defer, release=version)

    @classmethod
    def reopen(cls, issue: Issue, user=None) -> None:
        if not issue.is_resolved:
            raise IllegalStateTransition("Only a resolved issue can be reopened.")
        cls._clear_mute(issue)
        cls._unresolve(issue)
        cls._turning_point(issue, TurningPoint.Kind.REOPENED, user=user)

    @classmethod
    def regress(cls, issue: Issue, event=None, when=None, release: str = "", defer: list | None = None) -> None:
        """An event arrived for a resolved issue in a release the fix should cover (or without one)."""
        cls._unresolve(issue)
        cls._turning_point(issue, TurningPoint.Kind.REGRESSED, event=event, when=when, defer=defer, release=release)

    @classmethod
    def on_event(
        cls,
        issue: Issue,
        counter: PeriodCounter,
        release: str,
        order: ReleaseOrder,
        when: datetime,
        event_id: str = "",
        defer: list | None = None,
    ) -> EventOutcome | None:
        """What an event arriving for an existing issue (its counter already counting it) does to the issue, applied:
        a regression (is_regression), else an unmute (unmute_reason), else nothing (None).

        A regression beats an unmute: a resolved issue is never muted (the two exclude each other), so an event
        either finds the issue resolved, and may reopen it, or not resolved, and may unmute it. The unmute alert
        therefore never concerns a resolved issue, and resolving or reopening (which unmute implicitly) never
        come through here."""
        if is_regression(issue, release, order):
            cls.regress(issue, when=when, release=release, defer=defer)
            return EventOutcome(TurningPoint.Kind.REGRESSED, "regression", {"event_id": event_id})
        reason = cls.unmute_reason(issue, counter, when)
        if reason:
            cls.unmute(issue, reason=reason, when=when, defer=defer)
            return EventOutcome(TurningPoint.Kind.UNMUTED, "unmute", {"reason": reason})
        return None

    # --- muting -------------------------------------------------------------------------------------------------

    @classmethod
    def mute(
        cls,
        issue: Issue,
        user=None,
        until: datetime | None = None,
        conditions: list | None = None,
        now: datetime | None = None,
    ) -> None:
        """Mute indefinitely, until a moment (`until`), and/or until a volume-based condition is met.

        A condition that the issue's counts already meet is refused: it would unmute on the very next event.
        """
        now = now or timezone.now()
        if issue.is_resolved:
            raise IllegalStateTransition("A resolved issue cannot be muted; reopen it first.")
        if until is not None and until <= now:
            raise IllegalStateTransition("The end of the mute must lie in the future.")
        parsed = parse_conditions(conditions or [])
        if cls.already_muted(issue, until, parsed):
            raise IllegalStateTransition("This issue is already muted that way.")
        counter = PeriodCounter.from_dict(issue.period_counts)
        for condition in parsed:
            if condition.is_met(counter, now):
                count = counter.count(condition.period, condition.nr_of_periods, now)
                raise IllegalStateTransition(
                    f"This issue already has {condition.describe_count(count)}, at least the {condition.volume} "
                    f"to unmute at: muting until that happens would unmute it at the next event. Choose a higher "
                    f"volume or a shorter span."
                )
        issue.is_muted = True
        issue.unmute_after = until
        issue.unmute_on_volume_based_conditions = [c.to_dict() for c in parsed]
        metadata = {}
        if until:
            metadata["until"] = until.isoformat()
        if parsed:
            metadata["conditions"] = [c.to_dict() for c in parsed]
            metadata["description"] = " or ".join(c.describe() for c in parsed)
        cls._turning_point(issue, TurningPoint.Kind.MUTED, user=user, when=now, **metadata)

    @staticmethod
    def already_muted(issue: Issue, until: datetime | None = None, conditions: list | None = None) -> bool:
        """Whether the issue is muted with exactly this end and these conditions: muting it so again changes
        nothing, and writes no second MUTED turning point."""
        wanted = [c.to_dict() for c in parse_conditions(conditions or [])]
        return issue.is_muted and issue.unmute_after == until and issue.unmute_on_volume_based_conditions == wanted

    @classmethod
    def unmute(
        cls, issue: Issue, user=None, event=None, reason: str = "", when=None, defer: list | None = None
    ) -> None:
        if not issue.is_muted:
            raise IllegalStateTransition("This issue is not muted.")
        cls._clear_mute(issue)
        metadata = {"reason": reason} if reason else {}
        cls._turning_point(issue, TurningPoint.Kind.UNMUTED, user=user, event=event, when=when, defer=defer, **metadata)

    @classmethod
    def unmute_reason(cls, issue: Issue, counter: PeriodCounter, now: datetime) -> str | None:
        """Why a muted issue should be unmuted now (its mute period ended, or a volume condition is met), or None."""
        if not issue.is_muted:
            return None
        if issue.unmute_after is not None and now >= issue.unmute_after:
            return "the mute period ended"
        for data in issue.unmute_on_volume_based_conditions:
            condition = VolumeBasedCondition.from_dict(data)
            if condition.is_met(counter, now):
                return condition.describe()
        return None

    # --- comments -----------------------------------------------------------------------------------------------

    @classmethod
    def add_comment(cls, issue: Issue, user, text: str) -> TurningPoint:
        text = text.strip()
        if not text:
            raise IllegalStateTransition("A comment needs some text.")
        turning_point = cls._turning_point(issue, TurningPoint.Kind.COMMENT, user=user)
        turning_point.comment = text
        turning_point.save(update_fields=["comment"])
        return turning_point

    @staticmethod
    def _own_comment(turning_point: TurningPoint, user) -> None:
        if turning_point.kind != TurningPoint.Kind.COMMENT:
            raise IllegalStateTransition("Only comments can be edited or deleted.")
        if turning_point.user_id is None or turning_point.user_id != getattr(user, "pk", None):
            raise IllegalStateTransition("Only the author of a comment can change it.")

    @classmethod
    def edit_comment(cls, turning_point: TurningPoint, user, text: str) -> None:
        cls._own_comment(turning_point, user)
        text = text.strip()
        if not text:
            raise IllegalStateTransition("A comment needs some text; delete it instead.")
        turning_point.comment = text
        turning_point.metadata = {**turning_point.metadata, "edited_at": timezone.now().isoformat()}
        turning_point.save(update_fields=["comment", "metadata"])

    @classmethod
    def delete_comment(cls, turning_point: TurningPoint, user) -> None:
        cls._own_comment(turning_point, user)
        turning_point.delete()


ACTIONS = {
    "resolve": IssueStateManager.resolve,
    "resolve_by_latest": IssueStateManager.resolve_by_latest,
    "resolve_by_next": IssueStateManager.resolve_by_next,
    "reopen": IssueStateManager.reopen,
    "mute": IssueStateManager.mute,
    "unmute": IssueStateManager.unmute,
}


def allowed_actions(issue: Issue, latest_release: str | None = None) -> set[str]:
    """The actions without arguments (ACTIONS names) that make sense in the issue's state: the issue page shows
    their buttons, and the API (api.issue_updates.already_done) takes a status whose action is not among them as
    done already. `resolve_by_latest` is among them when the project's latest release is given. Muting again with
    other arguments, and resolving in a given release, depend on those arguments (already_muted, resolved_in).

    - open: resolve (plainly, in the latest release, in the next release), mute;
    - muted: the same, but unmute instead of mute (resolving unmutes implicitly);
    - resolved: reopen, and resolve in the next release;
    - resolved in the next release: reopen, and resolve now.
    """
    if issue.is_resolved:
        return {"reopen", "resolve" if issue.is_resolved_by_next_release else "resolve_by_next"}
    actions = {"resolve", "resolve_by_next", "unmute" if issue.is_muted else "mute"}
    if latest_release is not None:
        actions.add("resolve_by_latest")
    return actions


# what apply_to_issues takes: the page's actions, and those that need an argument the page's buttons do not send
TRANSITIONS = {**ACTIONS, "resolve_in_release": IssueStateManager.resolve_in_release}


def apply_to_issues(issues, action: str, user=None, **kwargs) -> tuple[int, dict]:
    """The bulk form, for list actions: apply one transition to each issue (a queryset or list), in one
    transaction, to each issue's state as it is then (apply_locked). Returns (number changed, {issue short id:
    reason it was skipped})."""
    if action not in TRANSITIONS:
        raise ValueError(f"unknown action {action!r}")
    return apply_locked(issues, lambda issue: (action, kwargs), user=user)


# rows locked per query: `id IN (...)` stays far below every database's limit on parameters
LOCK_BATCH = 500


def apply_locked(issues, decide, user=None) -> tuple[int, dict]:
    """Apply to each of `issues` (a queryset, or Issue objects read earlier) the transition `decide(issue)` names,
    as (TRANSITIONS name, keyword arguments), or nothing when it returns None (the issue is in that state already).

    In one transaction, the issues are read again, each row locked (`select_for_update`, in id order, so that two
    bulk actions over the same issues wait for each other instead of deadlocking), and `decide` sees each issue's
    state as it is now: a transition another request made meanwhile is not made a second time. The issues are
    handled in the order given. Returns (number changed, {issue short id: reason it was skipped}) like
    apply_to_issues."""
    ids = list(issues.values_list("pk", flat=True)) if isinstance(issues, QuerySet) else [i.pk for i in issues]
    changed, skipped = 0, {}
    with transaction.atomic():
        locked = {}
        ordered = sorted(set(ids))
        for start in range(0, len(ordered), LOCK_BATCH):
            batch = ordered[start : start + LOCK_BATCH]
            locked.update((i.pk, i) for i in Issue.objects.select_for_update().filter(pk__in=batch).order_by("pk"))
        projects = Project.objects.in_bulk({issue.project_id for issue in locked.values()})
        for pk in dict.fromkeys(ids):
            issue = locked.get(pk)
            if issue is None:
                continue  # deleted meanwhile
            issue.project = projects[issue.project_id]
            decision = decide(issue)
            if decision is None:
                continue
            action, kwargs = decision
            try:
                TRANSITIONS[action](issue, user=user, **kwargs)
            except IllegalStateTransition as e:
                skipped[issue.short_id] = str(e)
                continue
            issue.save(update_fields=STATE_FIELDS)
            changed += 1
    return changed, skipped


def parse_conditions(conditions: list) -> list[VolumeBasedCondition]:
    """Validate a list of condition dicts (or VolumeBasedConditions); raises IllegalStateTransition with the
    reason when one is invalid."""
    parsed = []
    for condition in conditions:
        if isinstance(condition, VolumeBasedCondition):
            parsed.append(condition)
            continue
        try:
            parsed.append(VolumeBasedCondition.from_dict(condition))
        except InvalidCondition as e:
            raise IllegalStateTransition(str(e)) from e
    return parsed


def is_regression(issue: Issue, release: str, order: ReleaseOrder) -> bool:
    """Whether a new event (of `release`, "" for none) on this issue means the issue came back.

    - not resolved: no.
    - resolved, waiting for the next release: no (the event comes from the release that is still out there).
    - resolved without any release: yes, any event.
    - resolved in releases (`fixed_at`): yes when the event's release is at or after one of them; an event of an
      older release is the old code still running, not a regression. An event without a release cannot be placed
      and counts as a regression.
    """
    if not issue.is_resolved or issue.is_resolved_by_next_release:
        return False
    if not issue.fixed_at or not release:
        return True
    return any(order.is_at_or_after(release, fixed) for fixed in issue.fixed_at)
