"""/issues/<any form of an issue's id>/...: a short id like MYAPP-12, or the UUID without dashes or in capitals,
redirects to the issue's canonical URL (/issues/<uuid>/...), keeping the rest of the path and the query string.
People paste ids from alerts, logs and chat in whichever form they have."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.views.decorators.http import require_safe

from issues.models import Issue
from issues.refs import issue_ref_q
from projects.access import visible_projects


@require_safe
@login_required
def issue_by_ref(request, ref: str, rest: str = ""):
    condition = issue_ref_q(ref)
    if condition is None:
        raise Http404("No such issue")
    issue = Issue.objects.filter(condition, project__in=visible_projects(request.user)).only("pk").first()
    if issue is None:
        raise Http404("No such issue")
    url = f"/issues/{issue.pk}/{rest}"
    if request.META.get("QUERY_STRING"):
        url += "?" + request.META["QUERY_STRING"]
    return HttpResponseRedirect(url)
