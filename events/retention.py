"""Retention: how many events a project keeps, and for how long; eviction deletes the rest.

Limits
------
A project keeps at most `max_events` events, and none accepted more than `max_age_days` ago (by `ingested_at`,
this server's clock, not the SDK's `timestamp`). Per project: `Project.retention_max_events` and
`Project.retention_max_age_days`; null there means the `RETENTION_MAX_EVENTS` / `RETENTION_MAX_AGE_DAYS`
setting, and 0 (in either place) means no limit of that kind.

What is never evicted ("protected")
-----------------------------------
- events a TurningPoint points to (`triggering_event`: the first event, a regression, an unmute): the history
  tab's evidence;
- each issue's first event (digest_order 1) and its newest stored event, so **no issue loses its last event**.

The limits are therefore targets. When the protected events alone exceed `max_events` (e.g. more issues than
`max_events`), eviction keeps exactly the protected ones and stops there: the last event of every issue wins over
the limit. Likewise an issue whose every event is older than `max_age_days` keeps its first and last.

Which events go when a project has too many: spread over the issues
--------------------------------------------------------------------
Eviction looks for the largest K such that each issue keeping its newest min(stored, K) events (but never fewer
than its protected ones) fits in `max_events`; the few places still free up to the limit go to the biggest of the
issues that would grow at K + 1. Issues with at most K events keep them all; bigger ones are thinned to K, oldest
first. So a noisy issue pays for its noise and quiet issues keep their history, and the project ends at exactly
`max_events` (or its protected events, if there are more of those). With one issue of 900 events and nine of 10
and a limit of 500: K = 410, the big issue keeps its first event and its newest 409, the small ones keep all.

Expired events (older than `max_age_days`) go first, oldest first, then the count is looked at.

What is not changed
-------------------
`Issue.event_count`, `first_seen`, `last_seen` and the period counters count every event ever seen, not the stored
ones, so eviction leaves them alone (the issue list says "seen 12,000 times" even when 500 are kept); the same
holds for `IssueTag.count` ("events seen with this value"). An evicted event's EventTags go with it (cascade).

Cost and bounds
---------------
Deletion is batched: at most RETENTION_BATCH_SIZE events per transaction (ids selected first, then deleted by id:
MariaDB cannot DELETE with a LIMIT subquery on the same table; portable ORM only), and at most `max_batches`
transactions per call, so neither digest nor the periodic task holds the write lock long; the next call goes on.
Selecting the over-limit events counts the project's events per issue once per call (one GROUP BY over the
(issue, digest_order) index plus one query for the turning points), then one indexed query per issue thinned.
Expired events are found through the (project, ingested_at) index, in keyset order.

Whether a project is over `max_events` is decided without counting: `digested_event_count - evicted_event_count`
(both on Project) estimates the stored events. Eviction adds what it deletes to `evicted_event_count` and, when it
has counted, resets it from the count (this also absorbs events deleted with their issue). Protected events beyond
the limit are left out of the estimate, so a project that cannot get under its limit is not recounted every batch.

Where it runs
-------------
- after digest (`digest.batch`, once a batch has committed, in the project's single writer): when the estimate
  is over `max_events` by more than 1/SLACK_DIVISOR of it, at most RETENTION_BATCHES_AFTER_DIGEST batches. No
  query when under: the fields are on the Project digest has loaded anyway;
- periodically (the job `events.tasks.evict_expired` of the beat schedule, every RETENTION_INTERVAL_SECONDS;
  without a broker bugsink.jobs runs it on its background thread): each project with limits gets an
  `events.tasks.evict_project` job as its single writer (its digest queue, or the writer lock), so eviction never
  races digest or itself; it evicts expired events and, when the estimate is over the limit (a lowered limit, a
  project no longer sending), events over the limit; RETENTION_BATCHES_PER_RUN batches at most per project;
- on demand: `python manage.py evict [--project ID] [--dry-run]` (no batch limit; counts even when the estimate
  says there is no need). It runs in its own process: alongside a digest that evicts the same project at the same
  moment, the two may thin the project a little below its limit (never a protected event).
"""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Max, Min, Q, QuerySet
from django.utils import timezone

from bugsink import jobs
from events.models import Event
from issues.models import Issue, TurningPoint
from projects.models import Project

