"""Quotas per data category at intake (ingest.quota): sessions, check-ins, logs and security reports each have a
per-project quota of their own, answered with X-Sentry-Rate-Limits naming only that category, and one category's
full quota never refuses another's items. Everything goes through the real endpoints, digest included (it runs in
the request in the test settings), and the stored rows are counted.
"""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.test import TestCase

from events.models import Event
from health.models import SessionBucket
from ingest import quota
from ingest.tests.test_security_reports import report_to_entry, report_uri_body
from logs.models import LogEntry
from monitors.models import CheckIn
from testing.utils import auth_header, exception_event

HOUR_START = 1_800_000_000
NOW = HOUR_START + 17.25  # 43 s left in the minute
NOW_DT = datetime.fromtimestamp(NOW, UTC)


@pytest.fixture(autouse=True)
def quotas(settings, monkeypatch):
    quota.reset()
    settings.CELERY_BROKER_URL = ""
    for name in (
        "QUOTA_EVENTS_PER_MINUTE",
        "QUOTA_EVENTS_PER_HOUR",
        "QUOTA_INSTALLATION_EVENTS_PER_MINUTE",
        "QUOTA_INSTALLATION_EVENTS_PER_HOUR",
        "QUOTA_SESSIONS_PER_MINUTE",
        "QUOTA_SESSIONS_PER_HOUR",
        "QUOTA_CHECK_INS_PER_MINUTE",
        "QUOTA_CHECK_INS_PER_HOUR",
        "LOGS_QUOTA_PER_MINUTE",
        "QUOTA_LOGS_PER_HOUR",
        "QUOTA_SECURITY_REPORTS_PER_MINUTE",
        "QUOTA_SECURITY_REPORTS_PER_HOUR",
    ):
        setattr(settings, name, 0)
    monkeypatch.setattr(quota, "clock", lambda: NOW)
    yield
    quota.reset()


def session_item(sid=None) -> tuple[dict, bytes]:
    started = (datetime.now(UTC) - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    data = {
        "sid": sid or uuid.uuid4().hex,
        "init": True,
        "started": started,
        "timestamp": started,
        "status": "exited",
        "errors": 0,
        "attrs": {"release": "shop@1.0", "environment": "production"},
    }
    return {"type": "session"}, json.dumps(data).encode()


def check_in_item(status="ok") -> tuple[dict, bytes]:
    data = {
        "check_in_id": uuid.uuid4().hex,
        "monitor_slug": "nightly",
        "status": status,
        "monitor_config": {"schedule": {"type": "crontab", "value": "0 3 * * *"}},
    }
    return {"type": "check_in"}, json.dumps(data).encode()


def log_item(count=1) -> tuple[dict, bytes]:
    now = datetime.now(UTC).timestamp()
    logs = [{"timestamp": now, "level": "info", "body": f"log {i}", "attributes": {}} for i in range(count)]
    headers = {"type": "log", "item_count": count, "content_type": "application/vnd.sentry.items.log+json"}
    return headers, json.dumps({"items": logs}).encode()


def event_item() -> tuple[dict, bytes]:
    return {"type": "event"}, json.dumps(exception_event()).encode()


def span_item(count) -> tuple[dict, bytes]:
    return {"type": "span", "item_count": count, "content_type": "application/vnd.sentry.items.span.v2+json"}, b"{}"


def envelope(*items) -> bytes:
    parts = [json.dumps({"event_id": uuid.uuid4().hex}).encode()]
    for headers, payload in items:
        parts += [json.dumps({**headers, "length": len(payload)}).encode(), payload]
    return b"\n".join(parts) + b"\n"


def post(client, project, *items):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            f"/api/{project.pk}/envelope/",
            data=envelope(*items),
            content_type="application/x-sentry-envelope",
            **auth_header(project),
        )


def post_security(client, project, body: bytes, content_type="application/csp-report"):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            f"/api/{project.pk}/security/?sentry_key={project.sentry_key}", data=body, content_type=content_type
        )


