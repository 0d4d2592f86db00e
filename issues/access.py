"""Which issues a user may see: those of the projects they may see (projects.access)."""

from django.http import Http404

from issues.models import Issue
from projects.access import visible_projects


def get_issue_or_404(user, issue_id):
    try:
        # with its assignee, which every issue page shows
        issues = Issue.objects.select_related("project", "assigned_user", "assigned_team")
        return issues.get(pk=issue_id, project__in=visible_projects(user))
    except (Issue.DoesNotExist, ValueError):
        raise Http404("No such issue") from None
