"""One delivery attempt to one target, recorded as a DeliveryAttempt. Retrying is the tasks' business.

The same functions serve real alerts (from alerts.tasks) and test alerts (the admin action), so a test alert proves
exactly the code path a real one takes.
"""

import logging
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.mail import get_connection

from alerts import outbound
from alerts.messages import Alert, build_email, webhook_request
from alerts.models import AlertChannel, DeliveryAttempt
from projects.models import Project, ProjectMembership, TeamMembership

logger = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 2000


@dataclass
class Outcome:
    record: DeliveryAttempt
    retriable: bool = False
    # email: the recipients that still have to get it (a retry goes to these only)
    remaining: list[str] = field(default_factory=list)

    @property
    def sent(self) -> bool:
        return self.record.status == DeliveryAttempt.Status.SENT


def email_recipients(project: Project, extra_user_ids=(), excluded_user_ids=()) -> list[str]:
    """Addresses of active people who want this project's alerts by email, each address once: direct members who
    want them, and members of the project's team who want the team's alerts. A direct membership's own switch wins
    over the team's (someone who turned a project's alerts off does not get them through its team). An alert about
    one issue adds its subscribers (`extra_user_ids`) and leaves out who unsubscribed from it (`excluded_user_ids`)."""
    direct = dict(
        ProjectMembership.objects.filter(project=project, user__is_active=True).values_list(
            "user_id", "send_email_alerts"
        )
    )
    wanted = {user_id for user_id, wants in direct.items() if wants}
    if project.team_id is not None:
        team_members = TeamMembership.objects.filter(
            team_id=project.team_id, send_email_alerts=True, user__is_active=True
        ).values_list("user_id", flat=True)
        wanted.update(user_id for user_id in team_members if user_id not in direct)
    wanted = (wanted | set(extra_user_ids)) - set(excluded_user_ids)
    return user_emails(wanted)


def user_emails(user_ids) -> list[str]:
    """The addresses of these users who are active and have one, each address once, sorted."""
    seen, recipients = set(), []
    emails = (
        get_user_model()
        .objects.filter(pk__in=user_ids, is_active=True)
        .exclude(email="")
        .order_by("email")
        .values_list("email", flat=True)
    )
    for email in emails:
        email = email.strip()
        if email and email.lower() not in seen:
            seen.add(email.lower())
            recipients.append(email)
    return recipients


def _record(alert: Alert, channel_kind: str, target: str, attempt: int, status: str, error: str = "", channel=None):
    return DeliveryAttempt.objects.create(
        project=alert.project,
        issue=alert.issue,
        alert_kind=alert.kind,
        channel_kind=channel_kind,
        channel=channel,
        target=target,
        attempt=attempt,
        status=status,
        error=error[:MAX_ERROR_LENGTH],
    )


def deliver_email(alert: Alert, recipients: list[str], attempt: int = 1) -> Outcome:
    """One message per recipient (members do not see each other's addresses), over one SMTP connection."""
    target = ", ".join(recipients)
    delivered: list[str] = []
    failures: dict[str, str] = {}
    try:
        with get_connection(fail_silently=False) as connection:
            for recipient in recipients:
                try:
                    if not connection.send_messages([build_email(alert, recipient)]):
                        raise RuntimeError("the mail backend sent nothing")
                    delivered.append(recipient)
                except Exception as e:
                    failures[recipient] = f"{e.__class__.__name__}: {e}"
    except Exception as e:  # could not connect: nobody (left) got it
        logger.warning("alert email for %s failed: %s", alert.project, e)
        for recipient in recipients:
            if recipient not in delivered:
                failures.setdefault(recipient, f"{e.__class__.__name__}: {e}")

    if not failures:
        return Outcome(_record(alert, "email", target, attempt, DeliveryAttempt.Status.SENT))
    error = "; ".join(f"{r}: {msg}" for r, msg in failures.items())
    if delivered:
        error += f" (delivered to {', '.join(delivered)})"
    record = _record(alert, "email", target, attempt, DeliveryAttempt.Status.FAILED, error)
    return Outcome(record, retriable=True, remaining=[r for r in recipients if r in failures])


def deliver_to_channel(channel: AlertChannel, alert: Alert, attempt: int = 1) -> Outcome:
    target = outbound.redact_url(channel.url)
    try:
        body, headers = webhook_request(channel.kind, channel.secret, alert)
        status = outbound.post(channel.url, body, headers)
    except outbound.RefusedTarget as e:
        logger.warning("alert webhook %s refused: %s", channel, e)
        record = _record(alert, channel.kind, target, attempt, DeliveryAttempt.Status.REFUSED, str(e), channel)
        return Outcome(record, retriable=False)
    except outbound.DeliveryFailed as e:
        logger.warning("alert webhook %s failed (attempt %s): %s", channel, attempt, e)
        record = _record(alert, channel.kind, target, attempt, DeliveryAttempt.Status.FAILED, str(e), channel)
        return Outcome(record, retriable=e.retriable)
    except Exception as e:  # a bug of ours; recorded so it is visible, not retried (it would fail the same way)
        logger.exception("alert webhook %s crashed", channel)
        error = f"{e.__class__.__name__}: {e}"
        record = _record(alert, channel.kind, target, attempt, DeliveryAttempt.Status.FAILED, error, channel)
        return Outcome(record, retriable=False)
    logger.info("alert webhook %s: HTTP %s", channel, status)
    return Outcome(_record(alert, channel.kind, target, attempt, DeliveryAttempt.Status.SENT, channel=channel))


def send_test_alert(channel: AlertChannel) -> Outcome:
    """Post a test alert to one channel now (one attempt, no retries) and record it with alert_kind=test."""
    return deliver_to_channel(channel, Alert(kind="test", project=channel.project))


def send_test_email(project: Project) -> Outcome | None:
    """Email a test alert to the project's members who want alerts now; None when there is nobody to send to."""
    recipients = email_recipients(project)
    if not recipients:
        return None
    return deliver_email(Alert(kind="test", project=project), recipients)
