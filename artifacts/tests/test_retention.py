"""Artifact retention: unused bundles and release files go after ARTIFACT_RETENTION_DAYS, blobs nothing refers to
(waiting chunks, the blobs of deleted rows) after the grace period, files on disk with their rows; deleting a release
or a project leaves nothing behind; the periodic job runs it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from artifacts.assemble import assemble_bundle
from artifacts.models import ArtifactBundle, DebugIdArtifact, FileBlob, ReleaseFile
from artifacts.release_deletion import delete_releases
from artifacts.retention import expire_artifacts, expire_artifacts_job
from artifacts.storage import blob_path, sha1_of, store_blob
from artifacts.tests.bundles import bundle_zip
from artifacts.tests.uploads import upload_blob, uploader
from bugsink import jobs
from projects.models import Project
from releases.models import Release

DAY = timedelta(days=1)


def upload_bundle(project, version="", debug_id="d200aca5-db79-5d49-aedb-f201065a9459") -> ArtifactBundle:
    data = bundle_zip(debug_id=debug_id)
    user = uploader()
    upload_blob(data, user)
    assert assemble_bundle(sha1_of(data), [sha1_of(data)], [project], user_id=user.pk, version=version).state == "ok"
    return ArtifactBundle.objects.get(bundle_id=debug_id, projects=project)


def files_on_disk() -> set[str]:
    return {c for c in FileBlob.objects.values_list("checksum", flat=True) if blob_path(c).is_file()}


@pytest.mark.django_db
def test_unused_bundles_and_release_files_go_after_the_retention_period(project, settings):
    settings.ARTIFACT_RETENTION_DAYS = 90
    settings.ARTIFACT_BLOB_GRACE_SECONDS = 3600
    old = upload_bundle(project, version="1.0")
    old_checksum = old.blob.checksum
    used = upload_bundle(project, debug_id="a0000000-0000-4000-8000-000000000001")
    own = ReleaseFile.objects.create(project=project, release="1.0", name="~/own.js", blob=store_blob(b"own"), size=3)
    now = timezone.now()
    ArtifactBundle.objects.filter(pk=old.pk).update(date_last_used=now - 91 * DAY)
    ArtifactBundle.objects.filter(pk=used.pk).update(date_last_used=now - 89 * DAY)  # symbolication read it
    ReleaseFile.objects.filter(pk=own.pk).update(date_last_used=now - 91 * DAY)
    FileBlob.objects.update(created_at=now - 2 * DAY)

    report = expire_artifacts(now)
    assert (report.bundles, report.release_files) == (1, 1)
    assert list(ArtifactBundle.objects.all()) == [used]
    assert not ReleaseFile.objects.exists()  # the bundle's files went with it
    assert set(DebugIdArtifact.objects.values_list("bundle_id", flat=True)) == {used.pk}
    # the blobs of the deleted rows went, rows and files; the used bundle's stayed
    assert files_on_disk() == {used.blob.checksum} == set(FileBlob.objects.values_list("checksum", flat=True))
    assert not blob_path(old_checksum).exists()
    assert expire_artifacts(now).total == 0


@pytest.mark.django_db
def test_chunks_wait_for_their_assemble_call_during_the_grace_period(settings):
    settings.ARTIFACT_BLOB_GRACE_SECONDS = 3600
    chunk = store_blob(b"a chunk nobody assembled")
    now = timezone.now()
    assert expire_artifacts(now + timedelta(minutes=59)).blobs == 0
    assert blob_path(chunk.checksum).is_file()
    assert expire_artifacts(now + timedelta(minutes=61)).blobs == 1
    assert not FileBlob.objects.exists() and not blob_path(chunk.checksum).exists()


@pytest.mark.django_db
def test_a_chunk_stored_again_gets_a_new_grace_period(settings):
    settings.ARTIFACT_BLOB_GRACE_SECONDS = 3600
    chunk = store_blob(b"uploaded twice")
    FileBlob.objects.filter(pk=chunk.pk).update(created_at=timezone.now() - 2 * DAY)
    store_blob(b"uploaded twice")
    assert expire_artifacts().blobs == 0 and blob_path(chunk.checksum).is_file()


@pytest.mark.django_db
def test_deleting_a_release_or_a_project_leaves_no_orphans(project, settings):
    settings.ARTIFACT_BLOB_GRACE_SECONDS = 0
    upload_bundle(project, version="1.0")
    ReleaseFile.objects.create(project=project, release="1.0", name="~/own.js", blob=store_blob(b"own"), size=3)
    delete_releases([Release.objects.get(project=project, version="1.0")])
    assert not ReleaseFile.objects.exists() and not ArtifactBundle.objects.exists()
    expire_artifacts(timezone.now() + timedelta(seconds=1))
    assert not FileBlob.objects.exists() and not files_on_disk()

    other = Project.objects.create(name="Other")
    bundle = upload_bundle(other, version="2.0")
    checksum = bundle.blob.checksum
    other.delete()
    expire_artifacts(timezone.now() + timedelta(seconds=1))
    assert not ArtifactBundle.objects.exists() and not DebugIdArtifact.objects.exists()
    assert not FileBlob.objects.exists() and not blob_path(checksum).exists()


@pytest.mark.django_db(transaction=True)
def test_the_periodic_job_runs_retention(settings):
    settings.ARTIFACT_BLOB_GRACE_SECONDS = 0
    settings.CELERY_TASK_ALWAYS_EAGER = True
    blob = store_blob(b"orphan")
    FileBlob.objects.filter(pk=blob.pk).update(created_at=timezone.now() - DAY)
    assert expire_artifacts_job.name in {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert expire_artifacts_job.later()
    assert jobs.wait_idle(10)
    assert not FileBlob.objects.exists() and not blob_path(blob.checksum).exists()
