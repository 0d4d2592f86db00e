"""A real Celery worker on Redis (`celery worker -Q alerts`) delivering an unmute alert to the SMTP sink and a
webhook, retrying the webhook through the broker (self.retry with a countdown)."""

import pytest
from celery import Celery

from alerts.dispatch import send_unmute_alert
from alerts.models import AlertChannel, DeliveryAttempt
from testing.utils import TEST_REDIS, live_redis_url, redis_up, require_service, start_celery_worker, wait_until

# a Redis database of our own, so other tests' queues are not disturbed
BROKER_URL = live_redis_url(14)


@pytest.fixture
def alerts_worker(tmp_path, smtp_sink, settings):
    require_service(redis_up(), f"Redis on {TEST_REDIS}")
    env = {
        "BASE_URL": settings.BASE_URL,
        "CELERY_BROKER_URL": BROKER_URL,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(settings.EMAIL_PORT),
        "ALERTS_ALLOW_PRIVATE_WEBHOOK_TARGETS": "1",
        "ALERT_RETRY_BACKOFF_SECONDS": "0.2",
        "ALERT_MAX_RETRIES": "3",
    }
    client = Celery(broker=BROKER_URL)
    with start_celery_worker(tmp_path, "alerts", env) as worker:
        try:
            yield client, worker.log_path
        finally:
            client.close()


@pytest.mark.slow
def test_worker_delivers_unmute_alert_and_retries_through_the_broker(
    transactional_db, alerts_worker, smtp_sink, receiver, members, issue
):
    client, log_path = alerts_worker
    hook = AlertChannel.objects.create(project=issue.project, name="hook", kind="webhook", url=receiver.url())
    receiver.script = [500, 200]

    client.send_task(send_unmute_alert.name, args=[str(issue.pk), "5 events in the last hour"], queue="alerts")

    wait_until(
        lambda: DeliveryAttempt.objects.filter(status="sent").count() >= 2,
        60,
        message="the email and the retried webhook to be sent",
        details=log_path.read_text,
    )
    attempts = list(
        DeliveryAttempt.objects.order_by("created_at", "id").values_list("channel_kind", "attempt", "status")
    )
    assert sorted(attempts) == [("email", 1, "sent"), ("webhook", 1, "failed"), ("webhook", 2, "sent")], (
        log_path.read_text()
    )

    message = smtp_sink.messages[0]
    assert message["Subject"] == "[My App] Unmuted MYAPP-12: ValueError: bad value"
    assert "5 events in the last hour" in message.get_body(preferencelist=("plain",)).get_content()
    assert smtp_sink.recipients() == ["alice@example.com", "bob@example.com"]
    assert [r["path"] for r in receiver.requests] == ["/hook", "/hook"]
    assert receiver.json()["reason"] == "5 events in the last hour"
    assert DeliveryAttempt.objects.filter(channel=hook).count() == 2
