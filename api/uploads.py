"""sentry-cli's chunked uploads: the options it asks for, the chunks it posts, and the assemble calls that make an
artifact bundle (source maps) out of them. Storage and checks live in artifacts.chunks and artifacts.assemble.

Chunks are recorded as the user's uploads, and an assemble uses only the caller's own chunks, for projects the
caller may write (the ones named that they may see; a release's rows in those)."""

import re

from django.conf import settings
from django.urls import path
from rest_framework import status
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from api.common import base_url, check_organization
from api.releases import version_rows
from api.validation import parse_project_refs, request_object, validate_version
from artifacts.assemble import assemble_bundle
from artifacts.chunks import ChunkError, store_chunk

SHA1 = re.compile(r"^[0-9a-f]{40}$")


def chunk_upload_options(request, org: str) -> dict:
    return {
        "url": f"{base_url(request)}/api/0/organizations/{org}/chunk-upload/",
        "chunkSize": settings.CHUNK_UPLOAD_CHUNK_SIZE,
        "chunksPerRequest": settings.CHUNK_UPLOAD_CHUNKS_PER_REQUEST,
        "maxFileSize": settings.ARTIFACT_MAX_FILE_SIZE,
        "maxRequestSize": settings.CHUNK_UPLOAD_MAX_REQUEST_SIZE,
        "concurrency": settings.CHUNK_UPLOAD_CONCURRENCY,
        "hashAlgorithm": "sha1",
        "compression": ["gzip"],
        "accept": ["artifact_bundles", "release_files"],
    }


def error(status_code: int, detail: str) -> Response:
    return Response({"detail": detail}, status=status_code)


def request_too_large(request) -> Response | None:
    """Checked before the body is parsed: a 413 for a body past the limit, a 411 for one of unknown length."""
    length = request.META.get("CONTENT_LENGTH") or ""
    if not length.isdigit():
        return error(status.HTTP_411_LENGTH_REQUIRED, "Send the chunks with a Content-Length.")
    if int(length) > settings.CHUNK_UPLOAD_MAX_REQUEST_SIZE:
        return error(413, f"A chunk upload may have at most {settings.CHUNK_UPLOAD_MAX_REQUEST_SIZE} bytes.")
    return None


@api_view(["GET", "POST"])
def chunk_upload(request, org):
    check_organization(org)
    if request.method == "GET":
        return Response(chunk_upload_options(request, org))
    refused = request_too_large(request)
    if refused:
        return refused
    files = [(f, False) for f in request.FILES.getlist("file")] + [
        (f, True) for f in request.FILES.getlist("file_gzip")
    ]
    if not files:
        return error(400, "No chunks: send them as multipart files named file or file_gzip.")
    if len(files) > settings.CHUNK_UPLOAD_CHUNKS_PER_REQUEST:
        return error(400, f"At most {settings.CHUNK_UPLOAD_CHUNKS_PER_REQUEST} chunks per request.")
    for upload, compressed in files:
        try:
            with upload.open("rb") as stream:
                store_chunk(upload.name, stream, compressed, request.user.pk)
        except ChunkError as e:
            return error(e.status, e.detail)
    return Response(status=status.HTTP_200_OK)


def parse_assemble(request) -> tuple[str, list[str], dict]:
    data = request_object(request)
    checksum, chunks = data.get("checksum"), data.get("chunks")
    if not isinstance(checksum, str) or not SHA1.match(checksum):
        raise ValidationError({"detail": "checksum must be the SHA-1 of the file (40 lowercase hex digits)."})
    max_chunks = settings.ARTIFACT_MAX_FILE_SIZE // settings.CHUNK_UPLOAD_CHUNK_SIZE + 1
    if not isinstance(chunks, list) or not chunks or len(chunks) > max_chunks:
        raise ValidationError({"detail": f"chunks must list the file's chunk checksums (1 to {max_chunks})."})
    if not all(isinstance(c, str) and SHA1.match(c) for c in chunks):
        raise ValidationError({"detail": "Each chunk must be a SHA-1 (40 lowercase hex digits)."})
    return checksum, chunks, data


def parse_dist(data: dict) -> str:
    dist = data.get("dist") or ""
    if not isinstance(dist, str) or len(dist) > 64 or any(c in dist for c in "\r\n\t/\\"):
        raise ValidationError({"detail": "dist must be a string of at most 64 characters, without slashes."})
    return dist


@api_view(["POST"])
def assemble_artifact_bundle(request, org):
    check_organization(org)
    checksum, chunks, data = parse_assemble(request)
    projects = parse_project_refs(request, data.get("projects"))
    version = data.get("version") or ""
    if version:
        validate_version(version)
    result = assemble_bundle(
        checksum, chunks, projects, user_id=request.user.pk, version=version, dist=parse_dist(data)
    )
    return Response(result.as_json())


@api_view(["POST"])
def assemble_release_files(request, org, version):
    """The older chunked upload of a release's files (sentry-cli before artifact bundles): a bundle of the release,
    in the projects the release has (or those named)."""
    check_organization(org)
    checksum, chunks, data = parse_assemble(request)
    rows = version_rows(request, version)
    projects = [r.project for r in rows]
    if data.get("projects"):
        wanted = {p.pk for p in parse_project_refs(request, data["projects"])}
        projects = [p for p in projects if p.pk in wanted]
    if not projects:
        raise ValidationError({"detail": "The release is not in any of the projects given."})
    result = assemble_bundle(
        checksum, chunks, projects, user_id=request.user.pk, version=version, dist=parse_dist(data)
    )
    return Response(result.as_json())


urlpatterns = [
    path("organizations/<str:org>/chunk-upload/", chunk_upload, name="chunk-upload"),
    path("organizations/<str:org>/artifactbundle/assemble/", assemble_artifact_bundle, name="artifactbundle-assemble"),
    path("organizations/<str:org>/releases/<path:version>/assemble/", assemble_release_files, name="release-assemble"),
]
