"""Creating a project, its SDK setup page and its general settings. (The project list, which counts issues and
quarantined events, is bugsink.overview: above the apps it reads.)"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from bugsink.project_deletion import request_project_deletion
from projects import people
from projects.access import is_project_admin
from projects.forms import DeleteProjectForm, ProjectForm, ProjectSettingsForm
from projects.views.base import project_view

# --- project list and creation ------------------------------------------------------------------------------------


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
    old_slug = project.slug
    form = ProjectSettingsForm(request.POST or None, instance=project, user=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        if project.slug != old_slug:
            messages.success(
                request,
                f"Project settings saved. Short ids now start with {project.short_prefix}- (were {old_slug.upper()}-).",
            )
        else:
            messages.success(request, "Project settings saved.")
        return redirect("projects:settings", project.pk)
    return render(request, "projects/settings_general.html", {"project": project, "form": form, "tab": "general"})


# --- settings: delete the project ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
@project_view(admin=True)
def project_delete(request, project):
    """Asks for the project's name, then deletes the project in the background (bugsink.project_deletion)."""
    form = DeleteProjectForm(request.POST or None, project=project)
    if request.method == "POST":
        if form.is_valid():
            name = project.name
            request_project_deletion(project)
            messages.success(request, f"Deleting project {name} with all its issues and events in the background.")
            return redirect("projects:list")
        status = 400
    else:
        status = 200
    context = {"project": project, "form": form, "tab": "general", **_deletion_summary(project)}
    return render(request, "projects/delete.html", context, status=status)


def _deletion_summary(project) -> dict:
    """What the confirmation page says will go: the counts the project keeps anyway (no counting of tables)."""
    return {
        "event_total": max(project.digested_event_count - project.evicted_event_count, 0),
        "issue_total": project.issue_counter,
    }
