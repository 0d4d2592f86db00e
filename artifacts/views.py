"""A release's artifacts page: what sentry-cli (or a bundler plugin) uploaded for the release, in one project.

Bundles (`sentry-cli sourcemaps upload --release`) with their files: name, type, debug id, size; the project's
bundles uploaded without a release (found by debug id whatever the event's release); files uploaded on their own
(the legacy release-files API); for each, when symbolication last used it (`last_symbolicated_at`,
artifacts.lookup). A project's admins may delete a bundle or a file. Everything is of the project the URL names,
which the user must be able to see (else 404); the lists are bounded, so the page costs a fixed handful of queries.
"""

from collections import defaultdict

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from artifacts.models import ArtifactBundle, DebugIdArtifact, ReleaseFile
from artifacts.release_deletion import delete_bundle, delete_release_file
from events.filenames import short_filename
from projects.access import get_project_or_404, is_project_admin
from releases.models import Release

MAX_BUNDLES_SHOWN = 100
MAX_FILES_SHOWN = 500  # per bundle, and of the files uploaded on their own


def _release(request, project_id: int, release_id: int):
    project = get_project_or_404(request.user, project_id)
    release = Release.objects.filter(project=project, pk=release_id).first()
    if release is None:
        raise Http404("No such release")
    return project, release


def _file_row(name: str, file_type: str = "", debug_id: str = "", size: int | None = None) -> dict:
    return {"name": short_filename(name), "full_name": name, "type": file_type, "debug_id": debug_id, "size": size}


def bundle_rows(project, version: str) -> tuple[list[dict], int]:
    """The bundles of the release `version` in the project ("": those uploaded without a release), newest first,
    each with its files (by name: its release files and its debug-id files joined on the URL); and how many
    bundles there are."""
    bundles_qs = ArtifactBundle.objects.filter(projects=project, release=version)
    count = bundles_qs.count()
    bundles = list(bundles_qs.select_related("blob").order_by("-date_uploaded", "-pk")[:MAX_BUNDLES_SHOWN])
    ids = [b.pk for b in bundles]
    files = defaultdict(dict)  # bundle pk -> {url: row}
    for row in ReleaseFile.objects.filter(project=project, bundle_id__in=ids).order_by("name")[
        : MAX_FILES_SHOWN * max(1, len(ids))
    ]:
        files[row.bundle_id][row.name] = _file_row(row.name, size=row.size)
    for artifact in DebugIdArtifact.objects.filter(bundle_id__in=ids).order_by("url", "path")[
        : MAX_FILES_SHOWN * max(1, len(ids))
    ]:
        name = artifact.url or artifact.path
        entry = files[artifact.bundle_id].setdefault(name, _file_row(name))
        entry["type"], entry["debug_id"] = artifact.file_type, str(artifact.debug_id)
    rows = []
    for bundle in bundles:
        listed = sorted(files[bundle.pk].values(), key=lambda f: f["name"])
        rows.append(
            {
                "bundle": bundle,
                "size": bundle.blob.size,
                "files": listed[:MAX_FILES_SHOWN],
                "more_files": max(0, len(listed) - MAX_FILES_SHOWN),
            }
        )
    return rows, count


@require_safe
@login_required
def release_artifacts(request, project_id: int, release_id: int):
    project, release = _release(request, project_id, release_id)
    bundles, bundle_count = bundle_rows(project, release.version)
    # `sentry-cli sourcemaps upload` without --release: found by debug id, for the events of any release
    unreleased, unreleased_count = bundle_rows(project, "") if release.version else ([], 0)
    own_files = ReleaseFile.objects.filter(project=project, release=release.version, bundle=None)
    return render(
        request,
        "artifacts/release_artifacts.html",
        {
            "project": project,
            "release": release,
            "bundles": bundles,
            "bundle_count": bundle_count,
            "unreleased": unreleased,
            "unreleased_count": unreleased_count,
            "files": [
                {"row": f, **_file_row(f.name, size=f.size)}
                for f in own_files.order_by("name", "dist", "pk")[:MAX_FILES_SHOWN]
            ],
            "file_count": own_files.count(),
            "can_delete": is_project_admin(request.user, project),
            "nav": "projects",
        },
    )


def _check_admin(request, project) -> None:
    if not is_project_admin(request.user, project):
        raise PermissionDenied("Only the project's admins may delete uploaded files.")


@require_POST
@login_required
def delete_release_bundle(request, project_id: int, release_id: int, bundle_id: int):
    project, release = _release(request, project_id, release_id)
    bundle = get_object_or_404(
        ArtifactBundle, pk=bundle_id, projects=project, release__in=[release.version, ""]
    )  # the page lists both
    _check_admin(request, project)
    delete_bundle(project, bundle)
    return redirect("artifacts:release", project.pk, release.pk)


@require_POST
@login_required
def delete_file(request, project_id: int, release_id: int, file_id: int):
    project, release = _release(request, project_id, release_id)
    release_file = get_object_or_404(ReleaseFile, pk=file_id, project=project, release=release.version, bundle=None)
    _check_admin(request, project)
    delete_release_file(release_file)
    return redirect("artifacts:release", project.pk, release.pk)
