"""Who may see what: a user sees the projects they are a member of (directly or through a team); superusers see
all. Anything outside that is a 404, never a 403, so that a project's existence does not leak."""

from django.db.models import Q, QuerySet
from django.http import Http404

from projects.models import Project, ProjectMembership, Role


def visible_projects(user) -> QuerySet:
    """A project being deleted (bugsink.project_deletion) is no one's any more."""
    if not user.is_authenticated:
        return Project.objects.none()
    if user.is_superuser:
        return Project.objects.filter(is_deleting=False)
    return Project.objects.filter(
        Q(memberships__user=user) | Q(team__memberships__user=user), is_deleting=False
    ).distinct()


def get_project_or_404(user, project_id) -> Project:
    try:
        return visible_projects(user).get(pk=int(project_id))
    except (Project.DoesNotExist, ValueError, TypeError):
        raise Http404("No such project") from None


def is_project_admin(user, project: Project) -> bool:
    if user.is_superuser:
        return True
    if ProjectMembership.objects.filter(project=project, user=user, role=Role.ADMIN).exists():
        return True
    return project.team_id is not None and project.team.memberships.filter(user=user, role=Role.ADMIN).exists()


def administered_projects(user) -> QuerySet:
    """The projects whose admin the user is: directly, through an admin role in the project's team, or as a
    superuser (all). Deleting issues is for them only."""
    if not user.is_authenticated:
        return Project.objects.none()
    if user.is_superuser:
        return Project.objects.filter(is_deleting=False)
    admin = Role.ADMIN
    return Project.objects.filter(
        Q(memberships__user=user, memberships__role=admin)
        | Q(team__memberships__user=user, team__memberships__role=admin),
        is_deleting=False,
    ).distinct()
