from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from issues.models import Issue
from projects.access import get_project_or_404, visible_projects


@login_required
def all_issues(request):
    issues = Issue.objects.filter(project__in=visible_projects(request.user)).select_related("project")
    return render(request, "issues/list.html", {"issues": issues.order_by("-last_seen")[:250], "nav": "issues"})


@login_required
def project_issues(request, project_id: int):
    project = get_project_or_404(request.user, project_id)
    issues = Issue.objects.filter(project=project).select_related("project").order_by("-last_seen")[:250]
    return render(request, "issues/list.html", {"issues": issues, "project": project, "nav": "issues"})
