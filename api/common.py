"""What every /api/0/ view shares: the one organization, looking up a project the user may see, Sentry's shapes of
organizations, projects and teams, and dates in Sentry's form."""

from datetime import datetime

from django.conf import settings
from django.db.models import Q
from django.utils.text import slugify
from rest_framework.exceptions import NotFound

from projects.access import visible_projects
from projects.models import Project, Team

# One installation is one organization; its id in Sentry's shapes.
ORGANIZATION_ID = "1"


def organization_slug() -> str:
    return settings.ORGANIZATION_SLUG


def check_organization(org_slug: str) -> None:
    """A path's organization must be ours (its slug, or its id as some tools send it)."""
    if org_slug not in (organization_slug(), ORGANIZATION_ID):
        raise NotFound("No such organization.")


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.isoformat().replace("+00:00", "Z")


def base_url(request) -> str:
    """The address the client reached us at (what sentry-cli uses for its next requests)."""
    return request.build_absolute_uri("/").rstrip("/")


def get_project(request, org_slug: str, project_ref: str) -> Project:
    """A project the request's user may see, by slug or id; anything else is a 404, so existence does not leak."""
    check_organization(org_slug)
    projects = visible_projects(request.user)
    match = Q(slug=project_ref)
    if project_ref.isdigit() and len(project_ref) < 18:
        match |= Q(pk=int(project_ref))
    project = projects.filter(match).first()
    if project is None:
        raise NotFound("No such project.")
    return project


def team_slug(team: Team) -> str:
    return slugify(team.name) or f"team-{team.pk}"


def serialize_organization(request) -> dict:
    url = base_url(request)
    return {
        "id": ORGANIZATION_ID,
        "slug": organization_slug(),
        "name": settings.ORGANIZATION_NAME,
        "dateCreated": None,
        "status": {"id": "active", "name": "active"},
        "isEarlyAdopter": False,
        "require2FA": False,
        "hasAuthProvider": False,
        "features": [],
        "avatar": {"avatarType": "letter_avatar", "avatarUuid": None},
        # sentry-cli sends its further requests for the organization to `regionUrl`
        "links": {"organizationUrl": url, "regionUrl": url},
    }


def serialize_team(team: Team, user) -> dict:
    return {
        "id": str(team.pk),
        "slug": team_slug(team),
        "name": team.name,
        "dateCreated": iso(team.created_at),
        "isMember": team.memberships.filter(user=user).exists() if user.is_authenticated else False,
        "memberCount": team.memberships.count(),
        "hasAccess": True,
        "avatar": {"avatarType": "letter_avatar", "avatarUuid": None},
    }


def serialize_project(project: Project, user, request=None, detail: bool = False) -> dict:
    teams = [serialize_team(project.team, user)] if project.team_id else []
    data = {
        "id": str(project.pk),
        "slug": project.slug,
        "name": project.name,
        "platform": None,
        "dateCreated": iso(project.created_at),
        "isBookmarked": False,
        "isMember": True,
        "hasAccess": True,
        "status": "active",
        "features": [],
        "team": teams[0] if teams else None,
        "teams": teams,
    }
    if detail and request is not None:
        data["organization"] = serialize_organization(request)
    return data
