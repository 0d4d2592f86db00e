"""Cron monitors in Sentry's shapes: the organization's monitors, one monitor, and its check-ins (monitors.models).

Sentry's monitor slugs are unique in the organization; ours are per project, so a slug that two projects use names
the monitor of the lowest project id the user may see, unless `?project=<id>` says which. Durations are in
milliseconds, as Sentry gives them. Monitors are made by their check-ins' monitor_config; the one thing a `PUT` to a
monitor changes is Sentry's `isMuted` (a `write` token; a muted monitor's failures open no issue and send no alert).
"""

from django.urls import path
from rest_framework.decorators import api_view
from rest_framework.exceptions import NotFound, ParseError
from rest_framework.response import Response

from api.common import check_organization, get_project, iso
from api.pagination import paginated_response
from api.releases import selected_projects
from monitors.actions import set_monitor_muted
from monitors.models import CheckIn, Monitor, MonitorStatus, ScheduleType

# our monitor status as Sentry's environment status
ENVIRONMENT_STATUS = {MonitorStatus.NEW: "active", MonitorStatus.OK: "ok", MonitorStatus.FAILING: "error"}


def serialize_monitor(monitor: Monitor) -> dict:
    if monitor.schedule_type == ScheduleType.INTERVAL:
        schedule = [int(monitor.schedule_value) if monitor.schedule_value.isdigit() else None, monitor.schedule_unit]
    else:
        schedule = monitor.schedule_value
    project = monitor.project
    return {
        "id": str(monitor.pk),
        "slug": monitor.slug,
        "name": monitor.slug,
        "status": "active",
        "isMuted": monitor.is_muted,
        "dateCreated": iso(monitor.created_at),
        "project": {"id": str(project.pk), "slug": project.slug, "name": project.name},
        "config": {
            "schedule_type": monitor.schedule_type or None,
            "schedule": schedule,
            "checkin_margin": monitor.checkin_margin,
            "max_runtime": monitor.max_runtime,
            "timezone": monitor.timezone,
            "failure_issue_threshold": monitor.failure_issue_threshold,
            "recovery_threshold": monitor.recovery_threshold,
        },
        "environments": [
            {
                "name": "",
                "status": ENVIRONMENT_STATUS.get(monitor.status, "active"),
                "lastCheckIn": iso(monitor.last_checkin_at),
                "nextCheckIn": iso(monitor.next_expected_at),
                "nextCheckInLatest": iso(monitor.missed_after),
                "dateCreated": iso(monitor.created_at),
            }
        ],
        "issueId": str(monitor.issue_id) if monitor.issue_id else None,
    }


def serialize_checkin(checkin: CheckIn) -> dict:
    return {
        "id": str(checkin.check_in_id),
        "status": checkin.status,
        "environment": checkin.environment,
        "duration": round(checkin.duration * 1000) if checkin.duration is not None else None,
        "dateCreated": iso(checkin.date_added),
        "dateUpdated": iso(checkin.date_updated),
        "expectedTime": iso(checkin.expected_at),
    }


def _monitor(request, projects, slug: str) -> Monitor:
    monitor = (
        Monitor.objects.filter(project__in=projects, slug=slug[:128])
        .select_related("project")
        .order_by("project_id")
        .first()
    )
    if monitor is None:
        raise NotFound("Monitor not found.")
    return monitor


def _monitor_list(request, projects):
    monitors = Monitor.objects.filter(project__in=projects).select_related("project").order_by("slug", "project_id")
    return paginated_response(request, monitors, lambda page: [serialize_monitor(m) for m in page])


def _checkin_list(request, monitor: Monitor):
    checkins = CheckIn.objects.filter(monitor=monitor).order_by("-date_added", "-id")
    return paginated_response(request, checkins, lambda page: [serialize_checkin(c) for c in page])


@api_view(["GET"])
def organization_monitors(request, org):
    check_organization(org)
    return _monitor_list(request, selected_projects(request))


def _monitor_answer(request, monitor: Monitor) -> Response:
    """GET: the monitor; PUT {"isMuted": bool}: mute or unmute it (other fields are made by check-ins: a 400)."""
    if request.method == "PUT":
        body = request.data if isinstance(request.data, dict) else None
        if body is None or set(body) != {"isMuted"} or not isinstance(body["isMuted"], bool):
            raise ParseError(
                'Send {"isMuted": true} or {"isMuted": false}: a monitor\'s other fields come from its check-ins.'
            )
        set_monitor_muted(monitor.project, monitor.slug, body["isMuted"])
        monitor.refresh_from_db()
    return Response(serialize_monitor(monitor))


@api_view(["GET", "PUT"])
def organization_monitor(request, org, slug):
    check_organization(org)
    return _monitor_answer(request, _monitor(request, selected_projects(request), slug))


@api_view(["GET"])
def organization_monitor_checkins(request, org, slug):
    check_organization(org)
    return _checkin_list(request, _monitor(request, selected_projects(request), slug))


@api_view(["GET", "PUT"])
def project_monitor(request, org, project, slug):
    return _monitor_answer(request, _monitor(request, [get_project(request, org, project)], slug))


@api_view(["GET"])
def project_monitor_checkins(request, org, project, slug):
    return _checkin_list(request, _monitor(request, [get_project(request, org, project)], slug))


urlpatterns = [
    path("organizations/<str:org>/monitors/", organization_monitors),
    path("organizations/<str:org>/monitors/<str:slug>/", organization_monitor),
    path("organizations/<str:org>/monitors/<str:slug>/checkins/", organization_monitor_checkins),
    path("projects/<str:org>/<str:project>/monitors/<str:slug>/", project_monitor),
    path("projects/<str:org>/<str:project>/monitors/<str:slug>/checkins/", project_monitor_checkins),
]
