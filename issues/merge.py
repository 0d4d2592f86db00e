"""Merging issues into one, splitting a merged-in grouping back out (unmerge), and moving events between issues.

Which issue survives: the one with the most events (ties: the older, lower number), as Sentry picks the group seen
most often. It keeps its title, state and number; the others ("children") give it everything they have:

- their groupings are re-pointed to it, so later events of any merged grouping are digested into it;
- their events move to it (each keeps its own data and its `grouping`, which is what makes unmerge possible);
  they are numbered after the survivor's own (`digest_order`), so event navigation and retention keep working;
- counts add up: `event_count`, first/last seen, first/last release, the period counters (bucket by bucket) and the
  tag counts. A muted survivor whose volume condition the added counts now meet is unmuted, with the usual alert;
- their history moves along, each entry marked with the short id it came from, after a "merged into" entry is
  written on their side; the survivor gets a "merged" entry naming them. Then the children are deleted.

All of it changes rows that digest writes (counters, groupings, events), so it runs as a job of the project's single
writer (`merge_issues_job`, like deletion), never in a web request, and digest cannot interleave with it. The
counters and groupings move first, in one short transaction (from then on new events land in the survivor and the
counts are right); the events, tags and history follow in batches of at most `batch_size` rows, each its own
transaction; the emptied child goes last. A job interrupted half-way is delivered again (acks_late) and finishes.

Unmerge splits one grouping of an issue with several out into a new issue, with the events digested under it; the
counts move with those events (events that retention deleted stay counted where they are). Reprocess
(issues.reprocess) moves single events with `move_events`.
"""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Case, F, IntegerField, Max, Min, Value, When
from django.utils import timezone

from alerts.dispatch import alert_on_commit
from alerts.models import DeliveryAttempt
from bugsink import jobs
from digest.grouping import culprit
from digest.period_counter import PeriodCounter
from events.models import Event, UserFeedback
from issues.models import Grouping, Issue, TurningPoint
from issues.state import STATE_FIELDS, IssueStateManager
from monitors.models import Monitor
from projects.models import Project
from releases.ordering import ReleaseOrder
from tags.models import EventTag, IssueTag

BATCH_SIZE = 1000
# events numbered one by one (moved singly, renumbered) per transaction: each costs about ten times a merged event
# (bench/merge_bench.py), so their batches are smaller to keep each transaction as short
NUMBERED_BATCH_SIZE = 200
MAX_MERGED = 100  # issues one merge takes: each is a series of batches in the project's single writer
COUNTER_FIELDS = ["event_count", "first_seen", "last_seen", "period_counts", "first_release", "last_release"]


class MergeRefused(ValueError):
    """The selection cannot be merged; the message says why, for the user (a 400 in the API)."""


@dataclass
class MergeResult:
    parent: str = ""
    children: list[str] = field(default_factory=list)  # short ids
    events: int = 0


def choose_parent(issues: list[Issue]) -> tuple[Issue, list[Issue]]:
    """The issue that survives (most events; ties: first seen earlier, then the lower number) and the others."""
    ordered = sorted(issues, key=lambda i: (-i.event_count, i.first_seen, i.number))
    return ordered[0], ordered[1:]


def request_merge(issues: list[Issue], user=None) -> tuple[Issue, list[Issue]]:
    """Check that `issues` can be merged and ask for the merge job once the caller's transaction commits. Returns
    (survivor, children). Raises MergeRefused: fewer than two, more than MAX_MERGED, more than one project, or an
    issue being deleted."""
    issues = list({issue.pk: issue for issue in issues}.values())
    if len(issues) < 2:
        raise MergeRefused("Select two or more issues to merge.")
    if len(issues) > MAX_MERGED:
        raise MergeRefused(f"At most {MAX_MERGED} issues can be merged at once.")
    if len({issue.project_id for issue in issues}) > 1:
        raise MergeRefused("Only issues of one project can be merged.")
    if any(issue.is_deleting for issue in issues):
        raise MergeRefused("An issue that is being deleted cannot be merged.")
    parent, children = choose_parent(issues)
    merge_issues_job.after_commit(
        parent.project_id, str(parent.pk), [str(child.pk) for child in children], getattr(user, "pk", None)
    )
    return parent, children


