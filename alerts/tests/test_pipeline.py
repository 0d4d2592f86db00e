"""The whole pipeline on real parts: the web server (never digests), Redis as the broker, a Celery digest worker
(`-Q digest`, the owner of the period-counter registry) and an alerts worker (`-Q alerts`), an SMTP sink and a
webhook receiver, all on loopback.

Mute "until 3 events in the last hour" from the web side, send events over HTTP, and the digest worker unmutes
the issue, writes the TurningPoint, and the alerts worker mails and posts about it; also after the digest worker
was restarted between events 2 and 3.
"""

import hashlib
import hmac
import time
import uuid

import pytest
import redis

from alerts.models import AlertChannel
from bugsink import jobs
from issues.models import Issue
from issues.state import STATE_FIELDS, IssueStateManager
from projects.models import Project, ProjectMembership
from testing.utils import (
    TEST_REDIS,
    exception_event,
    live_redis_url,
    make_envelope,
    redis_up,
    require_service,
    start_celery_worker,
    start_web_server,
    wait_until,
)

BROKER_URL = live_redis_url(13)  # a database of our own; flushed before each test


@pytest.fixture
def pipeline(transactional_db, tmp_path, smtp_sink, receiver, settings, django_user_model):
    require_service(redis_up(), f"Redis on {TEST_REDIS}")
    redis.Redis.from_url(BROKER_URL).flushdb()
    # "3 events in the last hour" counts calendar hours: the web server stamps the events' arrival on a clock that
    # starts one second into the current UTC hour (testing.settings), so the hour cannot roll over between them
    # however late in the hour the test runs, and the test never waits for the wall clock
    received_clock_start = int(time.time()) // 3600 * 3600 + 1

    ingest_dir = tmp_path / "ingest"
    project = Project.objects.create(name="Pipeline", slug="pipe")
    user = django_user_model.objects.create_user("ops", email="ops@example.com")
    ProjectMembership.objects.create(project=project, user=user)
    channel = AlertChannel.objects.create(project=project, name="ops hook", kind="webhook", url=receiver.url())

    env = {
        "CELERY_BROKER_URL": BROKER_URL,
        "INGEST_STORE_DIR": str(ingest_dir),
        "BASE_URL": "http://bugsink.example.com",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(settings.EMAIL_PORT),
        "ALERTS_ALLOW_PRIVATE_WEBHOOK_TARGETS": "1",
        "ALERT_RETRY_BACKOFF_SECONDS": "0.2",
        "BUGSINK_TEST_RECEIVED_CLOCK_START": str(received_clock_start),
    }
    (tmp_path / "web").mkdir()
    with (
        start_web_server(tmp_path / "web", extra_env=env) as url,
        start_celery_worker(tmp_path, "digest", env) as digest_worker,
        start_celery_worker(tmp_path, "alerts", env) as alerts_worker,
    ):
        yield {
            "url": url,
            "project": project,
            "channel": channel,
            "env": env,
            "tmp_path": tmp_path,
            "workers": {"digest": digest_worker, "alerts": alerts_worker},
            "received_clock_start": received_clock_start,
        }


