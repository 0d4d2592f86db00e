"""A release's files, the upload path of sentry-cli before artifact bundles (and of scripts that still use it):
`/projects/{org}/{project}/releases/{version}/files/` and the organization-level variant, which stores the file for
each project the release has. A file uploaded here is a blob of its own; files that came in a bundle uploaded with a
release are listed too (they point into the bundle)."""

from django.conf import settings
from django.db import transaction
from django.urls import path
from rest_framework import status
from rest_framework.decorators import api_view
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response

from api.common import check_organization, get_project, iso
from api.models import Scope
from api.pagination import paginated_response
from api.permissions import token_allows
from api.releases import version_rows
from artifacts.models import ReleaseFile
from artifacts.storage import store_blob
from projects.access import is_project_admin
from releases.models import Release

MAX_HEADERS = 32


def serialize_file(release_file: ReleaseFile) -> dict:
    return {
        "id": str(release_file.pk),
        "name": release_file.name,
        "dist": release_file.dist or None,
        "headers": release_file.headers,
        "size": release_file.size,
        "sha1": release_file.blob.checksum if release_file.blob_id else None,
        "dateCreated": iso(release_file.date_created),
    }


def parse_upload(request) -> tuple[bytes, str, str, dict]:
    """(content, name, dist, headers) of a multipart upload; 413 past RELEASE_FILE_MAX_SIZE."""
    limit = settings.RELEASE_FILE_MAX_SIZE
    length = request.META.get("CONTENT_LENGTH") or ""
    if length.isdigit() and int(length) > limit + 64 * 1024:
        raise TooLarge(limit)
    upload = request.FILES.get("file")
    if upload is None:
        raise ValidationError({"detail": "Send the file as a multipart field named file."})
    if upload.size > limit:
        raise TooLarge(limit)
    name = request.data.get("name") or upload.name or ""
    dist = request.data.get("dist") or ""
    if not isinstance(name, str) or not name.strip() or len(name) > 1024 or "\x00" in name:
        raise ValidationError({"detail": "name must be the file's URL or ~/path (at most 1024 characters)."})
    if not isinstance(dist, str) or len(dist) > 64 or any(c in dist for c in "\r\n\t/\\\x00"):
        raise ValidationError({"detail": "dist must be a string of at most 64 characters, without slashes."})
    headers = {}
    values = request.data.getlist("header") if hasattr(request.data, "getlist") else []
    if len(values) > MAX_HEADERS:
        raise ValidationError({"detail": f"At most {MAX_HEADERS} headers."})
    for value in values:
        key, sep, header_value = str(value).partition(":")
        if not sep or not key.strip() or len(value) > 1024 or any(c in value for c in "\r\n\x00"):
            raise ValidationError({"detail": "Each header must read 'Name: value' on one line."})
        key = "Sourcemap" if key.strip().lower() in ("sourcemap", "x-sourcemap") else key.strip()
        headers[key] = header_value.strip()
    with upload.open("rb") as f:
        content = f.read(limit + 1)
    if len(content) > limit:
        raise TooLarge(limit)
    return content, name, dist, headers


class TooLarge(Exception):
    def __init__(self, limit: int):
        super().__init__(f"A release file may have at most {limit} bytes.")


def upload_files(request, releases: list[Release]) -> Response:
    try:
        content, name, dist, headers = parse_upload(request)
    except TooLarge as e:
        return Response({"detail": str(e)}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    project_ids = [r.project_id for r in releases]
    version = releases[0].version
    taken = ReleaseFile.objects.filter(project__in=project_ids, release=version, dist=dist, name=name)
    if taken.exists():
        return Response(
            {"detail": "A file matching this name already exists for the given release"},
            status=status.HTTP_409_CONFLICT,
        )
    blob = store_blob(content)
    with transaction.atomic():
        created = [
            ReleaseFile.objects.create(
                project_id=project_id, release=version, dist=dist, name=name, blob=blob, headers=headers, size=blob.size
            )
            for project_id in project_ids
        ]
    return Response(serialize_file(created[0]), status=status.HTTP_201_CREATED)


def list_files(request, releases: list[Release]) -> Response:
    files = ReleaseFile.objects.filter(
        project__in=[r.project_id for r in releases], release=releases[0].version
    ).select_related("blob")
    # one entry per name and dist (an organization-level upload stored it for each project)
    seen, unique = set(), []
    for release_file in files.order_by("name", "dist", "id"):
        if (release_file.name, release_file.dist) not in seen:
            seen.add((release_file.name, release_file.dist))
            unique.append(release_file)
    return paginated_response(request, unique, lambda page: [serialize_file(f) for f in page])


def file_detail(request, releases: list[Release], file_id: int) -> Response:
    project_ids = [r.project_id for r in releases]
    release_file = (
        ReleaseFile.objects.filter(pk=file_id, project__in=project_ids, release=releases[0].version)
        .select_related("blob", "project")
        .first()
    )
    if release_file is None:
        raise NotFound("File not found.")
    if request.method == "GET":
        return Response(serialize_file(release_file))
    if not token_allows(request, Scope.ADMIN):
        raise PermissionDenied("Deleting a release file needs a token with the admin scope.")
    same = ReleaseFile.objects.filter(
        project__in=project_ids, release=release_file.release, dist=release_file.dist, name=release_file.name
    ).select_related("project")
    if not all(is_project_admin(request.user, f.project) for f in same):
        raise PermissionDenied("Only a project's admins may delete its release files.")
    same.delete()  # the blob goes with the artifact retention, once nothing refers to it
    return Response(status=status.HTTP_204_NO_CONTENT)


def project_release(request, org, project, version) -> list[Release]:
    project = get_project(request, org, project)
    if "\x00" in version:
        raise NotFound("Release not found.")
    release = Release.objects.filter(project=project, version=version).select_related("project").first()
    if release is None:
        raise NotFound("Release not found.")
    return [release]


@api_view(["GET", "POST"])
def project_release_files(request, org, project, version):
    releases = project_release(request, org, project, version)
    return list_files(request, releases) if request.method == "GET" else upload_files(request, releases)


@api_view(["GET", "DELETE"])
def project_release_file(request, org, project, version, file_id):
    return file_detail(request, project_release(request, org, project, version), file_id)


@api_view(["GET", "POST"])
def organization_release_files(request, org, version):
    check_organization(org)
    releases = version_rows(request, version)
    return list_files(request, releases) if request.method == "GET" else upload_files(request, releases)


@api_view(["GET", "DELETE"])
def organization_release_file(request, org, version, file_id):
    check_organization(org)
    return file_detail(request, version_rows(request, version), file_id)


urlpatterns = [
    path(
        "projects/<str:org>/<str:project>/releases/<path:version>/files/<int:file_id>/",
        project_release_file,
        name="project-release-file",
    ),
    path(
        "projects/<str:org>/<str:project>/releases/<path:version>/files/",
        project_release_files,
        name="project-release-files",
    ),
    path(
        "organizations/<str:org>/releases/<path:version>/files/<int:file_id>/",
        organization_release_file,
        name="organization-release-file",
    ),
    path(
        "organizations/<str:org>/releases/<path:version>/files/",
        organization_release_files,
        name="organization-release-files",
    ),
]
