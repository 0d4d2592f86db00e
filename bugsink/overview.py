"""The project list: each project the user sees with its open issues, its events of the last 24 hours and whether
the user administers it, and for staff the count of quarantined raw events. It reads projects, issues and the ingest
store, so it lives above those apps (projects' own modules import none of them)."""

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import render

from bugsink.templatetags.bugsink import hourly_counts
from ingest.store import quarantine_count
from issues.models import Issue
from projects.access import visible_projects
from projects.models import Project, ProjectMembership, Role, TeamMembership


def project_list_queryset(user):
    """The user's projects with their open-issue count and whether the user administers them, in one query."""
    open_issues = (
        Issue.objects.filter(project=OuterRef("pk"), is_resolved=False, is_muted=False)
        .order_by()
        .values("project")
        .annotate(n=Count("pk"))
        .values("n")
    )
    projects = Project.objects.filter(pk__in=visible_projects(user).values("pk")).select_related("team")
    projects = projects.annotate(open_issues=Coalesce(Subquery(open_issues, output_field=IntegerField()), 0))
    if user.is_superuser:
        return projects.annotate(user_is_admin=Value(True))
    direct_admin = ProjectMembership.objects.filter(project=OuterRef("pk"), user=user, role=Role.ADMIN)
    team_admin = TeamMembership.objects.filter(team=OuterRef("team"), user=user, role=Role.ADMIN)
    return projects.annotate(user_is_admin=Exists(direct_admin) | Exists(team_admin))


@login_required
def project_list(request):
    projects = list(project_list_queryset(request.user).order_by("name"))
    for project in projects:
        project.events_24h = sum(hourly_counts(project.period_counts))
    quarantined = quarantine_count() if request.user.is_staff else 0
    return render(request, "projects/list.html", {"projects": projects, "nav": "projects", "quarantined": quarantined})