def user_by_id(user_id):
    return get_user_model().objects.filter(pk=user_id).first() if user_id else None


@jobs.job(
    "issues.tasks.merge_issues",
    writer=lambda project_id, parent_id, child_ids, user_id=None: project_id,
    acks_late=True,
)
def merge_issues_job(project_id: int, parent_id: str, child_ids: list[str], user_id=None) -> MergeResult:
    """The merge job: the project's issues among `child_ids` into its issue `parent_id` (gone: nothing happens)."""
    return merge_issues(project_id, parent_id, child_ids, user=user_by_id(user_id))


def merge_issues(project_id: int, parent_id, child_ids: list, user=None, batch_size: int = BATCH_SIZE) -> MergeResult:
    """Merge the children into the parent (see the module docstring). The caller is the project's single writer."""
    result = MergeResult()
    parent = Issue.objects.select_related("project").filter(project_id=project_id, pk=parent_id).first()
    if parent is None:
        return result
    result.parent = parent.short_id
    children = list(
        Issue.objects.select_related("project")
        .filter(project_id=project_id, pk__in=child_ids, is_deleting=False)
        .exclude(pk=parent.pk)
        .order_by("number")
    )
    if not children:
        return result
    IssueStateManager._turning_point(
        parent,
        TurningPoint.Kind.MERGED,
        user=user,
        issues=[{"short_id": c.short_id, "title": c.title(), "events": c.event_count} for c in children],
    )
    for child in children:
        result.events += _merge_one(parent, child, user, batch_size)
        result.children.append(child.short_id)
    return result


def _merge_one(parent: Issue, child: Issue, user, batch_size: int) -> int:
    child_short_id, parent_short_id = child.short_id, parent.short_id
    with transaction.atomic():
        locked = {
            i.pk: i for i in Issue.objects.select_for_update().filter(pk__in=[parent.pk, child.pk]).order_by("pk")
        }
        if len(locked) < 2:
            return 0
        target, source = locked[parent.pk], locked[child.pk]
        target.project = source.project = parent.project
        order = ReleaseOrder(parent.project_id)
        target.event_count += source.event_count
        _take_seen(target, source.first_seen, source.last_seen, source.first_release, source.last_release, order)
        counter = PeriodCounter.from_dict(target.period_counts)
        counter.merge(PeriodCounter.from_dict(source.period_counts))
        target.period_counts = counter.to_dict()
        state_changed = _unmute_if_met(target, counter, f"the events of {child_short_id} were added")
        target.save(update_fields=COUNTER_FIELDS + (STATE_FIELDS if state_changed else []))
        Grouping.objects.filter(issue=source).update(issue=target)
        source.event_count, source.period_counts = 0, {}
        source.save(update_fields=["event_count", "period_counts"])
        IssueStateManager._turning_point(source, TurningPoint.Kind.MERGED_INTO, user=user, into=parent_short_id)

    moved = 0
    offset = _max_order(target)
    while True:
        with transaction.atomic():
            pks = list(
                Event.objects.filter(issue=source).order_by("digest_order").values_list("pk", flat=True)[:batch_size]
            )
            if not pks:
                break
            Event.objects.filter(pk__in=pks).update(issue=target, digest_order=F("digest_order") + offset)
            EventTag.objects.filter(event_id__in=pks).update(issue=target)
        moved += len(pks)
    with transaction.atomic():
        UserFeedback.objects.filter(issue=source).update(issue=target)
        DeliveryAttempt.objects.filter(issue=source).update(issue=target)
        Monitor.objects.filter(issue=source).update(issue=target)
        EventTag.objects.filter(issue=source).update(issue=target)  # any not moved with their events
    _add_issue_tags(source, target, batch_size)
    while True:
        with transaction.atomic():
            points = list(TurningPoint.objects.filter(issue=source).order_by("pk")[:batch_size])
            if not points:
                break
            for point in points:
                point.issue = target
                point.metadata = {**point.metadata, "merged_from": child_short_id}
            TurningPoint.objects.bulk_update(points, ["issue", "metadata"])
    with transaction.atomic():
        Issue.objects.filter(pk=source.pk).delete()
    # numbers stay below event_count unless a run was cut short and ran again (another offset): renumber then
    _renumber_if_needed(target, batch_size)
    return moved