def stored(project) -> dict[str, int]:
    return {
        "session": sum(b.started for b in SessionBucket.objects.filter(project=project)),
        "check_in": CheckIn.objects.filter(monitor__project=project).count(),
        "log": LogEntry.objects.filter(project=project).count(),
        "event": Event.objects.filter(project=project).count(),
    }


STREAMS = {
    "session": (session_item, "QUOTA_SESSIONS_PER_MINUTE", "session", "session items"),
    "check_in": (check_in_item, "QUOTA_CHECK_INS_PER_MINUTE", "monitor", "check-ins"),
    "log": (log_item, "LOGS_QUOTA_PER_MINUTE", "log_item", "logs"),
}


@pytest.mark.parametrize("stream", list(STREAMS))
def test_each_stream_has_a_quota_of_its_own(client, project, settings, stream):
    make_item, setting, category, noun = STREAMS[stream]
    setattr(settings, setting, 2)
    assert [post(client, project, make_item()).status_code for _ in range(2)] == [200, 200]

    refused = post(client, project, make_item())
    assert refused.status_code == 429, refused.content
    assert refused["Retry-After"] == "43"
    assert refused["X-Sentry-Rate-Limits"] == f"43:{category}:project:quota_exceeded"
    assert refused.json()["detail"] == (
        f"{noun[:-1]} quota exceeded: project {project.pk} accepts at most 2 {noun} per minute; retry in 43 s"
    )
    assert stored(project)[stream] == 2

    # the other categories flow on, and their answers do not mention this one
    others = [other for other in STREAMS if other != stream]
    for other in others:
        response = post(client, project, STREAMS[other][0]())
        assert response.status_code == 200 and "X-Sentry-Rate-Limits" not in response
    response = post(client, project, event_item())
    assert response.status_code == 200 and "X-Sentry-Rate-Limits" not in response
    counts = stored(project)
    assert counts[stream] == 2 and counts["event"] == 1 and all(counts[other] == 1 for other in others)
    assert quota.refused_counts(project.pk) == {category: 1}


def test_a_full_category_is_left_out_of_a_mixed_envelope(client, project, settings):
    settings.LOGS_QUOTA_PER_MINUTE = 1
    assert post(client, project, log_item()).status_code == 200
    response = post(client, project, event_item(), log_item(), session_item(), check_in_item())
    assert response.status_code == 200, response.content
    assert response.json()["id"]
    assert response["X-Sentry-Rate-Limits"] == "43:log_item:project:quota_exceeded"
    assert stored(project) == {"session": 1, "check_in": 1, "log": 1, "event": 1}


def test_a_full_event_quota_does_not_refuse_sessions_or_check_ins(client, project, settings):
    settings.QUOTA_EVENTS_PER_MINUTE = 1
    assert post(client, project, event_item()).status_code == 200
    # the Python SDK sends an error's session update in the error's envelope
    response = post(client, project, event_item(), session_item(), check_in_item())
    assert response.status_code == 200, response.content
    assert response["X-Sentry-Rate-Limits"] == "43:error;default:project:quota_exceeded"
    assert stored(project) == {"session": 1, "check_in": 1, "log": 0, "event": 1}
    # an envelope of nothing but a refused event is a 429, as before
    assert post(client, project, event_item()).status_code == 429
    assert quota.refused_counts(project.pk) == {quota.ERROR: 2}


def test_logs_count_by_item_count(client, project, settings):
    settings.LOGS_QUOTA_PER_MINUTE = 5
    assert post(client, project, log_item(3)).status_code == 200
    response = post(client, project, log_item(3))  # 3 + 3 > 5: the item is refused as a whole
    assert response.status_code == 429
    assert post(client, project, log_item(2)).status_code == 200
    assert stored(project)["log"] == 5
    assert quota.refused_counts(project.pk) == {quota.LOG_ITEM: 3}


