"""Alert tasks (queue `alerts`, see CELERY_TASK_ROUTES).

send_* load the issue, check the project's switch again (it may have been turned off since the digest) and fan out:
one `deliver_email` for the members who want email, one `deliver_webhook` per active channel. Each delivery task
makes one attempt, records it, and on a retriable failure tries again after
ALERT_RETRY_BACKOFF_SECONDS * 2**retries seconds, at most ALERT_MAX_RETRIES times. A refused target (private
address) or a permanent failure (a 4xx, a redirect) is recorded and not retried.
"""

import logging

from celery import shared_task
from django.conf import settings

from alerts import delivery, dispatch
from alerts.messages import Alert
from alerts.models import AlertChannel
from issues.models import Issue

logger = logging.getLogger(__name__)


@shared_task(bind=True, name="alerts.tasks.send_new_issue_alert")
def send_new_issue_alert(self, issue_id: str) -> int:
    return _fan_out(self, "new_issue", issue_id, {})


@shared_task(bind=True, name="alerts.tasks.send_regression_alert")
def send_regression_alert(self, issue_id: str, event_id: str = "") -> int:
    return _fan_out(self, "regression", issue_id, {"event_id": event_id})


@shared_task(bind=True, name="alerts.tasks.send_unmute_alert")
def send_unmute_alert(self, issue_id: str, reason: str = "") -> int:
    return _fan_out(self, "unmute", issue_id, {"reason": reason})


@shared_task(bind=True, name="alerts.tasks.deliver_email", acks_late=True)
def deliver_email(self, issue_id: str, alert_kind: str, context: dict, recipients: list[str]) -> str:
    alert = _load_alert(alert_kind, issue_id, context)
    if alert is None or not recipients:
        return "skipped"
    outcome = delivery.deliver_email(alert, recipients, attempt=self.request.retries + 1)
    if outcome.retriable:
        return _retry_or_give_up(self, [issue_id, alert_kind, context, outcome.remaining], outcome)
    return outcome.record.status


@shared_task(bind=True, name="alerts.tasks.deliver_webhook", acks_late=True)
def deliver_webhook(self, channel_id: int, issue_id: str, alert_kind: str, context: dict) -> str:
    channel = AlertChannel.objects.select_related("project").filter(pk=channel_id, is_active=True).first()
    if channel is None:
        return "skipped"  # deleted or switched off since the alert was queued
    alert = _load_alert(alert_kind, issue_id, context)
    if alert is None:
        return "skipped"
    outcome = delivery.deliver_to_channel(channel, alert, attempt=self.request.retries + 1)
    if outcome.retriable:
        return _retry_or_give_up(self, [channel_id, issue_id, alert_kind, context], outcome)
    return outcome.record.status


def _load_alert(alert_kind: str, issue_id: str, context: dict) -> Alert | None:
    issue = Issue.objects.select_related("project").filter(pk=issue_id).first()
    if issue is None:
        logger.info("no %s alert: issue %s no longer exists", alert_kind, issue_id)
        return None
    return Alert(
        kind=alert_kind,
        project=issue.project,
        issue=issue,
        reason=context.get("reason") or "",
        event_id=context.get("event_id") or "",
    )


def _fan_out(task, kind: str, issue_id: str, context: dict) -> int:
    """Start one delivery per target; returns how many."""
    issue = Issue.objects.select_related("project").filter(pk=issue_id).first()
    if issue is None:
        logger.info("no %s alert: issue %s no longer exists", kind, issue_id)
        return 0
    project = issue.project
    switch = dispatch.KINDS[kind][0]
    if not getattr(project, switch):
        return 0
    started = 0
    recipients = delivery.email_recipients(project)
    if recipients:
        dispatch.run_subtask(task, deliver_email, [issue_id, kind, context, recipients])
        started += 1
    for channel_id in project.alert_channels.filter(is_active=True).values_list("pk", flat=True):
        dispatch.run_subtask(task, deliver_webhook, [channel_id, issue_id, kind, context])
        started += 1
    return started


def _retry_or_give_up(task, args: list, outcome: delivery.Outcome) -> str:
    retries = task.request.retries
    max_retries = settings.ALERT_MAX_RETRIES
    if retries >= max_retries:
        logger.warning("%s%r: giving up after %s attempts", task.name, args, retries + 1)
        return "gave up"
    countdown = settings.ALERT_RETRY_BACKOFF_SECONDS * 2**retries
    if task.request.is_eager:
        dispatch.retry_later(task, args, retries=retries + 1, countdown=countdown)
        return "retrying"
    raise task.retry(args=args, countdown=countdown, max_retries=max_retries)