def send(pipeline, event: dict) -> str:
    import urllib.request

    project = pipeline["project"]
    event = {**event, "event_id": uuid.uuid4().hex}
    request = urllib.request.Request(
        f"{pipeline['url']}/api/{project.pk}/envelope/?sentry_key={project.sentry_key}",
        data=make_envelope(event),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    return event["event_id"]


def wait_for(pipeline, what: str, condition) -> None:
    """Wait (bounded) for something the workers do; the failure shows their logs."""

    def worker_logs() -> str:
        return "\n".join(worker.output() for worker in pipeline["workers"].values())

    wait_until(condition, 60, message=what, details=worker_logs)


def event_count(project) -> int:
    return sum(Issue.objects.filter(project=project).values_list("event_count", flat=True))


def valid_signature(request, secret: str) -> bool:
    headers = {k.lower(): v for k, v in request["headers"].items()}
    expected = hmac.new(
        secret.encode(), headers["x-bugsink-timestamp"].encode() + b"." + request["body"], hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(headers["x-bugsink-signature"], f"sha256={expected}")


def alerts_of_kind(receiver, kind: str) -> list[dict]:
    return [r for r in receiver.requests if receiver_json(r)["kind"] == kind]


def receiver_json(request) -> dict:
    import json

    return json.loads(request["body"])


def run_mute_scenario(pipeline, smtp_sink, receiver, restart_between: bool):
    project, channel = pipeline["project"], pipeline["channel"]

    # event 1: a new issue, digested by the worker, announced by email and webhook
    send(pipeline, exception_event("ConnectionError", "database unreachable"))
    wait_for(pipeline, "the first event to be digested", lambda: event_count(project) == 1)
    issue = Issue.objects.get(project=project)
    wait_for(pipeline, "the new-issue alerts", lambda: len(smtp_sink.envelopes) == 1 and len(receiver.requests) == 1)
    assert smtp_sink.messages[0]["Subject"] == "[Pipeline] New issue PIPE-1: ConnectionError: database unreachable"
    assert receiver_json(receiver.requests[0])["kind"] == "new_issue"

    # mute from the web side (this process, not the digest worker): the condition lives in the database
    issue = Issue.objects.get(pk=issue.pk)
    IssueStateManager.mute(issue, conditions=[{"period": "hour", "nr_of_periods": 1, "volume": 3}])
    issue.save(update_fields=STATE_FIELDS)

    send(pipeline, exception_event("ConnectionError", "database unreachable"))
    wait_for(pipeline, "the second event", lambda: event_count(project) == 2)
    assert Issue.objects.get(pk=issue.pk).is_muted

    if restart_between:
        digest = pipeline["workers"]["digest"]
        digest.stop()
        digest.__enter__()  # a new process: its registry starts empty, warm from the persisted counts

    send(pipeline, exception_event("ConnectionError", "database unreachable"))
    wait_for(pipeline, "the unmute", lambda: not Issue.objects.get(pk=issue.pk).is_muted)
    issue = Issue.objects.get(pk=issue.pk)
    assert issue.event_count == 3
    # the events were stamped on the test's clock, in the hour it started (a test never lasts ten minutes)
    for ingested_at in issue.events.values_list("ingested_at", flat=True):
        assert 0 <= ingested_at.timestamp() - pipeline["received_clock_start"] < 600
    unmuted = issue.turning_points.get(kind="unmuted")
    assert unmuted.metadata == {"reason": "3 events in the last hour"}
    assert unmuted.triggering_event.event_id == issue.events.order_by("-digest_order").first().event_id

    wait_for(pipeline, "the unmute alerts", lambda: len(smtp_sink.envelopes) == 2 and len(receiver.requests) == 2)
    unmute_mail = smtp_sink.messages[1]
    assert unmute_mail["Subject"] == "[Pipeline] Unmuted PIPE-1: ConnectionError: database unreachable"
    assert unmute_mail["To"] == "ops@example.com"
    text = unmute_mail.get_body(preferencelist=("plain",)).get_content()
    assert "3 events in the last hour" in text
    assert f"http://bugsink.example.com{issue.get_absolute_url()}" in text
    (hook,) = alerts_of_kind(receiver, "unmute")
    assert receiver_json(hook)["reason"] == "3 events in the last hour"
    assert all(valid_signature(r, channel.secret) for r in receiver.requests)
    return issue


@pytest.mark.slow
def test_volume_based_unmute_through_the_whole_pipeline(pipeline, smtp_sink, receiver, monkeypatch):
    issue = run_mute_scenario(pipeline, smtp_sink, receiver, restart_between=False)

    # and a regression: resolved from the web side, then the error comes back
    IssueStateManager.resolve(issue)
    issue.save(update_fields=STATE_FIELDS)
    send(pipeline, exception_event("ConnectionError", "database unreachable"))
    wait_for(pipeline, "the regression", lambda: not Issue.objects.get(pk=issue.pk).is_resolved)
    wait_for(pipeline, "the regression alerts", lambda: len(smtp_sink.envelopes) == 3 and len(receiver.requests) == 3)
    assert smtp_sink.messages[2]["Subject"].startswith("[Pipeline] Regression PIPE-1")
    assert len(alerts_of_kind(receiver, "regression")) == 1

    # nothing is sent for the implicit unmute of resolve/reopen: no job is even asked for
    asked = []
    monkeypatch.setattr(jobs, "_run", lambda name, *args, **options: asked.append(name))
    IssueStateManager.mute(issue := Issue.objects.get(pk=issue.pk))
    IssueStateManager.resolve(issue)
    issue.save(update_fields=STATE_FIELDS)
    IssueStateManager.reopen(issue)
    issue.save(update_fields=STATE_FIELDS)
    assert asked == []
    assert len(smtp_sink.envelopes) == 3 and len(receiver.requests) == 3


@pytest.mark.slow
def test_counts_survive_a_restart_of_the_digest_worker(pipeline, smtp_sink, receiver):
    run_mute_scenario(pipeline, smtp_sink, receiver, restart_between=True)
