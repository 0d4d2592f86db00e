"""Splitting the artifact bundles that earlier versions shared between projects: one bundle per project.

Earlier, an assemble looked an existing bundle up by the id the client wrote in its manifest, from any project, and
added the caller's projects to it; so a bundle could end up in projects that its uploader never had (a member of B
naming the bundle id of A's upload joined A's bundle, and B's events were then symbolicated with A's maps). Bundles
are now one project's each (artifacts.assemble). A bundle of several projects is split here: the first project keeps
the row; every other project gets a copy of its own (the same stored zip, its own debug-id index) and its release
files point to that copy. Nothing is lost and each project symbolicates as before, but no row is shared any more,
so deleting or expiring one project's copy never touches another's.

The data do not say whether a project was added by someone who could write it; `shared_bundles` lists them (with
their projects and dates) for an admin to look at, and a copy a project should not have is deleted in the admin.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, QuerySet

from artifacts.models import ArtifactBundle, DebugIdArtifact, ReleaseFile


@dataclass
class SplitBundle:
    bundle_pk: int
    bundle_id: str
    project_slugs: list[str]
    copies: int  # bundles made (one per project beyond the first); 0 on a dry run


def shared_bundles() -> QuerySet:
    """The bundles held by more than one project, oldest first."""
    return ArtifactBundle.objects.annotate(project_count=Count("projects")).filter(project_count__gt=1).order_by("pk")


def split_bundle(bundle_pk: int) -> int:
    """Give every project of the bundle but the first (by id) a bundle of its own; returns how many were made."""
    with transaction.atomic():
        bundle = ArtifactBundle.objects.select_for_update().filter(pk=bundle_pk).first()
        if bundle is None:
            return 0
        projects = list(bundle.projects.order_by("pk"))
        if len(projects) < 2:
            return 0
        index = list(bundle.debug_ids.all())
        for project in projects[1:]:
            copy = ArtifactBundle.objects.create(
                bundle_id=bundle.bundle_id,
                blob=bundle.blob,
                release=bundle.release,
                dist=bundle.dist,
                artifact_count=bundle.artifact_count,
                date_uploaded=bundle.date_uploaded,
                date_last_used=bundle.date_last_used,
            )
            copy.projects.add(project)
            DebugIdArtifact.objects.bulk_create(
                DebugIdArtifact(bundle=copy, debug_id=row.debug_id, file_type=row.file_type, path=row.path, url=row.url)
                for row in index
            )
            ReleaseFile.objects.filter(bundle=bundle, project=project).update(bundle=copy)
            bundle.projects.remove(project)
        return len(projects) - 1


def split_shared_bundles(dry_run: bool = False) -> list[SplitBundle]:
    """Split every shared bundle (each in a transaction of its own); what was (or would be) split."""
    done = []
    for bundle in shared_bundles().prefetch_related("projects"):
        slugs = sorted(p.slug for p in bundle.projects.all())
        copies = 0 if dry_run else split_bundle(bundle.pk)
        done.append(SplitBundle(bundle.pk, str(bundle.bundle_id), slugs, copies))
    return done
