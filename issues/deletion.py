"""Deleting issues with everything that hangs off them, in bounded batches.

An issue can have millions of events. One `DELETE ... WHERE issue_id IN (...)` over all of them would hold the
write lock for as long as that takes (on SQLite: every digest waits), and Django's cascade collector would load
every row into memory first. So the rows that point at an issue go first, in batches of at most `batch_size` rows,
each batch in its own short transaction, children before parents:

    turning points -> event tags -> events -> issue tags -> groupings -> delivery attempts -> the issues themselves

Events are fetched by primary key only (never their JSON). When the issue rows are finally deleted, Django's
cascade catches whatever digest added in the meantime (an event that arrived mid-way), so nothing is orphaned.
Deleting the Grouping means that a later event with the same grouping key starts a new issue.

Deletion runs off the request path: `request_deletion` marks the issues `is_deleting` (the UI shows them so) and
asks for a deletion job per project (`delete_issues_job`), which the project's single writer runs.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet

from alerts.models import DeliveryAttempt
from bugsink import jobs
from events.models import Event
from issues.models import Grouping, Issue, TurningPoint
from tags.models import EventTag, IssueTag

BATCH_SIZE = 1000
# issues handled together: keeps the `issue_id IN (...)` lists short
ISSUE_CHUNK = 100


@dataclass
class DeletionResult:
    issues: int = 0
    events: int = 0


def request_deletion(issues: list) -> int:
    """Mark the issues as being deleted and ask for their deletion, one job per project, once the caller's
    transaction commits. Returns how many issues were marked."""
    by_project: dict[int, list[str]] = {}
    for issue in issues:
        by_project.setdefault(issue.project_id, []).append(str(issue.pk))
    marked = Issue.objects.filter(pk__in=[issue.pk for issue in issues]).update(is_deleting=True)
    for project_id, issue_ids in by_project.items():
        delete_issues_job.after_commit(project_id, issue_ids)
    return marked


@jobs.job("issues.tasks.delete_issues", writer=lambda project_id, issue_ids: project_id, acks_late=True)
def delete_issues_job(project_id: int, issue_ids: list[str]) -> DeletionResult:
    """The deletion job: the project's issues among `issue_ids` (those of another project are left alone)."""
    return delete_issues(Issue.objects.filter(project_id=project_id, pk__in=issue_ids))


def delete_issues(issues: QuerySet, batch_size: int = BATCH_SIZE) -> DeletionResult:
    """Delete the issues of the queryset with their events, groupings, tags, turning points and alert delivery records.
    Returns how many issues and events were deleted."""
    result = DeletionResult()
    issue_ids = list(issues.order_by().values_list("pk", flat=True))
    for chunk in _chunks(issue_ids, ISSUE_CHUNK):
        delete_in_batches(TurningPoint.objects.filter(issue_id__in=chunk), batch_size)
        delete_in_batches(EventTag.objects.filter(issue_id__in=chunk), batch_size)
        result.events += delete_in_batches(Event.objects.filter(issue_id__in=chunk), batch_size)
        delete_in_batches(IssueTag.objects.filter(issue_id__in=chunk), batch_size)
        delete_in_batches(Grouping.objects.filter(issue_id__in=chunk), batch_size)
        delete_in_batches(DeliveryAttempt.objects.filter(issue_id__in=chunk), batch_size)
        with transaction.atomic():
            _, per_model = Issue.objects.filter(pk__in=chunk).delete()
        result.issues += per_model.get(Issue._meta.label, 0)
        result.events += per_model.get(Event._meta.label, 0)  # stragglers digested during the deletion
    return result


def delete_in_batches(queryset: QuerySet, batch_size: int) -> int:
    """Delete the rows of `queryset`, at most `batch_size` per transaction; returns how many rows of its model."""
    model = queryset.model
    deleted = 0
    while True:
        with transaction.atomic():
            pks = list(queryset.order_by().values_list("pk", flat=True)[:batch_size])
            if not pks:
                return deleted
            # only("pk"): the cascade collector would otherwise load whole rows (an event's JSON) to delete them
            _, per_model = model.objects.filter(pk__in=pks).only("pk").delete()
        deleted += per_model.get(model._meta.label, 0)
        if len(pks) < batch_size:
            return deleted


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
