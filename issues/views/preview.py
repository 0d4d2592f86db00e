"""The mute dialogs' preview endpoint: GET /issues/mute-preview/?issue=<id>[&issue=...]&volume=&nr_of_periods=&period=

Answers JSON: per issue its sentence and numbers (see issues.preview), and for more than one issue a summary line
for the list's bulk mute. The dialogs call it as the user edits the condition; an invalid condition is a 400 with
the reason, in the same words the mute itself would refuse it with. Issues the user cannot see are left out, as if
they did not exist.
"""

import uuid

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from issues.models import Issue
from issues.muting import InvalidMute, volume_condition
from issues.preview import MAX_BULK_ISSUES, bulk_summary, preview
from projects.access import visible_projects


def _issue_ids(values: list[str]) -> list[uuid.UUID]:
    """The first MAX_BULK_ISSUES ids, in order; a malformed one is simply not an issue."""
    ids = []
    for value in values[:MAX_BULK_ISSUES]:
        try:
            ids.append(uuid.UUID(value))
        except ValueError:
            continue
    return ids


@login_required
@require_GET
def mute_preview(request):
    try:
        condition = volume_condition(request.GET)
    except InvalidMute as e:
        return JsonResponse({"error": str(e)}, status=400)
    ids = _issue_ids(request.GET.getlist("issue"))
    issues = Issue.objects.filter(pk__in=ids, project__in=visible_projects(request.user)).only("pk", "period_counts")
    now = timezone.now()
    by_pk = {issue.pk: issue for issue in issues}
    rows, results = [], []
    for value in ids:
        issue = by_pk.get(value)
        if issue is None:
            continue
        result, text = preview(issue.period_counts, condition, now)
        results.append(result)
        rows.append(
            {
                "issue": str(issue.pk),
                "text": text,
                "firings": result.firings,
                "last": result.last.isoformat() if result.last else None,
                "met_now": result.met_now,
            }
        )
    return JsonResponse({"condition": condition.describe(), "issues": rows, "summary": bulk_summary(results)})
