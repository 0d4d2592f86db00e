"""The issue page's merge and reprocess controls (History tab): reprocess the issue's events, split a grouping
back out (unmerge). Both ask for a job of the project's single writer (issues.merge, issues.reprocess); the result
is a history entry."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from issues.access import get_issue_or_404
from issues.merge import UnmergeRefused, request_unmerge
from issues.models import Grouping, Issue, TurningPoint
from issues.reprocess import MAX_EVENTS_PER_RUN, reprocess_pending, request_reprocess

MAX_GROUPINGS_SHOWN = 50
KEY_PREVIEW_LINES = 4


def maintenance_context(issue: Issue) -> dict:
    """What the History tab shows about merging and reprocessing: the issue's groupings (the keys its events were
    grouped under) with their stored events, and whether a reprocessing request waits for its result."""
    rows = list(
        Grouping.objects.filter(issue=issue)
        .annotate(events=Count("event"))
        .order_by("pk")
        .values("pk", "grouping_key", "events")[: MAX_GROUPINGS_SHOWN + 1]
    )
    groupings = [
        {
            "pk": row["pk"],
            "key": "\n".join(row["grouping_key"].splitlines()[:KEY_PREVIEW_LINES]),
            "events": row["events"],
        }
        for row in rows[:MAX_GROUPINGS_SHOWN]
    ]
    return {
        "groupings": groupings,
        "more_groupings": len(rows) > MAX_GROUPINGS_SHOWN,
        "reprocess_pending": reprocess_pending(issue),
        "reprocess_cap": MAX_EVENTS_PER_RUN,
    }


def merge_details(kind: str, meta: dict) -> list[str]:
    """The lines under a merge, unmerge or reprocess history entry, and under an entry that came with a merged issue."""
    lines = []
    if kind == TurningPoint.Kind.MERGED:
        for merged in meta.get("issues") or []:
            events = merged.get("events", 0)
            lines.append(
                f"{merged.get('short_id')}: {merged.get('title')} ({events} event{'' if events == 1 else 's'})"
            )
    elif kind == TurningPoint.Kind.MERGED_INTO and meta.get("into"):
        lines.append(f"into {meta['into']}")
    elif kind == TurningPoint.Kind.UNMERGED:
        if meta.get("into"):
            lines.append(f"a grouping and its events split off into {meta['into']}")
        if meta.get("out_of"):
            lines.append(f"split off from {meta['out_of']}")
    elif kind == TurningPoint.Kind.REPROCESSED:
        events, frames = meta.get("events", 0), meta.get("frames_mapped", 0)
        lines.append(f"{events} events symbolicated and grouped again; {frames} frames mapped")
        if meta.get("source"):
            lines.append(f"they were {meta['source']}'s: that issue joined this one")
        else:
            lines.extend(f"{n} moved to {short_id}" for short_id, n in (meta.get("moved") or {}).items())
    if meta.get("merged_from"):
        lines.append(f"on {meta['merged_from']}, before it was merged into this issue")
    return lines


@login_required
@require_POST
def reprocess(request, issue_id):
    issue = get_issue_or_404(request.user, issue_id)
    if reprocess_pending(issue):
        messages.info(request, "Reprocessing was requested already; its result will show in the history.")
    else:
        request_reprocess(issue, user=request.user)
        messages.success(request, "Reprocessing the issue's events in the background; the result shows below.")
    return redirect("issue:history", issue.pk)


@login_required
@require_POST
def unmerge(request, issue_id, grouping_pk: int):
    issue = get_issue_or_404(request.user, issue_id)
    try:
        request_unmerge(issue, grouping_pk, user=request.user)
    except UnmergeRefused as e:
        messages.error(request, str(e))
    else:
        messages.success(request, "Splitting the grouping's events off into a new issue in the background.")
    return redirect("issue:history", issue.pk)
