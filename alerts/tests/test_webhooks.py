"""Webhook alerts (Slack, Discord, generic signed JSON) to a real HTTP receiver on 127.0.0.1."""

import hashlib
import hmac
import time

import pytest

from alerts import dispatch
from alerts.models import AlertChannel, DeliveryAttempt
from bugsink.jobs import wait_idle as wait_for_background_alerts


@pytest.fixture
def channel(project, receiver):
    def make(kind="webhook", path="/hook", **kwargs):
        return AlertChannel.objects.create(
            project=project, name=f"{kind} hook", kind=kind, url=receiver.url(path), **kwargs
        )

    return make


def verify_signature(request: dict, secret: str) -> bool:
    """What a receiver does: HMAC over timestamp + "." + the raw body, constant-time compare."""
    timestamp = request["headers"]["X-Bugsink-Timestamp"]
    expected = (
        "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + request["body"], hashlib.sha256).hexdigest()
    )
    return hmac.compare_digest(expected, request["headers"]["X-Bugsink-Signature"])


def test_generic_webhook_is_signed_json(allow_loopback, receiver, channel, issue):
    hook = channel("webhook")
    dispatch.send_new_issue_alert.task.apply(args=[str(issue.pk)])

    request = receiver.requests[0]
    assert request["headers"]["Content-Type"] == "application/json"
    assert verify_signature(request, hook.secret)
    assert not verify_signature(request, "another secret")
    assert abs(int(request["headers"]["X-Bugsink-Timestamp"]) - time.time()) < 60
    body = receiver.json()
    assert body["kind"] == "new_issue"
    assert body["project"] == {"id": issue.project.pk, "name": "My App", "slug": "myapp"}
    assert body["issue"] == {
        "id": str(issue.pk),
        "short_id": "MYAPP-12",
        "title": "ValueError: bad value",
        "culprit": "app.views in handle",
        "event_count": 7,
        "first_seen": "2026-05-02T12:30:00+00:00",
        "last_seen": "2026-05-04T12:30:00+00:00",
        "url": f"http://127.0.0.1:8000/issues/{issue.pk}/",
    }
    assert body["reason"] is None and body["event_id"] is None and body["sent_at"]

    record = DeliveryAttempt.objects.get()
    assert (record.channel_kind, record.channel, record.status, record.attempt) == ("webhook", hook, "sent", 1)
    assert record.target == receiver.url()


def test_generic_webhook_carries_reason_and_event_id(allow_loopback, receiver, channel, issue):
    hook = channel("webhook")
    dispatch.send_unmute_alert.task.apply(args=[str(issue.pk), "5 events in the last hour"])
    dispatch.send_regression_alert.task.apply(args=[str(issue.pk), "c" * 32])
    unmute, regression = receiver.json(0), receiver.json(1)
    assert (unmute["kind"], unmute["reason"], unmute["event_id"]) == ("unmute", "5 events in the last hour", None)
    assert (regression["kind"], regression["reason"], regression["event_id"]) == ("regression", None, "c" * 32)
    assert all(verify_signature(r, hook.secret) for r in receiver.requests)


def test_slack_payload(allow_loopback, receiver, channel, issue):
    issue.calculated_value = "a < b & c > d"
    issue.save()
    channel("slack")
    dispatch.send_unmute_alert.task.apply(args=[str(issue.pk), "5 events in the last hour"])

    request = receiver.requests[0]
    assert "X-Bugsink-Signature" not in request["headers"]
    body = receiver.json()
    assert body["text"] == "Unmuted in My App: MYAPP-12 ValueError: a &lt; b &amp; c &gt; d"
    section = body["blocks"][0]["text"]["text"]
    assert f"<http://127.0.0.1:8000/issues/{issue.pk}/|MYAPP-12: ValueError: a &lt; b" in section
    assert "Unmuted because: 5 events in the last hour" in section
    context = [e["text"] for e in body["blocks"][1]["elements"]]
    assert "app.views in handle" in context and "7 events" in context
    assert DeliveryAttempt.objects.get().channel_kind == "slack"


def test_discord_payload(allow_loopback, receiver, channel, issue):
    channel("discord")
    dispatch.send_new_issue_alert.task.apply(args=[str(issue.pk)])
    body = receiver.json()
    assert body["content"] == "**New issue** in My App"
    assert body["allowed_mentions"] == {"parse": []}
    (embed,) = body["embeds"]
    assert embed["title"] == "MYAPP-12: ValueError: bad value"
    assert embed["url"] == f"http://127.0.0.1:8000/issues/{issue.pk}/"
    assert embed["description"] == "app.views in handle"
    assert {"name": "Events", "value": "7", "inline": True} in embed["fields"]
    assert DeliveryAttempt.objects.get().channel_kind == "discord"


def test_every_active_channel_gets_one_and_inactive_ones_none(allow_loopback, receiver, channel, issue):
    channel("slack", "/slack")
    channel("discord", "/discord")
    channel("webhook", "/generic")
    channel("webhook", "/off", is_active=False)
    assert dispatch.send_new_issue_alert.task.apply(args=[str(issue.pk)]).get() == 3
    assert sorted(r["path"] for r in receiver.requests) == ["/discord", "/generic", "/slack"]
    assert DeliveryAttempt.objects.filter(status="sent").count() == 3


