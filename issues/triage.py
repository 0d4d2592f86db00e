"""The people verbs that the issue page, the list's bulk form and the API share: assign issues, add a comment.

Each changes the database through issues.participants (and IssueStateManager for the comment itself) and starts
the e-mails it calls for once its transaction commits (alerts.notify), so that a caller does one thing.
"""

from django.db import transaction

from alerts import notify
from issues import participants
from issues.models import Issue, TurningPoint
from issues.state import LOCK_BATCH, IssueStateManager


def assign_issues(issues, value, actor) -> int:
    """Assign each of `issues` (Issue objects or a queryset, all of one project or several) to what `value` names
    (issues.participants.parse_assignee: "" unassigns), with the rows locked in id order. An assignee without access
    to one of the issues' projects refuses the whole change (AssignmentError). Returns how many changed."""
    ids = sorted({issue.pk for issue in issues})
    changed = 0
    with transaction.atomic():
        locked = []
        for start in range(0, len(ids), LOCK_BATCH):
            batch = ids[start : start + LOCK_BATCH]
            query = Issue.objects.select_for_update().filter(pk__in=batch).order_by("pk")
            # project only: FOR UPDATE cannot take the nullable side of an outer join (the assignee's) on PostgreSQL
            locked.extend(query.select_related("project"))
        assignees = {}
        for issue in locked:
            if issue.project_id not in assignees:
                assignees[issue.project_id] = participants.parse_assignee(issue.project, value, actor)
        for issue in locked:
            user, team = assignees[issue.project_id]
            assignment = participants.assign(issue, user=user, team=team, actor=actor)
            notify.assignment_on_commit(issue, assignment, actor)
            changed += assignment.changed
    return changed


def assign_issue(issue: Issue, value, actor) -> participants.Assignment:
    """One issue: like assign_issues, returning what happened."""
    with transaction.atomic():
        locked = Issue.objects.select_for_update().select_related("project").get(pk=issue.pk)
        user, team = participants.parse_assignee(locked.project, value, actor)
        assignment = participants.assign(locked, user=user, team=team, actor=actor)
        notify.assignment_on_commit(locked, assignment, actor)
    return assignment


def add_comment(issue: Issue, user, text: str) -> TurningPoint:
    """A new comment: its author and the people it @mentions become subscribers, and they and the other subscribers
    are told by e-mail once it is committed."""
    with transaction.atomic():
        comment = IssueStateManager.add_comment(issue, user, text)
        notify.comment_on_commit(participants.after_comment(comment))
    return comment