def test_two_full_categories_are_both_named(client, project, settings):
    settings.LOGS_QUOTA_PER_MINUTE = 1
    settings.QUOTA_CHECK_INS_PER_HOUR = 1
    assert post(client, project, log_item(), check_in_item()).status_code == 200
    response = post(client, project, log_item(), check_in_item())
    assert response.status_code == 429
    limits = {entry.strip() for entry in response["X-Sentry-Rate-Limits"].split(",")}
    assert limits == {"43:log_item:project:quota_exceeded", "3583:monitor:project:quota_exceeded"}
    assert response["Retry-After"] == "3583"

    # spans are only counted (ingest.not_kept): the envelope is accepted for them, both answers in one header
    response = post(client, project, log_item(), span_item(3))
    assert response.status_code == 200
    limits = [entry.strip() for entry in response["X-Sentry-Rate-Limits"].split(",")]
    assert limits[0] == "43:log_item:project:quota_exceeded"
    assert limits[1].endswith(":organization:not_kept") and "span" in limits[1]


def test_security_reports_have_their_own_quota(client, project, settings):
    settings.QUOTA_SECURITY_REPORTS_PER_MINUTE = 3
    settings.QUOTA_EVENTS_PER_MINUTE = 1
    assert post_security(client, project, report_uri_body()).status_code == 200
    assert post_security(client, project, report_uri_body()).status_code == 200  # not counted as events
    assert post(client, project, event_item()).status_code == 200  # nor do they use up the event quota

    # a report-to batch of two would go over: refused as a whole
    batch = json.dumps([report_to_entry(), report_to_entry("https://other.example/b.js")]).encode()
    response = post_security(client, project, batch, content_type="application/reports+json")
    assert response.status_code == 429
    assert response["X-Sentry-Rate-Limits"] == "43:security:project:quota_exceeded"
    assert post_security(client, project, report_uri_body()).status_code == 200
    refused = post_security(client, project, b"not even read")
    assert refused.status_code == 429  # full: refused before the body is read
    assert Event.objects.filter(project=project).count() == 4
    assert quota.refused_counts(project.pk) == {quota.SECURITY: 3}


def test_another_projects_quota_is_its_own(client, project, settings):
    from projects.models import Project

    other = Project.objects.create(name="Other", slug="other")
    settings.QUOTA_SESSIONS_PER_MINUTE = 1
    assert post(client, project, session_item()).status_code == 200
    assert post(client, project, session_item()).status_code == 429
    assert post(client, other, session_item()).status_code == 200
    assert quota.refused_counts(other.pk) == {}


@pytest.mark.parametrize("make_counter", ["in_process", "redis"])
def test_counters_take_amounts(make_counter, settings):
    from testing.utils import live_redis_url, redis_up, require_service

    if make_counter == "redis":
        require_service(redis_up(), "Redis")
        import redis

        url = live_redis_url(12)
        redis.Redis.from_url(url).flushdb()
        counter = quota.RedisCounter(url)
    else:
        counter = quota.InProcessCounter()
    limits = [quota.Limit("project", "project:1:log_item", quota.MINUTE, 10, quota.LOG_ITEM)]
    assert counter.add(limits, NOW, 6) == []
    assert counter.add(limits, NOW, 5) == limits  # 11 > 10: refused, not counted
    assert counter.count(limits[0], NOW) == 6
    assert counter.add(limits, NOW, 4) == []
    counter.remove(limits, NOW, 4)
    assert counter.count(limits[0], NOW) == 6
    counter.add_refused("refused:x", 3, NOW + 100)
    counter.add_refused("refused:x", 2, NOW + 100)
    assert counter.get_many(["refused:x", "refused:y"]) == [5, 0]


def test_refusals_are_shown_on_the_project_page(client, project, settings):
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from projects.models import ProjectMembership

    user = get_user_model().objects.create_user("ada", password="pw")
    ProjectMembership.objects.create(project=project, user=user)
    settings.LOGS_QUOTA_PER_MINUTE = 1
    settings.QUOTA_CHECK_INS_PER_MINUTE = 1
    page = lambda: client.get(reverse("issues:project", args=[project.pk])).content.decode()  # noqa: E731
    client.force_login(user)
    assert "data-refused-over-quota" not in page()
    post(client, project, log_item(), check_in_item())
    post(client, project, log_item(4), check_in_item())
    shown = page()
    assert "data-refused-over-quota" in shown
    assert "4 logs, 1 check-in." in shown
