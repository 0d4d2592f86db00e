from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from projects.access import get_issue_or_404


@login_required
def issue_page(request, issue_id):
    issue = get_issue_or_404(request.user, issue_id)
    event = issue.events.order_by("-digest_order").first()
    return render(request, "issues/issue.html", {"issue": issue, "event": event, "nav": "issues"})
