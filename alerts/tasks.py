"""Celery tasks of the alerts app (queue `alerts`): each unwraps its arguments and calls one function of
alerts.dispatch, where the fan-out and the retry rules live (see bugsink.jobs for how jobs run)."""

from celery import shared_task

from alerts import dispatch


@shared_task(name="alerts.tasks.send_new_issue_alert")
def send_new_issue_alert(issue_id: str) -> int:
    return dispatch.fan_out("new_issue", issue_id, {})


@shared_task(name="alerts.tasks.send_regression_alert")
def send_regression_alert(issue_id: str, event_id: str = "") -> int:
    return dispatch.fan_out("regression", issue_id, {"event_id": event_id})


@shared_task(name="alerts.tasks.send_unmute_alert")
def send_unmute_alert(issue_id: str, reason: str = "") -> int:
    return dispatch.fan_out("unmute", issue_id, {"reason": reason})


@shared_task(name="alerts.tasks.deliver_email", acks_late=True)
def deliver_email(issue_id: str, alert_kind: str, context: dict, recipients: list[str], attempt: int = 1) -> str:
    return dispatch.deliver_email(issue_id, alert_kind, context, recipients, attempt)


@shared_task(name="alerts.tasks.deliver_webhook", acks_late=True)
def deliver_webhook(channel_id: int, issue_id: str, alert_kind: str, context: dict, attempt: int = 1) -> str:
    return dispatch.deliver_webhook(channel_id, issue_id, alert_kind, context, attempt)