logger = logging.getLogger(__name__)

# After digest, a project may be over max_events by max_events // SLACK_DIVISOR (5%) before eviction counts:
# counting a project's events is the expensive part, and this spreads it over that many events.
SLACK_DIVISOR = 20

PROJECT_FIELDS = ["digested_event_count", "evicted_event_count", "retention_max_events", "retention_max_age_days"]


@dataclass
class Eviction:
    """What one call deleted (with dry_run: would delete)."""

    project_id: int
    expired: int = 0  # older than max age
    over_limit: int = 0  # over max events
    batches: int = 0
    stored: int | None = None  # the stored events, when this call counted them (before its over-limit deletions)
    finished: bool = True  # False: max_batches ran out first; the next call goes on

    @property
    def deleted(self) -> int:
        return self.expired + self.over_limit


def max_events_of(project: Project) -> int:
    """The project's max stored events; 0 means no limit."""
    value = project.retention_max_events
    return settings.RETENTION_MAX_EVENTS if value is None else value


def max_age_days_of(project: Project) -> int:
    """The project's max event age in days; 0 means no limit."""
    value = project.retention_max_age_days
    return settings.RETENTION_MAX_AGE_DAYS if value is None else value


def stored_estimate(project: Project, digested: int | None = None) -> int:
    """The project's stored events as far as eviction knows, without counting (see the module docstring)."""
    digested = project.digested_event_count if digested is None else digested
    return max(digested - project.evicted_event_count, 0)


def evict_after_digest(project: Project, digested: int) -> None:
    """The digest hook, run after a batch of `project` committed; `digested` is its digested_event_count now.
    Never raises: digest has done its job, eviction catches up on the next call."""
    try:
        max_events = max_events_of(project)
        if max_events and stored_estimate(project, digested) > max_events + max_events // SLACK_DIVISOR:
            evict_project(project, max_batches=settings.RETENTION_BATCHES_AFTER_DIGEST)
    except Exception:
        logger.exception("eviction of the events of project %s failed", project.pk)


@jobs.job("events.tasks.evict_expired")
def evict_expired_projects(max_batches: int | None = None) -> int:
    """The periodic job: an eviction job for each project with limits, on the project's
    own digest queue, so that its single writer does it (eviction never races digest or itself). `max_batches`
    bounds each project's share (default RETENTION_BATCHES_PER_RUN). Returns how many were scheduled."""
    scheduled = 0
    for project in Project.objects.only(*PROJECT_FIELDS).order_by("pk"):
        if max_age_days_of(project) or max_events_of(project):
            evict_project_job.later(project.pk, max_batches)
            scheduled += 1
    return scheduled


@jobs.job("events.tasks.evict_project", writer=lambda project_id, max_batches=None: project_id)
def evict_project_job(project_id: int, max_batches: int | None = None) -> int:
    """The single-writer job for one project; returns how many events were deleted."""
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        return 0
    return evict_project(project, max_batches=max_batches or settings.RETENTION_BATCHES_PER_RUN).deleted


def evict_project(
    project: Project, *, max_batches: int | None = None, dry_run: bool = False, count: bool = False
) -> Eviction:
    """Delete the project's events over its limits: the expired ones, then (when the stored-events estimate is over
    max_events, or with `count`) the ones over max_events. At most `max_batches` transactions of
    RETENTION_BATCH_SIZE events (None: until done). With `dry_run` nothing is deleted; the result says how many
    events would be."""
    project = Project.objects.only(*PROJECT_FIELDS).get(pk=project.pk)
    result = Eviction(project.pk)
    batches_left = [max_batches]
    max_age_days = max_age_days_of(project)
    cutoff = timezone.now() - timedelta(days=max_age_days) if max_age_days else None
    if cutoff is not None:
        if dry_run:
            result.expired = _expired_events(project.pk, cutoff).count()
        else:
            _evict_expired(project.pk, cutoff, result, batches_left)
    max_events = max_events_of(project)
    if max_events and result.finished and (count or dry_run or stored_estimate(project) > max_events):
        _evict_over_limit(project, max_events, cutoff, result, batches_left, dry_run)
    return result


# --- expired ----------------------------------------------------------------------------------------------------