def test_a_failing_webhook_is_retried_with_backoff_and_every_attempt_recorded(
    allow_loopback, receiver, channel, issue, transactional_db
):
    hook = channel("webhook")
    receiver.script = [500, 500, 200]
    result = dispatch.deliver_webhook.task.apply(args=[hook.pk, str(issue.pk), "new_issue", {}])
    assert result.get() == "retrying"
    assert wait_for_background_alerts(20)

    records = DeliveryAttempt.objects.order_by("attempt")
    assert [(r.attempt, r.status) for r in records] == [(1, "failed"), (2, "failed"), (3, "sent")]
    assert records[0].error == "HTTP 500: receiver says no"
    assert len(receiver.requests) == 3
    # the same alert each time, each signed
    assert all(verify_signature(r, hook.secret) for r in receiver.requests)


def test_retries_stop_at_the_maximum(allow_loopback, settings, receiver, channel, issue, transactional_db):
    settings.ALERT_MAX_RETRIES = 1
    hook = channel("webhook")
    receiver.script = [503, 503, 503]
    dispatch.deliver_webhook.task.apply(args=[hook.pk, str(issue.pk), "new_issue", {}])
    assert wait_for_background_alerts(20)
    assert list(DeliveryAttempt.objects.order_by("attempt").values_list("status", flat=True)) == ["failed", "failed"]
    assert len(receiver.requests) == 2


def test_a_redirect_is_a_failure_and_not_retried(allow_loopback, receiver, channel, issue):
    hook = channel("webhook")
    receiver.script = [302]
    assert dispatch.deliver_webhook.task.apply(args=[hook.pk, str(issue.pk), "new_issue", {}]).get() == "failed"
    record = DeliveryAttempt.objects.get()
    assert record.status == "failed" and "302 redirect" in record.error
    assert [r["path"] for r in receiver.requests] == ["/hook"]  # /elsewhere was never asked


def test_a_client_error_is_not_retried(allow_loopback, receiver, channel, issue):
    hook = channel("slack")
    receiver.script = [404]
    assert dispatch.deliver_webhook.task.apply(args=[hook.pk, str(issue.pk), "new_issue", {}]).get() == "failed"
    assert DeliveryAttempt.objects.get().error == "HTTP 404: receiver says no"


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/hook", "http://10.0.0.1/hook", "http://169.254.169.254/hook", "http://[::1]:9/hook"]
)
def test_a_private_target_is_refused_recorded_and_not_retried(project, issue, monkeypatch, url):
    from alerts import outbound

    monkeypatch.setattr(outbound, "_connect", lambda *a: pytest.fail("a connection was attempted"))
    hook = AlertChannel.objects.create(project=project, name="internal", kind="webhook", url=url)
    assert dispatch.send_new_issue_alert.task.apply(args=[str(issue.pk)]).get() == 1
    record = DeliveryAttempt.objects.get()
    assert (record.status, record.attempt, record.channel) == ("refused", 1, hook)
    assert "not a public address" in record.error


def test_a_webhook_failure_does_not_stop_email_or_other_channels(
    allow_loopback, receiver, channel, smtp_sink, members, issue, monkeypatch
):
    from alerts import delivery

    broken = channel("webhook", "/broken")
    channel("slack", "/slack")
    real = delivery.webhook_request

    def webhook_request(kind, secret, alert):
        if secret == broken.secret:
            raise RuntimeError("a bug in a payload builder")
        return real(kind, secret, alert)

    monkeypatch.setattr(delivery, "webhook_request", webhook_request)
    assert dispatch.send_new_issue_alert.task.apply(args=[str(issue.pk)]).get() == 3
    assert [r["path"] for r in receiver.requests] == ["/slack"]
    assert len(smtp_sink.envelopes) == 2
    statuses = dict(DeliveryAttempt.objects.values_list("target", "status"))
    assert statuses[receiver.url("/broken")] == "failed" and statuses[receiver.url("/slack")] == "sent"


def test_switch_off_sends_no_webhook(allow_loopback, receiver, channel, issue):
    channel("webhook")
    issue.project.alert_on_new_issue = False
    issue.project.save()
    dispatch.send_new_issue_alert.task.apply(args=[str(issue.pk)])
    assert receiver.requests == [] and not DeliveryAttempt.objects.exists()


def test_a_deleted_issue_or_channel_is_skipped(allow_loopback, receiver, channel, issue):
    hook = channel("webhook")
    assert dispatch.deliver_webhook.task.apply(args=[hook.pk + 1000, str(issue.pk), "new_issue", {}]).get() == "skipped"
    issue_id = str(issue.pk)
    issue.delete()
    assert dispatch.deliver_webhook.task.apply(args=[hook.pk, issue_id, "new_issue", {}]).get() == "skipped"
    assert dispatch.send_new_issue_alert.task.apply(args=[issue_id]).get() == 0
    assert receiver.requests == []
