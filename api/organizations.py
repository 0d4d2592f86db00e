"""The organization (one per installation), its projects and teams, and `GET /api/0/` (who am I: `sentry-cli
info`)."""

from django.urls import path
from rest_framework.decorators import api_view
from rest_framework.response import Response

from api.common import (
    check_organization,
    get_project,
    serialize_organization,
    serialize_project,
    serialize_team,
)
from api.models import ApiToken
from api.pagination import paginated_response
from projects.access import visible_projects
from projects.models import Team


def serialize_user(user) -> dict:
    return {
        "id": str(user.pk),
        "username": user.get_username(),
        "name": user.get_full_name() or user.get_username(),
        "email": user.email,
        "isSuperuser": user.is_superuser,
    }


@api_view(["GET"])
def root(request):
    token = request.auth if isinstance(request.auth, ApiToken) else None
    return Response(
        {
            "version": "0",
            "auth": {"scopes": token.scopes() if token else []},
            "user": serialize_user(request.user),
        }
    )


@api_view(["GET"])
def organization_list(request):
    return Response([serialize_organization(request)])


@api_view(["GET"])
def organization_detail(request, org):
    check_organization(org)
    return Response(serialize_organization(request))


@api_view(["GET"])
def organization_projects(request, org):
    check_organization(org)
    projects = visible_projects(request.user).select_related("team").order_by("slug")
    return paginated_response(request, projects, lambda page: [serialize_project(p, request.user) for p in page])


@api_view(["GET"])
def organization_teams(request, org):
    check_organization(org)
    team_ids = visible_projects(request.user).exclude(team=None).values("team_id")
    teams = Team.objects.all() if request.user.is_superuser else Team.objects.filter(pk__in=team_ids)
    teams = teams.distinct().order_by("name")
    return paginated_response(request, teams, lambda page: [serialize_team(t, request.user) for t in page])


@api_view(["GET"])
def project_detail(request, org, project):
    project = get_project(request, org, project)
    return Response(serialize_project(project, request.user, request, detail=True))


urlpatterns = [
    path("", root, name="root"),
    path("organizations/", organization_list, name="organization-list"),
    path("organizations/<str:org>/", organization_detail, name="organization-detail"),
    path("organizations/<str:org>/projects/", organization_projects, name="organization-projects"),
    path("organizations/<str:org>/teams/", organization_teams, name="organization-teams"),
    path("projects/<str:org>/<str:project>/", project_detail, name="project-detail"),
]