def _turning_point_events(project_id: int) -> QuerySet:
    return TurningPoint.objects.filter(issue__project_id=project_id, triggering_event__isnull=False).values(
        "triggering_event_id"
    )


def _expired_events(project_id: int, cutoff: datetime) -> QuerySet:
    """The project's unprotected events accepted before `cutoff`. An issue's newest event is the one whose
    digest_order is its event_count (digest numbers them so); _evict_expired checks that again before deleting."""
    return (
        Event.objects.filter(project_id=project_id, ingested_at__lt=cutoff, digest_order__gt=1)
        .exclude(digest_order=F("issue__event_count"))
        .exclude(pk__in=_turning_point_events(project_id))
    )


def _evict_expired(project_id: int, cutoff: datetime, result: Eviction, batches_left: list) -> None:
    batch_size = settings.RETENTION_BATCH_SIZE
    after = None  # keyset cursor (ingested_at, pk): what a batch kept is not looked at again
    while _batch_allowed(batches_left, result):
        with transaction.atomic():
            candidates = _expired_events(project_id, cutoff).order_by("ingested_at", "pk")
            if after is not None:
                candidates = candidates.filter(Q(ingested_at__gt=after[0]) | Q(ingested_at=after[0], pk__gt=after[1]))
            rows = list(candidates.values_list("pk", "issue_id", "digest_order", "ingested_at")[:batch_size])
            if not rows:
                return
            after = (rows[-1][3], rows[-1][0])
            newest = _newest_orders({issue_id for _, issue_id, _, _ in rows})
            result.expired += _delete(
                project_id, [pk for pk, issue_id, order, _ in rows if order != newest.get(issue_id)]
            )
        _batch_done(batches_left, result)
        if len(rows) < batch_size:
            return


def _newest_orders(issue_ids: set) -> dict:
    """issue id -> digest_order of its newest stored event."""
    return dict(
        Event.objects.filter(issue_id__in=issue_ids)
        .values("issue_id")
        .annotate(newest=Max("digest_order"))
        .order_by()
        .values_list("issue_id", "newest")
    )


# --- over max events --------------------------------------------------------------------------------------------


@dataclass
class _Thinning:
    """One issue to thin: delete its `todo` oldest unprotected events (digest_order < `newest`, not `protected`)."""

    issue_id: object
    todo: int
    newest: int
    protected: frozenset


def keep_counts(stored: list[int], protected: list[int], max_events: int) -> list[int]:
    """How many events each issue keeps (issue i has stored[i] events, protected[i] of them protected) so that
    the project keeps `max_events`: the largest K with sum(max(protected, min(stored, K))) <= max_events, then one
    more for the biggest issues that grow at K + 1 until the sum is exactly max_events. Never below `protected`."""
    if sum(stored) <= max_events:
        return list(stored)
    if sum(protected) >= max_events:
        return list(protected)
    pairs = list(zip(stored, protected, strict=True))

    def kept(k: int) -> int:
        return sum(max(p, min(n, k)) for n, p in pairs)

    low, high = 0, max(stored)  # kept(low) <= max_events < kept(high)
    while high - low > 1:
        middle = (low + high) // 2
        if kept(middle) <= max_events:
            low = middle
        else:
            high = middle
    keep = [max(p, min(n, low)) for n, p in pairs]
    growing = sorted((i for i, (n, p) in enumerate(pairs) if n > low and p <= low), key=lambda i: -stored[i])
    for i in growing[: max_events - sum(keep)]:
        keep[i] += 1
    return keep