def _take_seen(target: Issue, first_seen, last_seen, first_release: str, last_release: str, order) -> None:
    """Widen the target's first/last seen and first/last release by another issue's (or events')."""
    if first_release and (not target.first_release or first_seen < target.first_seen):
        target.first_release = first_release
    if last_release and (
        not target.last_release
        or last_release != target.last_release
        and order.is_at_or_after(last_release, target.last_release)
    ):
        target.last_release = last_release
    target.first_seen = min(target.first_seen, first_seen)
    target.last_seen = max(target.last_seen, last_seen)


def _unmute_if_met(issue: Issue, counter: PeriodCounter, why: str) -> bool:
    """Counts that grew outside digest (a merge, events moved in) may meet a muted issue's volume condition: it is
    unmuted as digest would have at the next event, with the unmute alert. Returns whether its state changed."""
    reason = IssueStateManager.unmute_reason(issue, counter, timezone.now())
    if not reason:
        return False
    IssueStateManager.unmute(issue, reason=f"{reason} ({why})")
    alert_on_commit("unmute", issue, reason=reason)
    return True


def _max_order(issue: Issue) -> int:
    return Event.objects.filter(issue=issue).aggregate(m=Max("digest_order"))["m"] or 0


def _add_issue_tags(source: Issue, target: Issue, batch_size: int) -> None:
    """The source's tag counts added to the target's, and the source's rows removed, in batches."""
    while True:
        with transaction.atomic():
            rows = list(IssueTag.objects.filter(issue=source).order_by("pk")[:batch_size])
            if not rows:
                return
            _adjust_issue_tags(target, {row.value_id: row.count for row in rows}, +1)
            IssueTag.objects.filter(pk__in=[row.pk for row in rows]).delete()


def _adjust_issue_tags(issue: Issue, counts: dict[int, int], sign: int) -> None:
    """Add (sign +1) or take away (-1) `counts` ({tag value id: n}) to the issue's tag counts; a count that reaches
    zero loses its row."""
    if not counts:
        return
    existing = {row.value_id: row for row in IssueTag.objects.filter(issue=issue, value_id__in=list(counts))}
    for value_id, n in counts.items():
        row = existing.get(value_id)
        if row is None:
            if sign > 0:
                IssueTag.objects.create(issue=issue, value_id=value_id, count=n)
            continue
        if sign < 0 and row.count <= n:
            row.delete()
        else:
            IssueTag.objects.filter(pk=row.pk).update(count=F("count") + sign * n)


# --- moving single events (unmerge, reprocess) ---------------------------------------------------------------------


