"""A project's Monitors page (each monitor's status per environment, schedule, last check-in and next expected one)
and a monitor's page (one environment's check-in history with durations, and the issue its failures opened; links to
its other environments). A fixed handful of queries each."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from monitors.actions import set_monitor_muted
from monitors.models import CheckIn, Monitor
from projects.access import get_project_or_404

MAX_MONITORS_SHOWN = 500
MAX_CHECKINS_SHOWN = 200


@require_safe
@login_required
def project_monitors(request, project_id: int):
    project = get_project_or_404(request.user, project_id)
    monitors = list(Monitor.objects.filter(project=project).order_by("slug", "environment")[:MAX_MONITORS_SHOWN])
    return render(request, "monitors/list.html", {"project": project, "monitors": monitors, "nav": "projects"})


@require_safe
@login_required
def monitor_detail(request, project_id: int, slug: str):
    project = get_project_or_404(request.user, project_id)
    # one row per environment (monitors.models): ?environment= picks one, else the first by name
    environments = list(Monitor.objects.filter(project=project, slug=slug).order_by("environment")[:MAX_MONITORS_SHOWN])
    wanted = request.GET.get("environment")
    monitor = next((m for m in environments if wanted is None or m.environment == wanted), None)
    if monitor is None:
        raise Http404("No such monitor")
    monitor = Monitor.objects.select_related("issue").get(pk=monitor.pk)
    checkins = list(CheckIn.objects.filter(monitor=monitor).order_by("-date_added", "-id")[:MAX_CHECKINS_SHOWN])
    return render(
        request,
        "monitors/detail.html",
        {
            "project": project,
            "monitor": monitor,
            "environments": environments,
            "checkins": checkins,
            "nav": "projects",
        },
    )


@require_POST
@login_required
def mute_monitor(request, project_id: int, slug: str):
    """The Monitors page's mute switch: `muted=1` mutes, `muted=0` unmutes; back to the page it came from."""
    project = get_project_or_404(request.user, project_id)
    wanted = request.POST.get("muted")
    if wanted not in ("0", "1"):
        messages.error(request, "Say muted=1 or muted=0.")
        return redirect("monitors:project", project.pk)
    if not set_monitor_muted(project, slug, wanted == "1"):
        raise Http404("No such monitor")
    verb = "muted: its failures open no issue and send no alert" if wanted == "1" else "unmuted"
    messages.success(request, f"Monitor {slug} {verb}.")
    back = request.POST.get("next")
    if back == "detail":
        return redirect("monitors:detail", project.pk, slug)
    return redirect("monitors:project", project.pk)
