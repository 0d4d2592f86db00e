"""The Logs page of a project: newest first, searched (logs.search), by keyset pages; each row links to the event
(and its issue) of the same trace."""

import json
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.db.models import Max
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from events.models import Event
from logs.digest import LEVELS, PARAMETER_PREFIX, TEMPLATE_ATTRIBUTE
from logs.models import LogEntry, LogStats
from logs.search import RANGES, LogCursor, filter_logs, parse_query, time_range
from projects.access import get_project_or_404

PER_PAGE = 50


def _attributes(entry: LogEntry) -> tuple[list, list]:
    """(parameters, other attributes) as (name, value) pairs, for the row's details."""
    try:
        attributes = json.loads(entry.attributes_json)
    except ValueError:
        attributes = {}
    parameters, others = [], []
    for key, value in (attributes if isinstance(attributes, dict) else {}).items():
        if key.startswith(PARAMETER_PREFIX):
            parameters.append((key.removeprefix(PARAMETER_PREFIX), value))
        elif key != TEMPLATE_ATTRIBUTE:
            others.append((key, value))
    return parameters, others


def trace_url(trace_id: str) -> str:
    """The query string of the Logs page listing one trace's logs."""
    return "?" + urlencode({"q": f"trace:{trace_id}", "range": "all"}) if trace_id else ""


def events_of_traces(project, trace_ids) -> dict[str, Event]:
    """The latest event of each trace, with its issue: two queries whatever the number of traces."""
    trace_ids = [t for t in set(trace_ids) if t]
    if not trace_ids:
        return {}
    latest = (
        Event.objects.filter(project=project, trace_id__in=trace_ids)
        .values("trace_id")
        .annotate(latest=Max("id"))
        .values_list("latest", flat=True)
    )
    events = (
        Event.objects.filter(pk__in=list(latest))
        .select_related("issue")
        .only(
            "id", "trace_id", "calculated_type", "calculated_value", "issue__id", "issue__number", "issue__project_id"
        )
    )
    return {event.trace_id: event for event in events}


@login_required
@require_safe
def project_logs(request, project_id: int):
    project = get_project_or_404(request.user, project_id)
    q = request.GET.get("q", "")
    query = parse_query(q)
    level = request.GET.get("level", "")
    if level in LEVELS and level not in query.levels:
        query.levels.append(level)
    range_name = request.GET.get("range", "all")
    range_name = range_name if range_name in RANGES else "all"

    logs = filter_logs(LogEntry.objects.filter(project=project), query)
    since = time_range(range_name, timezone.now())
    if since is not None:
        logs = logs.filter(timestamp__gte=since)
    cursor = LogCursor.decode(request.GET.get("before", ""))
    if cursor is not None:
        logs = logs.filter(cursor.older())
    page = list(logs.order_by("-timestamp", "-id")[: PER_PAGE + 1])
    has_older, page = len(page) > PER_PAGE, page[:PER_PAGE]

    events = events_of_traces(project, (entry.trace_id for entry in page))
    rows = []
    for entry in page:
        parameters, others = _attributes(entry)
        rows.append(
            {
                "entry": entry,
                "parameters": parameters,
                "attributes": others,
                "event": events.get(entry.trace_id),
                "trace_url": trace_url(entry.trace_id),
            }
        )
    params = {"q": q, "level": level, "range": range_name}
    older_url = (
        "?" + urlencode({**params, "before": LogCursor(page[-1].timestamp, page[-1].pk).encode()})
        if (has_older and page)
        else ""
    )
    return render(
        request,
        "logs/logs.html",
        {
            "project": project,
            "rows": rows,
            "q": q,
            "level": level,
            "levels": LEVELS,
            "range": range_name,
            "ranges": [(name, label) for name, (label, _) in RANGES.items()],
            "invalid_terms": query.invalid,
            "older_url": older_url,
            "first_url": "?" + urlencode(params) if cursor is not None else "",
            "stats": LogStats.objects.filter(project=project).first(),
            "nav": "projects",
        },
    )
