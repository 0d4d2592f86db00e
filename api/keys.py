"""A project's DSN keys in Sentry's shape: `GET /api/0/projects/{org}/{project}/keys/` (its members), `POST` a new
key and `DELETE .../keys/{public key}/` to revoke one (its admins, with an admin-scope token), and `PUT` with
`{"rotate": true, "graceHours": N}` on the current key, our addition: the same verbs as the settings page
(projects.keys). Sentry names a key by its public key; the current one cannot be deleted, only rotated."""

from datetime import timedelta

from django.conf import settings
from django.urls import path
from django.utils import timezone
from rest_framework import status
from rest_framework.decorators import api_view
from rest_framework.exceptions import NotFound, ParseError, PermissionDenied
from rest_framework.response import Response

from api.common import get_project, iso
from api.models import Scope
from api.permissions import token_allows
from projects import keys
from projects.access import is_project_admin
from projects.models import Project, ProjectKey


def _dsn(project: Project, public_key: str) -> str:
    return project.dsn.replace(f"//{project.sentry_key}@", f"//{public_key}@", 1)


def serialize_key(project: Project, key: ProjectKey | None) -> dict:
    """`key` None: the project's current key."""
    public = key.public_key if key is not None else project.sentry_key
    dsn = _dsn(project, public)
    return {
        "id": public,
        "name": (key.label if key is not None else "") or ("Current" if key is None else "Key"),
        "label": (key.label if key is not None else "") or ("Current" if key is None else "Key"),
        "public": public,
        "secret": "",
        "projectId": project.pk,
        "isActive": key is None or key.is_valid(timezone.now()),
        "isCurrent": key is None,
        "dateCreated": iso(key.created_at if key is not None else project.created_at),
        "validUntil": iso(key.valid_until) if key is not None else None,
        "dsn": {"public": dsn, "secret": dsn},
    }


def _admin(request, project: Project) -> None:
    if not token_allows(request, Scope.ADMIN):
        raise PermissionDenied("Managing keys needs a token with the admin scope.")
    if not is_project_admin(request.user, project):
        raise PermissionDenied("Only the project's admins manage its keys.")


@api_view(["GET", "POST"])
def project_keys(request, org, project):
    project = get_project(request, org, project)
    if request.method == "POST":
        _admin(request, project)
        name = request.data.get("name", "") if isinstance(request.data, dict) else ""
        if not isinstance(name, str) or len(name) > 100:
            raise ParseError("name must be a string of at most 100 characters.")
        key = keys.add_key(project, name)
        return Response(serialize_key(project, key), status=status.HTTP_201_CREATED)
    valid, _ = keys.keys_of(project)
    return Response([serialize_key(project, None), *(serialize_key(project, key) for key in valid)])


@api_view(["GET", "PUT", "DELETE"])
def project_key(request, org, project, key_id):
    project = get_project(request, org, project)
    if key_id == project.sentry_key:
        if request.method == "GET":
            return Response(serialize_key(project, None))
        _admin(request, project)
        if request.method == "DELETE":
            raise ParseError("The current key cannot be deleted: rotate it (PUT rotate, graceHours 0 ends it).")
        data = request.data if isinstance(request.data, dict) else {}
        if data.get("rotate") is not True:
            raise ParseError('Send {"rotate": true, "graceHours": N} to rotate the current key.')
        hours = data.get("graceHours", settings.KEY_ROTATION_GRACE_HOURS)
        if not isinstance(hours, int) or isinstance(hours, bool):
            raise ParseError("graceHours must be a whole number of hours.")
        try:
            old = keys.rotate_key(project, timedelta(hours=hours))
        except keys.KeyActionRefused as e:
            raise ParseError(str(e)) from None
        return Response({"current": serialize_key(project, None), "previous": serialize_key(project, old)})
    key = ProjectKey.objects.filter(project=project, public_key=key_id).first()
    if key is None:
        raise NotFound("No such key.")
    if request.method == "GET":
        return Response(serialize_key(project, key))
    _admin(request, project)
    if request.method == "PUT":
        raise ParseError("Only the current key is rotated; DELETE revokes this one.")
    try:
        keys.revoke_key(project, key.pk)
    except keys.KeyActionRefused as e:
        raise ParseError(str(e)) from None
    return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("projects/<str:org>/<str:project>/keys/", project_keys, name="project-keys"),
    path("projects/<str:org>/<str:project>/keys/<str:key_id>/", project_key, name="project-key"),
]
