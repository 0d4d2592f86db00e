"""Client reports and the item types we do not keep, through the real ingest endpoint: counted per project, day,
category and reason; an envelope with a type we do not keep is answered with X-Sentry-Rate-Limits naming the
categories of all of them (and never error, default, security, session, monitor or log_item); errors beside them
are kept."""

import pytest

from events.models import Event
from health.models import DiscardCount
from ingest.not_kept import HEADER_VALUE, NOT_KEPT
from testing.utils import exception_event

KEPT_CATEGORIES = {"error", "default", "security", "session", "monitor", "log_item", "attachment", "internal"}


def quantities(project, source):
    return {
        (row.category, row.reason): row.quantity for row in DiscardCount.objects.filter(project=project, source=source)
    }


def test_the_header_names_every_type_we_do_not_keep_and_nothing_we_keep():
    seconds, categories, scope, reason = HEADER_VALUE.split(":")
    assert int(seconds) == 3600 and scope == "organization" and reason == "not_kept"
    assert set(categories.split(";")) == set(NOT_KEPT.values())
    assert not KEPT_CATEGORIES & set(categories.split(";"))


@pytest.mark.parametrize("item_type", sorted(NOT_KEPT))
def test_a_type_we_do_not_keep_is_answered_with_its_category_and_counted(project, post_envelope, item_type):
    response = post_envelope(project, [(item_type, {"type": item_type, "spans": []}), (item_type, b"{}")])
    categories = response["X-Sentry-Rate-Limits"].split(":")[1].split(";")
    assert NOT_KEPT[item_type] in categories
    assert quantities(project, DiscardCount.NOT_KEPT) == {(NOT_KEPT[item_type], item_type): 2}


def test_spans_are_counted_by_their_item_count(project, client, django_capture_on_commit_callbacks):
    """@sentry/node 10+ sends a trace's spans as one v2 `span` container whose header says how many it holds."""
    import json
    import uuid

    from testing.utils import auth_header

    def span_container(count, with_length=True) -> bytes:
        payload = json.dumps({"version": 2, "items": [{"span_id": f"{i:016x}"} for i in range(count)]}).encode()
        headers = {"type": "span", "item_count": count, "content_type": "application/vnd.sentry.items.span.v2+json"}
        if with_length:
            headers["length"] = len(payload)
        return json.dumps(headers).encode() + b"\n" + payload

    items = [span_container(7), span_container(3, with_length=False)]
    items.append(b'{"type":"span","item_count":"lots"}\n{}')  # a count we cannot read is one
    items.append(b'{"type":"span","item_count":1e308}\n{}')
    items.append(b'{"type":"span","item_count":99999999}\n{}')  # capped
    body = json.dumps({"event_id": uuid.uuid4().hex}).encode() + b"\n" + b"\n".join(items) + b"\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/{project.pk}/envelope/", data=body, content_type="text/plain", **auth_header(project)
        )
    assert response.status_code == 200, response.content
    assert "span" in response["X-Sentry-Rate-Limits"]
    assert quantities(project, DiscardCount.NOT_KEPT) == {("span", "span"): 7 + 3 + 1 + 1 + 10_000}


def test_an_error_beside_a_transaction_is_kept(project, post_envelope):
    response = post_envelope(project, [("transaction", {"type": "transaction"})], event=exception_event())
    assert "transaction" in response["X-Sentry-Rate-Limits"]
    assert Event.objects.filter(project=project).count() == 1


def test_an_error_alone_gets_no_rate_limit(project, post_envelope):
    response = post_envelope(project, [], event=exception_event())
    assert "X-Sentry-Rate-Limits" not in response


def test_client_reports_are_summed_per_category_and_reason(project, post_envelope):
    report = {
        "timestamp": "2024-01-01T00:00:00Z",
        "discarded_events": [
            {"reason": "queue_overflow", "category": "error", "quantity": 3},
            {"reason": "ratelimit_backoff", "category": "transaction", "quantity": 5},
        ],
    }
    post_envelope(project, [("client_report", report)])
    post_envelope(project, [("client_report", report)])
    assert quantities(project, DiscardCount.SDK) == {
        ("error", "queue_overflow"): 6,
        ("transaction", "ratelimit_backoff"): 10,
    }


@pytest.mark.parametrize(
    "payload",
    [b"nope", b"[]", b'{"discarded_events": "x"}', b'{"discarded_events": [1, {"quantity": -1}, {"quantity": true}]}'],
)
def test_unreadable_client_reports_are_noted_not_raised(project, post_envelope, payload):
    post_envelope(project, [("client_report", payload)])
    assert quantities(project, DiscardCount.SDK) == {}


def test_client_report_kinds_per_day_are_bounded(project, post_envelope):
    report = {"discarded_events": [{"reason": f"r{i}", "category": "error", "quantity": 1} for i in range(150)]}
    post_envelope(project, [("client_report", report)])
    rows = quantities(project, DiscardCount.SDK)
    assert len(rows) <= 101 and sum(rows.values()) == 150
