"""A project's Monitors page (each monitor's status, schedule, last check-in and next expected one) and a monitor's
page (its check-in history with durations, and the issue its failures opened). A fixed handful of queries each."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_safe

from monitors.models import CheckIn, Monitor
from projects.access import get_project_or_404

MAX_MONITORS_SHOWN = 500
MAX_CHECKINS_SHOWN = 200


@require_safe
@login_required
def project_monitors(request, project_id: int):
    project = get_project_or_404(request.user, project_id)
    monitors = list(Monitor.objects.filter(project=project).order_by("slug")[:MAX_MONITORS_SHOWN])
    return render(request, "monitors/list.html", {"project": project, "monitors": monitors, "nav": "projects"})


@require_safe
@login_required
def monitor_detail(request, project_id: int, slug: str):
    project = get_project_or_404(request.user, project_id)
    monitor = Monitor.objects.filter(project=project, slug=slug).select_related("issue").first()
    if monitor is None:
        raise Http404("No such monitor")
    checkins = list(CheckIn.objects.filter(monitor=monitor).order_by("-date_added", "-id")[:MAX_CHECKINS_SHOWN])
    return render(
        request,
        "monitors/detail.html",
        {"project": project, "monitor": monitor, "checkins": checkins, "nav": "projects"},
    )