def _plan(project_id: int, max_events: int, cutoff: datetime | None, dry_run: bool) -> tuple[int, list[_Thinning]]:
    """Count the project's stored events per issue and decide how many each issue loses. Returns the stored count
    and the issues to thin, most to delete first. A dry run leaves out what the expired pass would delete."""
    per_issue = {
        issue_id: [stored, first, newest]
        for issue_id, stored, first, newest in Event.objects.filter(
            # through the issues: the (issue, digest_order) index then covers the whole query
            issue__in=Issue.objects.filter(project_id=project_id).values("pk")
        )
        .values("issue_id")
        .annotate(stored=Count("pk"), first=Min("digest_order"), newest=Max("digest_order"))
        .order_by()
        .values_list("issue_id", "stored", "first", "newest")
    }
    total = sum(stored for stored, _, _ in per_issue.values())
    if dry_run and cutoff is not None:
        expired = _expired_events(project_id, cutoff).values("issue_id").annotate(n=Count("pk")).order_by()
        for issue_id, n in expired.values_list("issue_id", "n"):
            per_issue[issue_id][0] -= n
    pointed_to = defaultdict(set)
    for issue_id, order in TurningPoint.objects.filter(
        issue__project_id=project_id, triggering_event__isnull=False
    ).values_list("issue_id", "triggering_event__digest_order"):
        pointed_to[issue_id].add(order)

    issue_ids = sorted(per_issue, key=str)
    protected = {}
    for issue_id in issue_ids:
        _, first, newest = per_issue[issue_id]
        protected[issue_id] = pointed_to.get(issue_id, set()) | {newest} | ({1} if first == 1 else set())
    stored = [per_issue[i][0] for i in issue_ids]
    keep = keep_counts(stored, [len(protected[i]) for i in issue_ids], max_events)
    plan = [
        _Thinning(issue_id, n - k, per_issue[issue_id][2], frozenset(protected[issue_id] - {per_issue[issue_id][2]}))
        for issue_id, n, k in zip(issue_ids, stored, keep, strict=True)
        if n > k
    ]
    plan.sort(key=lambda thinning: -thinning.todo)
    return total, plan


def _evict_over_limit(
    project: Project,
    max_events: int,
    cutoff: datetime | None,
    result: Eviction,
    batches_left: list,
    dry_run: bool,
) -> None:
    digested = Project.objects.values_list("digested_event_count", flat=True).get(pk=project.pk)
    stored, plan = _plan(project.pk, max_events, cutoff, dry_run)
    result.stored = stored
    if dry_run:
        result.over_limit = sum(thinning.todo for thinning in plan)
        return
    # from here on the estimate is the count, less what is deleted below
    Project.objects.filter(pk=project.pk).update(evicted_event_count=max(digested - stored, 0))
    batch_size = settings.RETENTION_BATCH_SIZE
    while plan and _batch_allowed(batches_left, result):
        with transaction.atomic():
            ids: list[int] = []
            while plan and len(ids) < batch_size:
                thinning = plan[0]
                take = min(thinning.todo, batch_size - len(ids))
                rows = (
                    Event.objects.filter(issue_id=thinning.issue_id, digest_order__lt=thinning.newest)
                    .order_by("digest_order")
                    .values_list("pk", "digest_order")[: take + len(thinning.protected)]
                )
                chosen = [pk for pk, order in rows if order not in thinning.protected][:take]
                ids += chosen
                thinning.todo -= take
                if thinning.todo <= 0 or len(chosen) < take:
                    plan.pop(0)
            result.over_limit += _delete(project.pk, ids)
        _batch_done(batches_left, result)
    if not plan:
        left = stored - result.over_limit - max_events
        if left > 0:
            # protected events over the limit: out of the estimate, so that the next digest does not count again
            Project.objects.filter(pk=project.pk).update(evicted_event_count=F("evicted_event_count") + left)


# --- both -------------------------------------------------------------------------------------------------------


def _batch_allowed(batches_left: list, result: Eviction) -> bool:
    """Is there room for one more batch in the call's budget (a one-item list shared by both passes)?"""
    if batches_left[0] is not None and batches_left[0] <= 0:
        result.finished = False
        return False
    return True


def _batch_done(batches_left: list, result: Eviction) -> None:
    result.batches += 1
    if batches_left[0] is not None:
        batches_left[0] -= 1


def _delete(project_id: int, ids: list[int]) -> int:
    """Delete events by id (their EventTags cascade); inside the caller's transaction. Returns how many."""
    if not ids:
        return 0
    # only("pk"): the cascade collector would otherwise load the events' JSON just to delete them
    _, per_model = Event.objects.filter(pk__in=ids).only("pk").delete()
    deleted = per_model.get(Event._meta.label, 0)
    if deleted:
        Project.objects.filter(pk=project_id).update(evicted_event_count=F("evicted_event_count") + deleted)
    return deleted