def move_events(source: Issue, target: Issue, event_pks: list[int], batch_size: int = NUMBERED_BATCH_SIZE) -> int:
    """Move these events of `source` to `target`, with their counts: event_count, period counters, tag counts,
    first/last seen and release of the target. They are numbered after the target's events, in their order; the
    source is renumbered if it has to be (digest numbers its next event event_count + 1). The caller is the
    project's single writer. Returns how many moved."""
    moved = 0
    order = ReleaseOrder(source.project_id)
    for start in range(0, len(event_pks), batch_size):
        with transaction.atomic():
            locked = {
                i.pk: i for i in Issue.objects.select_for_update().filter(pk__in=[source.pk, target.pk]).order_by("pk")
            }
            if len(locked) < 2:
                return moved
            src, dst = locked[source.pk], locked[target.pk]
            src.project = dst.project = source.project
            rows = list(
                Event.objects.filter(issue=src, pk__in=event_pks[start : start + batch_size])
                .order_by("digest_order")
                .values_list("pk", "ingested_at", "release")
            )
            if not rows:
                continue
            _number([pk for pk, _, _ in rows], _max_order(dst), issue=dst)
            tag_counts = _tag_counts([pk for pk, _, _ in rows])
            EventTag.objects.filter(event_id__in=[pk for pk, _, _ in rows]).update(issue=dst)
            _adjust_issue_tags(src, tag_counts, -1)
            _adjust_issue_tags(dst, tag_counts, +1)
            src_counter, dst_counter = (
                PeriodCounter.from_dict(src.period_counts),
                PeriodCounter.from_dict(dst.period_counts),
            )
            for _, ingested_at, release in rows:
                src_counter.inc(ingested_at, -1)
                dst_counter.inc(ingested_at)
                _take_seen(dst, ingested_at, ingested_at, release, release, order)
            src.period_counts, dst.period_counts = src_counter.drop_empty().to_dict(), dst_counter.to_dict()
            src.event_count = max(src.event_count - len(rows), 0)
            dst.event_count += len(rows)
            state_changed = _unmute_if_met(dst, dst_counter, f"events of {src.short_id} were moved here")
            dst.save(update_fields=COUNTER_FIELDS + (STATE_FIELDS if state_changed else []))
            src.save(update_fields=["event_count", "period_counts"])
            moved += len(rows)
    _after_events_left(source, batch_size)
    return moved


