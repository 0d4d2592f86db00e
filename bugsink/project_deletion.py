"""Deleting a project with everything it holds, as a job, in bounded batches.

A project can hold millions of events, log entries and check-ins. Deleting its row and letting the database (or
Django's collector) cascade would hold the write lock for as long as that takes and load every row first. So:

1. `request_project_deletion` marks the project `is_deleting` at once: from then on it is in no one's lists, its
   pages are 404, ingest refuses its events (404, as for an unknown project; other web processes within
   INGEST_PROJECT_CACHE_SECONDS), and its API is gone. It asks for `delete_project_job` after the commit.
2. The job runs on the project's single writer (as digest and issue deletion do, so no digest writes while it
   runs) and deletes, children before parents, at most BATCH_SIZE rows per short transaction: the raw events still
   waiting for digest, the issues with their events, tags, groupings and history (issues.deletion), attachments,
   feedback, tag values, logs, release health, monitors and their check-ins, alert channels and deliveries,
   releases with their commits and deploys, uploaded release files and the artifact bundles no other project
   uses, keys, members and invitations; then the project's row, whose cascade catches anything added meanwhile.

It is idempotent: a job that dies mid-way (acks_late) is run again and carries on with what is left.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import QuerySet

from alerts.models import AlertChannel, DeliveryAttempt
from artifacts.models import ArtifactBundle, ReleaseFile
from bugsink import jobs
from events.models import Attachment, Event, UserFeedback
from health.models import DiscardCount, SessionBucket
from ingest import store
from ingest.models import RefusedEvents
from issues.deletion import delete_in_batches, delete_issues
from issues.models import Grouping, Issue
from logs.models import LogEntry, LogStats
from monitors.models import CheckIn, Monitor
from projects.models import Invitation, Project, ProjectKey, ProjectMembership
from releases.models import Commit, Deploy, Release
from tags.models import EventTag, IssueTag, TagValue

BATCH_SIZE = 1000


@dataclass
class ProjectDeletionResult:
    deleted: bool = False
    rows: dict[str, int] = field(default_factory=dict)


def request_project_deletion(project: Project) -> None:
    """Mark the project as being deleted (it disappears for everyone now) and ask for its deletion job."""
    project.is_deleting = True
    project.save(update_fields=["is_deleting"])  # the save drops ingest's cached copy (ingest.project_cache)
    delete_project_job.after_commit(project.pk)


@jobs.job("bugsink.project_deletion.delete_project", writer=lambda project_id: project_id, acks_late=True)
def delete_project_job(project_id: int) -> ProjectDeletionResult:
    return delete_project(project_id)


def _tables(project_id: int) -> list[tuple[str, Callable[[], QuerySet]]]:
    """What hangs off the project, in deletion order (children first), each a queryset to delete in batches."""
    of = {"project_id": project_id}
    return [
        ("attachments", lambda: Attachment.objects.filter(**of)),
        ("feedback", lambda: UserFeedback.objects.filter(**of)),
        # events and issues were deleted with the issues; these are stragglers of a digest racing the deletion
        ("event tags", lambda: EventTag.objects.filter(event__project_id=project_id)),
        ("events", lambda: Event.objects.filter(**of)),
        ("issue tags", lambda: IssueTag.objects.filter(issue__project_id=project_id)),
        ("groupings", lambda: Grouping.objects.filter(**of)),
        ("tag values", lambda: TagValue.objects.filter(**of)),
        ("log entries", lambda: LogEntry.objects.filter(**of)),
        ("log stats", lambda: LogStats.objects.filter(**of)),
        ("session buckets", lambda: SessionBucket.objects.filter(**of)),
        ("discard counts", lambda: DiscardCount.objects.filter(**of)),
        ("check-ins", lambda: CheckIn.objects.filter(monitor__project_id=project_id)),
        ("monitors", lambda: Monitor.objects.filter(**of)),
        ("alert deliveries", lambda: DeliveryAttempt.objects.filter(**of)),
        ("alert channels", lambda: AlertChannel.objects.filter(**of)),
        ("release files", lambda: ReleaseFile.objects.filter(**of)),
        ("commits", lambda: Commit.objects.filter(release__project_id=project_id)),
        ("deploys", lambda: Deploy.objects.filter(release__project_id=project_id)),
        ("releases", lambda: Release.objects.filter(**of)),
        ("refused events", lambda: RefusedEvents.objects.filter(**of)),
        ("keys", lambda: ProjectKey.objects.filter(**of)),
        ("invitations", lambda: Invitation.objects.filter(**of)),
        ("memberships", lambda: ProjectMembership.objects.filter(**of)),
    ]


def delete_project(project_id: int, batch_size: int = BATCH_SIZE) -> ProjectDeletionResult:
    """Delete the project and everything it holds, in batches (see the module docstring). Only a project marked
    is_deleting is deleted: a job for a project whose deletion was undone in the admin, or for one that is gone,
    does nothing."""
    result = ProjectDeletionResult()
    if not Project.objects.filter(pk=project_id, is_deleting=True).exists():
        return result
    result.rows["raw events"] = _delete_raw_events(project_id, batch_size)
    deleted = delete_issues(Issue.objects.filter(project_id=project_id), batch_size=batch_size)
    result.rows["issues"], result.rows["events"] = deleted.issues, deleted.events
    for name, rows in _tables(project_id):
        result.rows[name] = result.rows.get(name, 0) + delete_in_batches(rows(), batch_size)
    result.rows["artifact bundles"] = _release_artifact_bundles(project_id, batch_size)
    with transaction.atomic():
        Project.objects.filter(pk=project_id, is_deleting=True).delete()
    result.deleted = True
    return result


def _delete_raw_events(project_id: int, batch_size: int) -> int:
    """The project's accepted events that digest has not taken yet (ingest store); digest drops any that arrive
    later, as it does for a project that does not exist."""
    deleted = 0
    while keys := store.pending_keys(project_id, limit=batch_size):
        for key in keys:
            store.delete_raw_event(key)
        deleted += len(keys)
        if len(keys) < batch_size:
            break
    return deleted


def _release_artifact_bundles(project_id: int, batch_size: int) -> int:
    """Bundles are shared between the projects an upload named: this project lets go of its own, and those that no
    other project uses are deleted (their blobs go with the artifact retention, as after a release's deletion)."""
    through = ArtifactBundle.projects.through
    deleted = 0
    while True:
        with transaction.atomic():
            bundle_ids = list(
                through.objects.filter(project_id=project_id).values_list("artifactbundle_id", flat=True)[:batch_size]
            )
            if not bundle_ids:
                return deleted
            through.objects.filter(project_id=project_id, artifactbundle_id__in=bundle_ids).delete()
            orphans = ArtifactBundle.objects.filter(pk__in=bundle_ids, projects=None)
            deleted += orphans.only("pk").delete()[1].get(ArtifactBundle._meta.label, 0)
