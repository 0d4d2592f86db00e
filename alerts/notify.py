"""E-mails to people about one issue: its assignment, new comments for its subscribers, and @mentions.

The views and the API change the issue through issues.participants and then call `assignment_on_commit` or
`comment_on_commit` with what it returned: the job starts once their transaction commits, on the `alerts` queue (or
the jobs thread without a broker), never in the request. The job reads who still has access and hands one e-mail
delivery to alerts.dispatch.deliver_email, which records it and retries it like any alert's.
"""

import logging

from alerts import dispatch
from alerts.delivery import user_emails
from bugsink import jobs
from issues import participants
from issues.models import Issue, TurningPoint

logger = logging.getLogger(__name__)

# a comment's text in the e-mail, at most
MAX_COMMENT = 4000


def assignment_on_commit(issue: Issue, assignment: participants.Assignment, actor) -> None:
    if not assignment.changed or not assignment.notify_user_ids:
        return
    actor_name = participants.display_name(actor) if actor is not None else ""
    notify_assignment.after_commit(str(issue.pk), assignment.notify_user_ids, actor_name)


def comment_on_commit(notice: participants.CommentNotice) -> None:
    if notice.mentioned_ids or notice.subscriber_ids:
        notify_comment.after_commit(notice.comment_id, notice.mentioned_ids, notice.subscriber_ids)


def _with_access(issue: Issue, user_ids: list[int]) -> list[int]:
    allowed = participants.users_with_access(issue.project).filter(pk__in=user_ids)
    return list(allowed.values_list("pk", flat=True))


@jobs.job("alerts.tasks.notify_assignment")
def notify_assignment(issue_id: str, user_ids: list[int], actor: str = "") -> int:
    """E-mail the new assignee (or the assigned team's members); returns the number of recipients."""
    issue = Issue.objects.select_related("project", "assigned_user", "assigned_team").filter(pk=issue_id).first()
    if issue is None:
        return 0
    recipients = user_emails(_with_access(issue, user_ids))
    if not recipients:
        return 0
    context = {"actor": actor, "assignee": participants.describe_assignee(issue)}
    dispatch.deliver_email.later(issue_id, "assigned", context, recipients, 1)
    return len(recipients)


@jobs.job("alerts.tasks.notify_comment")
def notify_comment(comment_id: int, mentioned_ids: list[int], subscriber_ids: list[int]) -> int:
    """E-mail a new comment: "you were mentioned" to the people it mentions, "new comment" to the other
    subscribers. Nothing when the comment was deleted meanwhile. Returns the number of recipients."""
    comment = (
        TurningPoint.objects.select_related("issue__project", "user")
        .filter(pk=comment_id, kind=TurningPoint.Kind.COMMENT)
        .first()
    )
    if comment is None:
        return 0
    issue = comment.issue
    context = {
        "actor": participants.display_name(comment.user) if comment.user else "",
        "comment": comment.comment[:MAX_COMMENT],
    }
    mentioned = user_emails(_with_access(issue, mentioned_ids))
    others = [email for email in user_emails(_with_access(issue, subscriber_ids)) if email not in mentioned]
    if mentioned:
        dispatch.deliver_email.later(str(issue.pk), "mention", context, mentioned, 1)
    if others:
        dispatch.deliver_email.later(str(issue.pk), "comment", context, others, 1)
    return len(mentioned) + len(others)
