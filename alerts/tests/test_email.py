"""Email alerts through Django's SMTP backend to a real SMTP server (aiosmtpd on 127.0.0.1)."""

import pytest

from alerts import delivery, dispatch
from alerts.models import DeliveryAttempt

ISSUE_URL_PATH = "/issues/"


def parts(message):
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


def test_new_issue_email_to_members_who_want_alerts(smtp_sink, members, issue):
    assert dispatch.send_new_issue_alert.task.apply(args=[str(issue.pk)]).get() == 1

    # one message each, so members do not see each other's addresses
    assert smtp_sink.recipients() == ["alice@example.com", "bob@example.com"]
    assert all(len(e.rcpt_tos) == 1 for e in smtp_sink.envelopes)
    message = smtp_sink.messages[0]
    assert message["Subject"] == "[My App] New issue MYAPP-12: ValueError: bad value"
    assert message["To"] in ("alice@example.com", "bob@example.com")
    assert message["From"] == "bugsink@localhost"
    assert message.get_content_type() == "multipart/alternative"

    text, html = parts(message)
    link = f"http://127.0.0.1:8000{ISSUE_URL_PATH}{issue.pk}/"
    assert issue.get_absolute_url() == f"{ISSUE_URL_PATH}{issue.pk}/"
    for body in (text, html):
        assert "MYAPP-12: ValueError: bad value" in body
        assert "app.views in handle" in body
        assert link in body
        assert "2026-05-02 12:30 UTC" in body and "2026-05-04 12:30 UTC" in body
    assert "Events:     7" in text
    assert f'href="{link}"' in html

    record = DeliveryAttempt.objects.get()
    assert (record.alert_kind, record.channel_kind, record.status, record.attempt) == ("new_issue", "email", "sent", 1)
    assert record.target == "alice@example.com, bob@example.com"
    assert record.issue == issue and record.project == issue.project and record.error == ""


def test_unmute_email_says_why(smtp_sink, members, issue):
    dispatch.send_unmute_alert.task.apply(args=[str(issue.pk), "5 events in the last hour"])
    message = smtp_sink.messages[0]
    assert message["Subject"] == "[My App] Unmuted MYAPP-12: ValueError: bad value"
    text, html = parts(message)
    assert "Unmuted because: 5 events in the last hour" in text
    assert "5 events in the last hour" in html
    assert DeliveryAttempt.objects.get().alert_kind == "unmute"


def test_regression_email_names_the_event(smtp_sink, members, issue):
    event_id = "a" * 32
    dispatch.send_regression_alert.task.apply(args=[str(issue.pk), event_id])
    message = smtp_sink.messages[0]
    assert message["Subject"] == "[My App] Regression MYAPP-12: ValueError: bad value"
    assert event_id in parts(message)[0]


def test_html_part_escapes_the_title(smtp_sink, members, issue):
    issue.calculated_value = "<script>alert(1)</script>"
    issue.save()
    dispatch.send_new_issue_alert.task.apply(args=[str(issue.pk)])
    text, html = parts(smtp_sink.messages[0])
    assert "<script>alert(1)</script>" in text  # the text part is plain text
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_no_members_no_email(smtp_sink, issue):
    assert dispatch.send_new_issue_alert.task.apply(args=[str(issue.pk)]).get() == 0
    assert smtp_sink.envelopes == [] and not DeliveryAttempt.objects.exists()


@pytest.mark.parametrize(
    ("switch", "task", "extra"),
    [
        ("alert_on_new_issue", dispatch.send_new_issue_alert.task, []),
        ("alert_on_regression", dispatch.send_regression_alert.task, ["b" * 32]),
        ("alert_on_unmute", dispatch.send_unmute_alert.task, ["3 events in the last hour"]),
    ],
)
def test_project_switch_off_sends_nothing(smtp_sink, members, issue, switch, task, extra):
    setattr(issue.project, switch, False)
    issue.project.save()
    assert task.apply(args=[str(issue.pk), *extra]).get() == 0
    assert smtp_sink.envelopes == [] and not DeliveryAttempt.objects.exists()


def test_smtp_down_is_recorded_and_retried_then_given_up(settings, members, issue, transactional_db):
    from bugsink.jobs import wait_idle as wait_for_background_alerts
    from testing.utils import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    settings.ALERT_MAX_RETRIES = 2

    dispatch.send_new_issue_alert.task.apply(args=[str(issue.pk)])
    assert wait_for_background_alerts(20)

    records = list(DeliveryAttempt.objects.order_by("attempt"))
    assert [(r.attempt, r.status) for r in records] == [(1, "failed"), (2, "failed"), (3, "failed")]
    assert "ConnectionRefusedError" in records[0].error and "alice@example.com" in records[0].error


def test_a_retry_goes_only_to_the_recipients_that_failed(settings, smtp_sink, members, issue, transactional_db):
    from bugsink.jobs import wait_idle as wait_for_background_alerts

    original = delivery.build_email
    failed_once = []

    def build_email(alert, to):
        if to == "bob@example.com" and not failed_once:
            failed_once.append(to)
            raise OSError("mailbox temporarily unavailable")
        return original(alert, to)

    delivery.build_email = build_email
    try:
        dispatch.send_new_issue_alert.task.apply(args=[str(issue.pk)])
        assert wait_for_background_alerts(20)
    finally:
        delivery.build_email = original

    assert smtp_sink.recipients() == ["alice@example.com", "bob@example.com"]
    first, second = DeliveryAttempt.objects.order_by("attempt")
    assert (first.status, second.status) == ("failed", "sent")
    assert "bob@example.com: OSError" in first.error and "delivered to alice@example.com" in first.error
    assert second.target == "bob@example.com"


def test_test_email(smtp_sink, members, project):
    outcome = delivery.send_test_email(project)
    assert outcome.sent
    message = smtp_sink.messages[0]
    assert message["Subject"] == "[My App] Test alert"
    assert "test alert" in parts(message)[0].lower()
    record = DeliveryAttempt.objects.get()
    assert (record.alert_kind, record.issue, record.channel_kind) == ("test", None, "email")


def test_test_email_without_recipients(project):
    assert delivery.send_test_email(project) is None


def test_alert_emails_name_the_site_title(smtp_sink, members, issue):
    dispatch.send_new_issue_alert.task.apply(args=[str(issue.pk)])
    for body in parts(smtp_sink.messages[0]):
        assert "You get this from Culvert because" in body and "Bugsink" not in body


def test_alert_emails_name_an_overridden_site_title(settings, smtp_sink, members, issue, project):
    settings.SITE_TITLE = "Acme Errors"
    dispatch.send_new_issue_alert.task.apply(args=[str(issue.pk)])
    delivery.send_test_email(project)
    new_issue, test_alert = smtp_sink.messages[0], smtp_sink.messages[-1]
    for body in (*parts(new_issue), *parts(test_alert)):
        assert "You get this from Acme Errors because" in body and "Culvert" not in body
    assert "This is a test alert from Acme Errors for project My App." in parts(test_alert)[0]
