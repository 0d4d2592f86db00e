"""The plug-in point for the item types that apps of their own keep (ingest.item_streams): through the real ingest
endpoint, a registered stream's items are kept durably with the raw record and handed to the stream by digest, once,
in arrival order, inside digest's transaction, with or without an event beside them; an item over the stream's limit
reaches the stream as a marker of what it did not get."""

import json
import uuid

import pytest
from django.db import connection

from events.models import Event
from ingest import item_streams, store
from ingest.envelope import MAX_STREAM_ITEMS
from testing.utils import auth_header, exception_event


def envelope(event: dict | None, items=()) -> bytes:
    parts = [json.dumps({"event_id": uuid.uuid4().hex}).encode()]
    if event is not None:
        payload = json.dumps(event).encode()
        parts += [json.dumps({"type": "event", "length": len(payload)}).encode(), payload]
    for headers, payload in items:
        parts += [json.dumps(headers).encode(), payload]
    return b"\n".join(parts) + b"\n"


@pytest.fixture
def received(monkeypatch):
    got = []

    def digest(project, items):
        got.append((project.pk, [(i.item_type, i.payload, i.headers.get("dropped")) for i in items]))
        assert connection.in_atomic_block  # inside digest's batch transaction

    stream = item_streams.Stream(item_types=("probe", "probes"), max_item_size=64, digest=digest, category="probe")
    monkeypatch.setattr(item_streams, "_streams", {})
    item_streams.register(stream)
    return got


def post(client, project, body: bytes):
    response = client.post(
        f"/api/{project.pk}/envelope/", data=body, content_type="application/x-sentry-envelope", **auth_header(project)
    )
    assert response.status_code == 200, response.content
    return response


def test_stream_items_without_an_event_reach_their_stream_once(
    client, project, received, django_capture_on_commit_callbacks
):
    items = [({"type": "probe", "length": 5}, b"first"), ({"type": "probes"}, b'{"second": 2}')]
    with django_capture_on_commit_callbacks(execute=True):
        post(client, project, envelope(None, items))
    assert received == [(project.pk, [("probe", b"first", None), ("probes", b'{"second": 2}', None)])]
    assert store.pending_keys(project.pk) == []  # the raw record is gone once digested
    assert Event.objects.count() == 0


def test_stream_items_beside_an_event_reach_their_stream_and_the_event_is_stored(client, project, received):
    post(client, project, envelope(exception_event(), [({"type": "probe", "length": 3}, b"abc")]))
    assert received == [(project.pk, [("probe", b"abc", None)])]
    assert Event.objects.filter(project=project).count() == 1


def test_an_item_over_the_limit_reaches_the_stream_as_a_marker(client, project, received):
    big = b"x" * 65
    post(client, project, envelope(None, [({"type": "probe", "length": len(big)}, big), ({"type": "probe"}, big)]))
    ((_, items),) = received
    assert [(t, p) for t, p, _ in items] == [("probe", b""), ("probe", b"")]
    assert all("64-byte limit" in dropped for _, _, dropped in items)


def test_items_past_the_envelope_cap_are_noted_once(client, project, received):
    items = [({"type": "probe", "length": 1}, b"x")] * (MAX_STREAM_ITEMS + 5)
    post(client, project, envelope(None, items))
    ((_, got),) = received
    assert len(got) == MAX_STREAM_ITEMS + 1
    assert got[-1][2] == f"more than {MAX_STREAM_ITEMS} stream items"


def test_unregistered_types_are_still_read_past(client, project, received):
    post(client, project, envelope(exception_event(), [({"type": "transaction"}, b"{}"), ({"type": "probe"}, b"1")]))
    assert received == [(project.pk, [("probe", b"1", None)])]


def test_one_type_cannot_have_two_streams(received):
    with pytest.raises(ValueError, match="already has a stream"):
        item_streams.register(item_streams.Stream(item_types=("probe",), max_item_size=1, digest=lambda p, i: None))
