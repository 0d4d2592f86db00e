"""Artifact retention: uploads nobody uses any more, and the files behind them, are deleted.

- a bundle whose `date_last_used` (its upload, bumped by symbolication when it reads it) is older than
  ARTIFACT_RETENTION_DAYS, or that no project holds any more (its projects were deleted), goes with its debug-id
  index and the release files that point into it;
- a release file with a blob of its own, unused that long, goes;
- a blob no bundle and no release file refers to goes once it is ARTIFACT_BLOB_GRACE_SECONDS old: that is how
  chunks wait for their assemble call, and how the blobs of the rows deleted above (or with a release or a project)
  end. The row goes first, then the file; a blob stored again meanwhile renews its age (artifacts.storage).

Every step works in batches and stops after `max_batches` of them; the next run (the periodic EXPIRE_ARTIFACTS job)
goes on where this one stopped.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from artifacts.models import ArtifactBundle, FileBlob, ReleaseFile
from artifacts.storage import delete_blob_file
from bugsink import jobs

BATCH_SIZE = 500


@dataclass
class RetentionReport:
    bundles: int = 0
    release_files: int = 0
    blobs: int = 0

    @property
    def total(self) -> int:
        return self.bundles + self.release_files + self.blobs


def _delete_in_batches(queryset, max_batches: int) -> int:
    deleted = 0
    for _ in range(max_batches):
        ids = list(queryset.values_list("pk", flat=True)[:BATCH_SIZE])
        if not ids:
            break
        queryset.model.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
    return deleted


@jobs.job("artifacts.tasks.expire_artifacts")
def expire_artifacts_job() -> int:
    """The periodic job: `expire_artifacts` as of now; how many rows and files went."""
    return expire_artifacts().total


def expire_artifacts(now: datetime | None = None, max_batches: int = 100) -> RetentionReport:
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.ARTIFACT_RETENTION_DAYS)
    report = RetentionReport()
    unused = ArtifactBundle.objects.filter(Q(date_last_used__lt=cutoff) | Q(projects=None)).order_by("pk")
    report.bundles = _delete_in_batches(unused, max_batches)
    own_blob = ReleaseFile.objects.filter(bundle=None, date_last_used__lt=cutoff).order_by("pk")
    report.release_files = _delete_in_batches(own_blob, max_batches)
    report.blobs = delete_unreferenced_blobs(now - timedelta(seconds=settings.ARTIFACT_BLOB_GRACE_SECONDS), max_batches)
    return report


def delete_unreferenced_blobs(older_than: datetime, max_batches: int) -> int:
    deleted = 0
    for _ in range(max_batches):
        orphans = list(
            FileBlob.objects.filter(created_at__lt=older_than, bundles=None, release_files=None)
            .order_by("pk")
            .values_list("pk", "checksum")[:BATCH_SIZE]
        )
        if not orphans:
            break
        # the same condition again in the delete: a row made meanwhile that refers to one of them keeps it
        FileBlob.objects.filter(
            pk__in=[pk for pk, _ in orphans], created_at__lt=older_than, bundles=None, release_files=None
        ).delete()
        gone = set(FileBlob.objects.filter(pk__in=[pk for pk, _ in orphans]).values_list("pk", flat=True))
        for pk, checksum in orphans:
            if pk not in gone:
                delete_blob_file(checksum)
                deleted += 1
    return deleted