def _tag_counts(event_pks: list[int]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for value_id in EventTag.objects.filter(event_id__in=event_pks).values_list("value_id", flat=True):
        counts[value_id] = counts.get(value_id, 0) + 1
    return counts


def _after_events_left(issue: Issue, batch_size: int) -> None:
    """An issue that lost events: its last seen is its newest remaining event's, and its events are renumbered
    when they have to be (_renumber_if_needed)."""
    with transaction.atomic():
        issue = Issue.objects.select_for_update().filter(pk=issue.pk).first()
        if issue is None:
            return
        newest = Event.objects.filter(issue=issue).aggregate(newest=Max("ingested_at"))["newest"]
        if newest is not None and newest < issue.last_seen:
            issue.last_seen = newest
            issue.save(update_fields=["last_seen"])
    _renumber_if_needed(issue, batch_size)


def _renumber_if_needed(issue: Issue, batch_size: int) -> None:
    """Number the issue's events 1, 2, ... in their order when the highest number is above its event count (the
    next digested event would take a number in use). All are first moved above every number in use, then numbered."""
    issue = Issue.objects.filter(pk=issue.pk).only("pk", "event_count").first()
    if issue is None:
        return
    top = _max_order(issue)
    if top <= issue.event_count:
        return
    after = 0
    while True:  # above every number in use, in batches: none of them clashes with one not moved yet
        with transaction.atomic():
            pks = list(
                Event.objects.filter(issue=issue, digest_order__gt=after, digest_order__lte=top)
                .order_by("digest_order")
                .values_list("pk", "digest_order")[:batch_size]
            )
            if not pks:
                break
            Event.objects.filter(pk__in=[pk for pk, _ in pks]).update(digest_order=F("digest_order") + top)
            after = pks[-1][1]
    number = 0
    while True:
        with transaction.atomic():
            pks = list(
                Event.objects.filter(issue=issue, digest_order__gt=top)
                .order_by("digest_order")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not pks:
                return
            _number(pks, number)
            number += len(pks)


# rows one UPDATE numbers: its CASE has one branch per row, which the database tries for each row
NUMBER_CHUNK = 100


def _number(pks: list[int], after: int, issue: Issue | None = None) -> None:
    """Number these events after + 1, after + 2, ... in the order given (moving them to `issue` when given)."""
    for start in range(0, len(pks), NUMBER_CHUNK):
        chunk = pks[start : start + NUMBER_CHUNK]
        numbers = Case(
            *[When(pk=pk, then=Value(after + start + n)) for n, pk in enumerate(chunk, start=1)],
            output_field=IntegerField(),
        )
        changes = {"digest_order": numbers} if issue is None else {"digest_order": numbers, "issue": issue}
        Event.objects.filter(pk__in=chunk).update(**changes)


# --- unmerge -------------------------------------------------------------------------------------------------------


class UnmergeRefused(ValueError):
    """The grouping cannot be split out; the message says why."""


def request_unmerge(issue: Issue, grouping_id: int, user=None) -> Grouping:
    """Check that the grouping is one of the issue's several and ask for the unmerge job after commit."""
    grouping = Grouping.objects.filter(pk=grouping_id, issue=issue).first()
    if grouping is None:
        raise UnmergeRefused("That grouping is not this issue's.")
    if Grouping.objects.filter(issue=issue).count() < 2:
        raise UnmergeRefused("This issue has one grouping only: there is nothing to split off.")
    unmerge_grouping_job.after_commit(issue.project_id, grouping.pk, getattr(user, "pk", None))
    return grouping


@jobs.job(
    "issues.tasks.unmerge_grouping", writer=lambda project_id, grouping_id, user_id=None: project_id, acks_late=True
)
def unmerge_grouping_job(project_id: int, grouping_id: int, user_id=None) -> str:
    """The unmerge job; returns the new issue's short id ("" when there was nothing to split off)."""
    issue = unmerge_grouping(project_id, grouping_id, user=user_by_id(user_id))
    return issue.short_id if issue else ""


def unmerge_grouping(
    project_id: int, grouping_id: int, user=None, batch_size: int = NUMBERED_BATCH_SIZE
) -> Issue | None:
    """Split the grouping out of its issue into a new issue with the grouping's events (see the module docstring).
    Nothing happens when the grouping is gone or is its issue's only one. The caller is the project's single
    writer."""
    with transaction.atomic():
        grouping = (
            Grouping.objects.select_related("issue__project").filter(pk=grouping_id, project_id=project_id).first()
        )
        if grouping is None or Grouping.objects.filter(issue_id=grouping.issue_id).count() < 2:
            return None
        source = grouping.issue
        events = Event.objects.filter(issue=source, grouping=grouping)
        latest = events.order_by("-digest_order").first()
        span = events.aggregate(first=Min("ingested_at"), last=Max("ingested_at"))
        now = timezone.now()
        Project.objects.filter(pk=project_id).update(issue_counter=F("issue_counter") + 1)
        number = Project.objects.values_list("issue_counter", flat=True).get(pk=project_id)
        new = Issue.objects.create(
            project=source.project,
            number=number,
            calculated_type=latest.calculated_type if latest else source.calculated_type,
            calculated_value=latest.calculated_value if latest else source.calculated_value,
            culprit=(culprit(latest.data) if latest else source.culprit)[:255],
            transaction=latest.transaction if latest else source.transaction,
            level=latest.level if latest else source.level,
            platform=latest.platform if latest else source.platform,
            first_seen=span["first"] or now,
            last_seen=span["last"] or now,
            event_count=0,
        )
        new.project = source.project
        grouping.issue = new
        grouping.save(update_fields=["issue"])
        IssueStateManager._turning_point(
            source, TurningPoint.Kind.UNMERGED, user=user, into=new.short_id, grouping=grouping.grouping_key[:200]
        )
        IssueStateManager._turning_point(new, TurningPoint.Kind.UNMERGED, user=user, out_of=source.short_id)
    move_events(source, new, list(events.order_by("digest_order").values_list("pk", flat=True)), batch_size)
    new.refresh_from_db()
    return new
