"""Delete one issue from its page: /issues/<id>/delete/ asks for confirmation (GET), then (POST) marks the issue
as being deleted and leaves the work to the same background job as the list's bulk delete (issues.deletion), and
sends the user to the project's issue list with a message. For the project's admins only, as on the list; a member
of another project gets a 404, as for every page of the issue."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from issues.access import get_issue_or_404
from issues.deletion import request_deletion
from projects.access import administered_projects


def may_delete_issue(user, issue) -> bool:
    return administered_projects(user).filter(pk=issue.project_id).exists()


@login_required
@require_http_methods(["GET", "POST"])
def issue_delete(request, issue_id):
    issue = get_issue_or_404(request.user, issue_id)
    list_url = reverse("issues:project", args=[issue.project_id])
    issue_url = reverse("issue:stacktrace", args=[issue.pk])
    if not may_delete_issue(request.user, issue):
        context = {"nav": "issues", "project": issue.project, "back_url": issue_url}
        return render(request, "issues/list_delete_forbidden.html", context, status=403)
    if issue.is_deleting:
        messages.info(request, f"{issue.short_id} is already being deleted.")
        return redirect(list_url)
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        request_deletion([issue])
        messages.success(request, f"Deleting {issue.short_id} and its events in the background.")
        return redirect(list_url)
    return render(
        request,
        "issues/issue_delete_confirm.html",
        {"nav": "issues", "project": issue.project, "issue": issue, "cancel_url": issue_url},
    )
