"""How alerts leave the digest, and the rules of their delivery: which alert a project wants, its fan-out to
one delivery per target, and when a failed delivery is tried again.

Digest calls `alert_on_commit` inside its transaction; the alert job (`send_new_issue_alert` and its siblings below,
declared with bugsink.jobs) starts only once that
transaction commits, on the `alerts` queue (or, without a broker, on the jobs background thread, never in the way
of ingest). The alert job fans out (`fan_out`): one email delivery for the members who want email, one webhook
delivery per active channel. Each delivery makes one attempt (alerts.delivery) and records it; a retriable failure
is tried again after ALERT_RETRY_BACKOFF_SECONDS * 2**(attempt - 1) seconds, at most ALERT_MAX_RETRIES times. A
refused target (a private address) or a permanent failure (a 4xx, a redirect) is recorded and not retried.
"""

import logging

from django.conf import settings

from alerts import delivery
from alerts.messages import Alert
from alerts.models import AlertChannel
from bugsink import jobs
from issues import participants
from issues.models import Issue

logger = logging.getLogger(__name__)

# kind -> the project's switch
SWITCHES = {"new_issue": "alert_on_new_issue", "regression": "alert_on_regression", "unmute": "alert_on_unmute"}


def alert_on_commit(kind: str, issue, **context) -> None:
    """kind in {"new_issue", "regression", "unmute"}; context: for "regression" event_id=<32-hex str>, for "unmute"
    reason=<human text like '3 events in the last hour'>. When the project wants that kind of alert, its job runs
    once the caller's transaction commits (nothing is sent for a rolled-back digest). Never raises into the caller
    (logs instead)."""
    try:
        job, context_names = KINDS[kind]
        if not getattr(issue.project, SWITCHES[kind]):
            return
        job.after_commit(str(issue.pk), *(str(context.get(name) or "") for name in context_names))
    except Exception:
        logger.exception("could not schedule the %s alert for issue %s", kind, getattr(issue, "pk", issue))


def fan_out(kind: str, issue_id: str, context: dict) -> int:
    """The alert job: start one delivery per target; returns how many. The project's switch is read again (it may
    have been turned off since the digest)."""
    issue = Issue.objects.select_related("project").filter(pk=issue_id).first()
    if issue is None:
        logger.info("no %s alert: issue %s no longer exists", kind, issue_id)
        return 0
    project = issue.project
    if not getattr(project, SWITCHES[kind]):
        return 0
    started = 0
    # the issue's subscribers too, and not those who unsubscribed from it (issues.participants)
    subscribers, unsubscribed = participants.subscriber_ids(issue), participants.unsubscribed_ids(issue)
    recipients = delivery.email_recipients(project, extra_user_ids=subscribers, excluded_user_ids=unsubscribed)
    if recipients:
        deliver_email.later(issue_id, kind, context, recipients, 1)
        started += 1
    for channel_id in project.alert_channels.filter(is_active=True).values_list("pk", flat=True):
        deliver_webhook.later(channel_id, issue_id, kind, context, 1)
        started += 1
    return started


@jobs.job("alerts.tasks.send_new_issue_alert")
def send_new_issue_alert(issue_id: str) -> int:
    return fan_out("new_issue", issue_id, {})


@jobs.job("alerts.tasks.send_regression_alert")
def send_regression_alert(issue_id: str, event_id: str = "") -> int:
    return fan_out("regression", issue_id, {"event_id": event_id})


@jobs.job("alerts.tasks.send_unmute_alert")
def send_unmute_alert(issue_id: str, reason: str = "") -> int:
    return fan_out("unmute", issue_id, {"reason": reason})


# kind -> (its job, the context it takes)
KINDS = {
    "new_issue": (send_new_issue_alert, ()),
    "regression": (send_regression_alert, ("event_id",)),
    "unmute": (send_unmute_alert, ("reason",)),
}


@jobs.job("alerts.tasks.deliver_email", acks_late=True)
def deliver_email(issue_id: str, kind: str, context: dict, recipients: list[str], attempt: int = 1) -> str:
    """The email delivery job: one attempt; a retry goes to the recipients that did not get it."""
    alert = _load_alert(kind, issue_id, context)
    if alert is None or not recipients:
        return "skipped"
    outcome = delivery.deliver_email(alert, recipients, attempt=attempt)
    if outcome.retriable:
        return _retry_or_give_up(deliver_email, [issue_id, kind, context, outcome.remaining], attempt)
    return outcome.record.status


@jobs.job("alerts.tasks.deliver_webhook", acks_late=True)
def deliver_webhook(channel_id: int, issue_id: str, kind: str, context: dict, attempt: int = 1) -> str:
    """The webhook delivery job: one attempt to one channel (skipped when deleted or switched off meanwhile)."""
    channel = AlertChannel.objects.select_related("project").filter(pk=channel_id, is_active=True).first()
    if channel is None:
        return "skipped"
    alert = _load_alert(kind, issue_id, context)
    if alert is None:
        return "skipped"
    outcome = delivery.deliver_to_channel(channel, alert, attempt=attempt)
    if outcome.retriable:
        return _retry_or_give_up(deliver_webhook, [channel_id, issue_id, kind, context], attempt)
    return outcome.record.status


def _load_alert(kind: str, issue_id: str, context: dict) -> Alert | None:
    issue = Issue.objects.select_related("project").filter(pk=issue_id).first()
    if issue is None:
        logger.info("no %s alert: issue %s no longer exists", kind, issue_id)
        return None
    return Alert(
        kind=kind,
        project=issue.project,
        issue=issue,
        reason=context.get("reason") or "",
        event_id=context.get("event_id") or "",
        actor=context.get("actor") or "",
        comment=context.get("comment") or "",
        assignee=context.get("assignee") or "",
    )


def _retry_or_give_up(job: jobs.Job, args: list, attempt: int) -> str:
    """Schedule attempt number attempt + 1 of the delivery `job` (args without the attempt), unless the retries are
    used up."""
    if attempt > settings.ALERT_MAX_RETRIES:
        logger.warning("%s%r: giving up after %s attempts", job, args, attempt)
        return "gave up"
    countdown = settings.ALERT_RETRY_BACKOFF_SECONDS * 2 ** (attempt - 1)
    job.later(*args, attempt + 1, countdown=countdown)
    return "retrying"
