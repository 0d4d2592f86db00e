"""Deleting a release takes its uploads along (legacy release files, its artifact bundles in that project). It lives
with the uploads, above releases: artifacts know releases, releases do not know artifacts."""

from django.db import transaction

from artifacts.models import ArtifactBundle, ReleaseFile
from events.models import Event
from releases.actions import ReleaseInUse
from releases.models import Release


def delete_releases(releases: list[Release]) -> None:
    """Delete the rows of a version with their commits, deploys and uploaded files; refused (ReleaseInUse) while any
    of its projects has events of it. Blobs no longer referenced go with the artifact retention."""
    for release in releases:
        if Event.objects.filter(project=release.project_id, release=release.version).exists():
            raise ReleaseInUse(
                f"This release is referenced by events of project {release.project.slug}: it cannot be deleted."
            )
    with transaction.atomic():
        for release in releases:
            ReleaseFile.objects.filter(project=release.project_id, release=release.version).delete()
            bundles = ArtifactBundle.objects.filter(projects=release.project_id, release=release.version)
            for bundle in bundles:
                bundle.projects.remove(release.project_id)
            ArtifactBundle.objects.filter(release=release.version, projects=None).delete()
            release.delete()


def delete_bundle(project, bundle: ArtifactBundle) -> None:
    """Take an artifact bundle out of `project`: its release files there go, and the bundle itself (with its
    debug-id index) once no project holds it. The zip's blob goes with the artifact retention."""
    with transaction.atomic():
        ReleaseFile.objects.filter(project=project, bundle=bundle).delete()
        bundle.projects.remove(project)
        ArtifactBundle.objects.filter(pk=bundle.pk, projects=None).delete()


def delete_release_file(release_file: ReleaseFile) -> None:
    """Delete a file uploaded on its own for a release (the legacy release-files API); its blob goes with the
    artifact retention."""
    release_file.delete()
