"""Structured logs through the real ingest endpoint (the `log` envelope item, as the Python SDK sends it): kept with
their attributes, bounded (per item, per minute, retention by count and age), tolerant of any payload, and shown on
the Logs page, searched and linked both ways with the events of their trace."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import TestCase
from django.urls import reverse

from events.models import Event
from logs import retention
from logs.digest import MAX_LOGS_PER_ITEM
from logs.models import LogEntry, LogStats
from projects.models import ProjectMembership
from testing.utils import auth_header, exception_event

TRACE = "771a43a4192642f0b136d5159a501700"


def sdk_log(body="Order 42 paid by ada", level="info", trace_id=TRACE, when=None, **attributes) -> dict:
    """One log as sentry-python 2.x/3.x serializes it (sentry_sdk.logger.info("Order {order_id} ...", ...))."""
    attrs = {
        "sentry.message.template": {"value": "Order {order_id} paid by {user}", "type": "string"},
        "sentry.message.parameter.order_id": {"value": 42, "type": "integer"},
        "sentry.message.parameter.user": {"value": "ada", "type": "string"},
        "sentry.environment": {"value": "production", "type": "string"},
        "sentry.release": {"value": "shop@1.2.3", "type": "string"},
        "sentry.sdk.name": {"value": "sentry.python", "type": "string"},
    }
    attrs.update({k: {"value": v, "type": "string"} for k, v in attributes.items()})
    return {
        "timestamp": (when or datetime.now(UTC)).timestamp(),
        "trace_id": trace_id,
        "level": level,
        "severity_number": 9,
        "body": body,
        "attributes": attrs,
    }


def log_item(logs: list, with_length=True) -> tuple[dict, bytes]:
    payload = json.dumps({"items": logs}).encode()
    headers = {"type": "log", "item_count": len(logs), "content_type": "application/vnd.sentry.items.log+json"}
    if with_length:
        headers["length"] = len(payload)
    return headers, payload


def envelope(*items, event: dict | None = None) -> bytes:
    parts = [json.dumps({"event_id": uuid.uuid4().hex}).encode()]
    if event is not None:
        payload = json.dumps(event).encode()
        parts += [json.dumps({"type": "event", "length": len(payload)}).encode(), payload]
    for headers, payload in items:
        parts += [json.dumps(headers).encode(), payload]
    return b"\n".join(parts) + b"\n"


def post(client, project, body: bytes):
    # with the commit's callbacks run, as on a server: the raw record is gone once digested
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            f"/api/{project.pk}/envelope/",
            data=body,
            content_type="application/x-sentry-envelope",
            **auth_header(project),
        )
    assert response.status_code == 200, response.content
    return response


@pytest.fixture
def member_client(client, project):
    user = get_user_model().objects.create_user("ada", password="pw")
    ProjectMembership.objects.create(project=project, user=user)
    client.force_login(user)
    return client


def test_a_python_sdk_log_item_is_kept_with_its_attributes(client, project):
    post(client, project, envelope(log_item([sdk_log(), sdk_log("Disk full", level="error")])))
    first, second = LogEntry.objects.filter(project=project).order_by("id")
    assert (first.body, first.level, first.trace_id) == ("Order 42 paid by ada", "info", TRACE)
    assert first.template == "Order {order_id} paid by {user}"
    assert (first.release, first.environment) == ("shop@1.2.3", "production")
    assert json.loads(first.attributes_json)["sentry.message.parameter.order_id"] == 42
    assert second.level == "error"
    assert LogStats.objects.get(project=project).stored_count == 2


def test_logs_are_scrubbed_as_the_projects_events_are(client, project):
    secret = uuid.uuid4().hex
    leaky = sdk_log(
        "charging card 5500 0000 0000 0004 failed",
        level="error",
        **{
            "sentry.message.template": "charging card %s with token=%s, see https://app:pw-url@db.internal/x",
            "sentry.message.parameter.0": "5500 0000 0000 0004",
            "db_password": f"pw-{secret}",
            "request.header": f"Bearer tok-{secret}",
            "sentry.release": "shop@4111111111111111",  # bookkeeping, kept as an event's release is
        },
    )
    post(client, project, envelope(log_item([leaky, sdk_log(tenant="acme")])))
    entry = LogEntry.objects.get(project=project, level="error")
    assert entry.body == "charging card [Filtered] failed"
    # the template is code: card numbers and URL passwords go, `token=%s` (no secret) stays
    assert entry.template == "charging card %s with token=%s, see https://app:[Filtered]@db.internal/x"
    attributes = json.loads(entry.attributes_json)
    assert attributes["sentry.message.parameter.0"] == "[Filtered]"
    assert attributes["db_password"] == "[Filtered]"
    assert attributes["request.header"] == "Bearer [Filtered]"
    assert attributes["sentry.message.template"] == entry.template
    assert (
        attributes["sentry.message.parameter.order_id"] == 42 and attributes["sentry.message.parameter.user"] == "ada"
    )
    assert entry.release == attributes["sentry.release"] == "shop@4111111111111111"
    assert list(attributes) == list(leaky["attributes"])  # in the order the SDK sent them
    stored = json.dumps([list(LogEntry.objects.filter(project=project).values())], default=str)
    assert secret not in stored and "5500 0000 0000 0004" not in stored and "pw-url" not in stored

    # the project's own settings: an extra sensitive field filters where it appears; the defaults can be turned off
    project.scrub_sensitive_fields = "tenant"
    project.scrub_defaults = False
    project.save()
    post(client, project, envelope(log_item([leaky, sdk_log(tenant="acme")])))
    raw, tenant = LogEntry.objects.filter(project=project).order_by("-id")[:2][::-1]
    assert raw.body == "charging card 5500 0000 0000 0004 failed"
    assert json.loads(tenant.attributes_json)["tenant"] == "[Filtered]"


def test_logs_beside_an_event_link_by_trace(client, project):
    event = exception_event(contexts={"trace": {"trace_id": TRACE, "span_id": "a" * 16}})
    post(client, project, envelope(log_item([sdk_log()]), event=event))
    assert Event.objects.get(project=project).trace_id == TRACE
    assert LogEntry.objects.get(project=project).trace_id == TRACE


@pytest.mark.parametrize(
    "payload, reason",
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"items": [1, {"level": "info"}]}', "a log without a body"),
        (b"\xff\xfe{", "not JSON"),
        (b'{"items": [{"body": "x", "attributes": [1], "timestamp": "soon", "level": 7, "trace_id": {"a": 1}}]}', ""),
    ],
)
def test_any_payload_is_counted_never_raised(client, project, payload, reason):
    post(client, project, envelope(({"type": "log"}, payload), log_item([sdk_log()])))
    stats = LogStats.objects.get(project=project)
    kept = LogEntry.objects.filter(project=project)
    if reason:
        assert reason in stats.last_drop_reason
        assert stats.dropped_count >= 1
    assert kept.count() == stats.stored_count >= 1
    odd = kept.filter(body="x").first()
    if odd is not None:
        assert (odd.level, odd.trace_id, odd.attributes_json) == ("info", "", "{}")


def test_an_item_over_its_limits_is_counted(client, project, settings):
    settings.LOGS_QUOTA_PER_MINUTE = 0
    many = [{"body": f"line {i}"} for i in range(MAX_LOGS_PER_ITEM + 7)]
    post(client, project, envelope(log_item(many)))
    stats = LogStats.objects.get(project=project)
    assert stats.stored_count == MAX_LOGS_PER_ITEM
    assert stats.dropped_count == 7
    assert f"more than {MAX_LOGS_PER_ITEM} logs" in stats.last_drop_reason
    huge = ({"type": "log"}, json.dumps({"items": [{"body": "y" * (2 * 1024 * 1024)}]}).encode())
    post(client, project, envelope(huge))
    stats.refresh_from_db()
    assert stats.dropped_count == 8 and "byte limit" in stats.last_drop_reason


def test_the_quota_per_minute_is_kept_at_digest_too(client, project, settings):
    """Intake counts an item's logs by its item_count header (ingest.quota; tests in ingest/tests/
    test_category_quotas.py); digest counts the logs the item really holds, so an understated count gains nothing."""
    settings.LOGS_QUOTA_PER_MINUTE = 3
    post(client, project, envelope(log_item([sdk_log(f"m{i}") for i in range(2)])))
    headers, payload = log_item([sdk_log(f"n{i}") for i in range(2)])
    post(client, project, envelope(({**headers, "item_count": 1}, payload)))  # 2 + 1 passes intake
    stats = LogStats.objects.get(project=project)
    assert LogEntry.objects.filter(project=project).count() == 3
    assert (stats.dropped_count, stats.last_drop_reason) == (1, "over the quota of 3 logs per minute")


def test_retention_keeps_the_newest_by_count_and_drops_the_old_by_age(client, project, settings):
    settings.LOGS_RETENTION_MAX_ITEMS = 3
    start = datetime.now(UTC) - timedelta(hours=1)
    post(client, project, envelope(log_item([sdk_log(f"m{i}", when=start + timedelta(seconds=i)) for i in range(5)])))
    assert sorted(LogEntry.objects.values_list("body", flat=True)) == ["m2", "m3", "m4"]
    assert LogStats.objects.get(project=project).stored_count == 3

    settings.LOGS_RETENTION_MAX_AGE_DAYS = 2
    old = datetime.now(UTC) - timedelta(days=3)
    LogEntry.objects.filter(body="m2").update(timestamp=old)
    assert retention.expire_logs() == 1
    assert sorted(LogEntry.objects.values_list("body", flat=True)) == ["m3", "m4"]
    assert LogStats.objects.get(project=project).stored_count == 2


def test_the_periodic_job_is_scheduled(settings):
    from logs.retention import expire_logs

    assert expire_logs.name in {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert expire_logs.later()


# --- the Logs page ---------------------------------------------------------------------------------------------------


def page(client, project, **params):
    response = client.get(reverse("logs:project", args=[project.pk]), params)
    assert response.status_code == 200
    return response.content.decode()


def bodies(html: str) -> list[str]:
    import re

    return re.findall(r"<summary data-log-body>([^<]*)</summary>", html)


def test_the_page_searches_by_level_text_attribute_trace_and_time(client, member_client, project):
    now = datetime.now(UTC)
    other = "0" * 31 + "1"
    post(
        client,
        project,
        envelope(
            log_item(
                [
                    sdk_log("Order 42 paid by ada", when=now - timedelta(minutes=1)),
                    sdk_log("Disk full on db-1", level="error", host="db-1", when=now - timedelta(minutes=2)),
                    sdk_log("Old news", trace_id=other, when=now - timedelta(days=2)),
                ]
            )
        ),
    )
    html = page(member_client, project)
    assert bodies(html) == ["Order 42 paid by ada", "Disk full on db-1", "Old news"]
    assert "Order {order_id} paid by {user}" in html  # the template, in the row's details
    assert 'data-log-parameter="order_id">42<' in html
    assert bodies(page(member_client, project, level="error")) == ["Disk full on db-1"]
    assert bodies(page(member_client, project, q="level:error")) == ["Disk full on db-1"]
    assert bodies(page(member_client, project, q="paid ada")) == ["Order 42 paid by ada"]
    assert bodies(page(member_client, project, q='"full on"')) == ["Disk full on db-1"]
    assert bodies(page(member_client, project, q="host:db-1")) == ["Disk full on db-1"]
    assert bodies(page(member_client, project, q="host:db")) == []  # exact values
    assert len(bodies(page(member_client, project, q="sentry.message.parameter.order_id:42"))) == 3
    assert bodies(page(member_client, project, q=f"trace:{other}")) == ["Old news"]
    assert bodies(page(member_client, project, range="24h")) == ["Order 42 paid by ada", "Disk full on db-1"]
    html = page(member_client, project, q="level:loud")
    assert "data-invalid-terms" in html and bodies(html) == ["Order 42 paid by ada", "Disk full on db-1", "Old news"]


def test_the_page_pages_by_keyset(client, member_client, project, settings):
    from logs import views

    settings.LOGS_QUOTA_PER_MINUTE = 0
    now = datetime.now(UTC)
    same = now - timedelta(minutes=5)
    logs = [
        sdk_log(f"line {i}", when=same if i % 2 else now - timedelta(seconds=i)) for i in range(views.PER_PAGE + 10)
    ]
    post(client, project, envelope(log_item(logs)))
    seen = []
    url_params: dict = {}
    for _ in range(5):
        response = member_client.get(reverse("logs:project", args=[project.pk]), url_params)
        html = response.content.decode()
        seen += bodies(html)
        older = response.context["older_url"]
        if not older:
            break
        url_params = dict(part.split("=", 1) for part in older.removeprefix("?").split("&"))
        url_params = {k: v.replace("+", " ").replace("%3A", ":") for k, v in url_params.items()}
    assert sorted(seen) == sorted(log["body"] for log in logs)
    assert len(seen) == len(set(seen))


def test_log_rows_and_event_pages_link_each_other(client, member_client, project):
    event = exception_event(contexts={"trace": {"trace_id": TRACE, "span_id": "a" * 16}})
    post(client, project, envelope(log_item([sdk_log(), sdk_log("second")]), event=event))
    stored = Event.objects.get(project=project)
    html = page(member_client, project)
    assert reverse("issue:event", args=[stored.issue_id, stored.pk]) in html
    event_page = member_client.get(reverse("issue:event", args=[stored.issue_id, stored.pk])).content.decode()
    assert "2 logs of this trace" in event_page
    assert f"trace%3A{TRACE}" in event_page


def test_the_page_is_for_members_only(client, project):
    assert client.get(reverse("logs:project", args=[project.pk])).status_code == 302
    outsider = get_user_model().objects.create_user("eve", password="pw")
    client.force_login(outsider)
    assert client.get(reverse("logs:project", args=[project.pk])).status_code == 404


def test_hostile_query_strings_are_answered(member_client, project):
    for params in (
        {"before": "9" * 40 + ".1"},
        {"before": "x.y"},
        {"q": '"unbalanced'},
        {"q": "a:" * 600},
        {"range": "forever"},
        {"level": "\x00"},
        {"q": "trace:zz"},
    ):
        assert member_client.get(reverse("logs:project", args=[project.pk]), params).status_code == 200
