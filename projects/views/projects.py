"""The project list, creating a project, its SDK setup page and its general settings."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import redirect, render

from bugsink.templatetags.bugsink import hourly_counts
from ingest.store import quarantine_count
from issues.models import Issue
from projects import people
from projects.access import is_project_admin, visible_projects
from projects.forms import ProjectForm, ProjectSettingsForm
from projects.models import Project, ProjectMembership, Role, TeamMembership
from projects.views.base import project_view

# --- project list and creation ------------------------------------------------------------------------------------


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


@login_required
def project_create(request):
    form = ProjectForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        project = people.create_project(
            request.user, form.cleaned_data["name"], form.cleaned_data["slug"], form.cleaned_data["team"]
        )
        messages.success(request, f"Project {project.name} created. Point your SDK at its DSN to start.")
        return redirect("projects:setup", project.pk)
    return render(request, "projects/create.html", {"form": form, "nav": "projects"})


@login_required
@project_view()
def project_setup(request, project):
    """The DSN and how to configure an SDK with it: for every member."""
    return render(
        request,
        "projects/setup.html",
        {
            "project": project,
            "is_admin": is_project_admin(request.user, project),
            "envelope_url": people.absolute_url(f"/api/{project.pk}/envelope/"),
            # sentry-cli (releases, source maps) talks to the web API at BASE_URL, in the one organization
            "sentry_url": settings.BASE_URL.rstrip("/"),
            "organization_slug": settings.ORGANIZATION_SLUG,
            "nav": "projects",
        },
    )


# --- settings: general --------------------------------------------------------------------------------------------


@login_required
@project_view(admin=True)
def project_settings(request, project):
    form = ProjectSettingsForm(request.POST or None, instance=project, user=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Project settings saved.")
        return redirect("projects:settings", project.pk)
    return render(request, "projects/settings_general.html", {"project": project, "form": form, "tab": "general"})
