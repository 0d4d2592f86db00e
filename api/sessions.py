"""Sentry's sessions API, as scripts and dashboards call it: GET /api/0/organizations/{org}/sessions/ with
`field` (sum(session), count_unique(user), crash_free_rate(session), crash_free_rate(user)), `groupBy` (project,
release, environment, session.status), `statsPeriod` or `start`/`end`, `interval` (1h or more: we keep hours),
`project` (ids; -1 or none: every project the caller sees) and `environment`. The numbers come from release health
(health.stats); this module only translates the request and the answer."""

import re
from datetime import UTC, datetime, timedelta

from django.urls import path
from django.utils import timezone
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from api.common import check_organization, iso
from health.stats import GROUPS, session_stats
from health.summary import HealthTotals
from projects.access import visible_projects

FIELDS = {
    "sum(session)": lambda t: t.sessions,
    "count_unique(user)": lambda t: t.users,
    "crash_free_rate(session)": lambda t: None if t.crash_free_sessions is None else t.crash_free_sessions / 100,
    "crash_free_rate(user)": lambda t: None if t.crash_free_users is None else t.crash_free_users / 100,
}
STATUSES = ("healthy", "errored", "crashed", "abnormal")
MAX_PERIOD = timedelta(days=90)
MAX_INTERVALS = 2000
UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def _duration(text: str, name: str) -> timedelta:
    match = re.fullmatch(r"(\d{1,6})([mhdw])", text or "")
    if not match:
        raise ValidationError({"detail": f"{name} must look like 24h, 14d or 30m, not {text[:40]!r}"})
    return timedelta(seconds=int(match[1]) * UNITS[match[2]])


def _moment(text: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError({"detail": f"{name} is not an ISO 8601 date: {text[:40]!r}"}) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _window(params) -> tuple[datetime, datetime, timedelta]:
    interval = _duration(params.get("interval", "1h"), "interval")
    if interval < timedelta(hours=1) or interval.total_seconds() % 3600:
        raise ValidationError({"detail": "interval must be whole hours (sessions are kept per hour)"})
    if params.get("start") or params.get("end"):
        start = _moment(params.get("start", ""), "start")
        end = _moment(params.get("end", ""), "end")
    else:
        end = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        start = end - _duration(params.get("statsPeriod", "24h"), "statsPeriod")
    start = start.replace(minute=0, second=0, microsecond=0)
    if not start < end or end - start > MAX_PERIOD:
        raise ValidationError({"detail": f"the period must be positive and at most {MAX_PERIOD.days} days"})
    if (end - start) / interval > MAX_INTERVALS:
        raise ValidationError({"detail": f"at most {MAX_INTERVALS} intervals"})
    return start, end, interval


def _status_totals(totals: HealthTotals, status: str) -> int:
    return getattr(totals, status)


@api_view(["GET"])
def organization_sessions(request, org):
    check_organization(org)
    fields = request.GET.getlist("field")
    if not fields or any(f not in FIELDS for f in fields):
        raise ValidationError({"detail": f"field must be one or more of {', '.join(FIELDS)}"})
    group_by = request.GET.getlist("groupBy")
    if any(g not in (*GROUPS, "session.status") for g in group_by):
        raise ValidationError({"detail": f"groupBy must be among {', '.join((*GROUPS, 'session.status'))}"})
    by_status = "session.status" in group_by
    if by_status and fields != ["sum(session)"]:
        raise ValidationError({"detail": "groupBy=session.status goes with field=sum(session) only"})
    start, end, interval = _window(request.GET)
    visible = set(visible_projects(request.user).values_list("pk", flat=True))
    asked = {int(p) for p in request.GET.getlist("project") if p.lstrip("-").isdigit() and len(p) < 18}
    project_ids = sorted(visible if not asked or -1 in asked else visible & asked)
    environments = request.GET.getlist("environment") or None
    groups = session_stats(
        project_ids, start, end, interval, [g for g in group_by if g != "session.status"], environments
    )
    steps = max(1, int((end - start) / interval))
    answer = []
    for group in groups:
        if by_status:
            for status in STATUSES:
                answer.append(
                    {
                        "by": {**group.by, "session.status": status},
                        "totals": {"sum(session)": _status_totals(group.totals, status)},
                        "series": {"sum(session)": [_status_totals(t, status) for t in group.series]},
                    }
                )
            continue
        answer.append(
            {
                "by": group.by,
                "totals": {f: FIELDS[f](group.totals) for f in fields},
                "series": {f: [FIELDS[f](t) for t in group.series] for f in fields},
            }
        )
    return Response(
        {
            "start": iso(start),
            "end": iso(end),
            "intervals": [iso(start + i * interval) for i in range(steps)],
            "groups": answer,
            "query": request.GET.get("query", ""),
        }
    )


urlpatterns = [path("organizations/<str:org>/sessions/", organization_sessions, name="organization-sessions")]
