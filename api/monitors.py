"""Cron monitors in Sentry's shapes: the organization's monitors, one monitor, and its check-ins (monitors.models).

Sentry's monitor slugs are unique in the organization; ours are per project (a row per environment, served as one
monitor with its `environments`), so a slug that two projects use names
the monitor of the lowest project id the user may see, unless `?project=<id>` says which. Durations are in
milliseconds, as Sentry gives them. Monitors are made by their check-ins' monitor_config; the one thing a `PUT` to a
monitor changes is Sentry's `isMuted` (a `write` token; a muted monitor's failures open no issue and send no alert).
"""

from django.db.models import Exists, OuterRef, Q
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


def serialize_monitor(monitor: Monitor, environments: list[Monitor] | None = None) -> dict:
    """One monitor in Sentry's shape: its settings from `monitor`, and one entry per environment row of its slug
    (`environments`, `monitor`'s own row included; just `monitor` when not given)."""
    environments = environments or [monitor]
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
        "isMuted": all(row.is_muted for row in environments),
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
                "name": row.environment,
                "status": ENVIRONMENT_STATUS.get(row.status, "active"),
                "isMuted": row.is_muted,
                "lastCheckIn": iso(row.last_checkin_at),
                "nextCheckIn": iso(row.next_expected_at),
                "nextCheckInLatest": iso(row.missed_after),
                "dateCreated": iso(row.created_at),
                "issueId": str(row.issue_id) if row.issue_id else None,
            }
            for row in environments
        ],
        "issueId": next((str(row.issue_id) for row in environments if row.issue_id), None),
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


def _monitor(request, projects, slug: str) -> list[Monitor]:
    """The environment rows of monitor `slug` (of the lowest project id that has it), by environment name."""
    first = Monitor.objects.filter(project__in=projects, slug=slug[:128]).order_by("project_id").first()
    if first is None:
        raise NotFound("Monitor not found.")
    return list(
        Monitor.objects.filter(project_id=first.project_id, slug=first.slug)
        .select_related("project")
        .order_by("environment")
    )


def _serialize_page(page: list[Monitor]) -> list[dict]:
    """A page of monitors (one row per slug: the first environment's) with all of their environments, one query."""
    if not page:
        return []
    match = Q()
    for monitor in page:
        match |= Q(project_id=monitor.project_id, slug=monitor.slug)
    rows: dict[tuple, list[Monitor]] = {}
    for row in Monitor.objects.filter(match).order_by("environment"):
        rows.setdefault((row.project_id, row.slug), []).append(row)
    return [serialize_monitor(m, rows.get((m.project_id, m.slug), [m])) for m in page]


def _monitor_list(request, projects):
    monitors = Monitor.objects.filter(project__in=projects)
    # one per slug and project: the row of its first environment (no NOT IN ... LIMIT: MariaDB has none)
    first_rows = monitors.exclude(
        Exists(
            Monitor.objects.filter(
                project_id=OuterRef("project_id"), slug=OuterRef("slug"), environment__lt=OuterRef("environment")
            )
        )
    )
    page = first_rows.select_related("project").order_by("slug", "project_id")
    return paginated_response(request, page, _serialize_page)


def _checkin_list(request, environments: list[Monitor]):
    """The check-ins of every environment of the monitor, newest first; `?environment=` keeps one's."""
    wanted = request.query_params.get("environment")
    rows = [row for row in environments if wanted is None or row.environment == wanted]
    checkins = CheckIn.objects.filter(monitor__in=rows).order_by("-date_added", "-id")
    return paginated_response(request, checkins, lambda page: [serialize_checkin(c) for c in page])


def _monitor_answer(request, environments: list[Monitor]) -> Response:
    """GET: the monitor; PUT {"isMuted": bool}: mute or unmute it (other fields are made by check-ins: a 400)."""
    monitor = environments[0]
    if request.method == "PUT":
        body = request.data if isinstance(request.data, dict) else None
        if body is None or set(body) != {"isMuted"} or not isinstance(body["isMuted"], bool):
            raise ParseError(
                'Send {"isMuted": true} or {"isMuted": false}: a monitor\'s other fields come from its check-ins.'
            )
        set_monitor_muted(monitor.project, monitor.slug, body["isMuted"])
        for row in environments:
            row.is_muted = body["isMuted"]
    return Response(serialize_monitor(monitor, environments))


@api_view(["GET"])
def organization_monitors(request, org):
    check_organization(org)
    return _monitor_list(request, selected_projects(request))


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
