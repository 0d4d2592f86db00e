"""bench/loadgen.py's default payload: the events sentry-sdk 3.0.1 sent (bugsink/tests/samples/python-sdk3), each
sent with a fresh event id and the current time, each sample an issue of its own; the 15-frame web request error
among them is what a Python web application's error looks like."""

import importlib.util
import json
import random
import time
from pathlib import Path

from digest.grouping import grouping_key
from digest.normalize import normalize_event

LOADGEN = Path(__file__).resolve().parent.parent.parent / "bench" / "loadgen.py"


def load_loadgen():
    spec = importlib.util.spec_from_file_location("loadgen", LOADGEN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_samples_go_out_with_fresh_ids_and_times_and_are_an_issue_each():
    loadgen = load_loadgen()
    payload = loadgen.SamplePayload()
    assert payload.issues == len(payload.names) == 14
    described = payload.describe()
    assert described["payload"] == "samples: python-sdk3" and described["samples"] == 14

    rng = random.Random(1)
    before = time.time()
    sent = [payload.event(job, rng) for job in range(2 * payload.issues)]
    ids = [event_id for event_id, _ in sent]
    assert len(set(ids)) == len(ids)
    keys = set()
    for job, (event_id, body) in enumerate(sent):
        event = json.loads(body)
        assert event["event_id"] == event_id and event["timestamp"] >= before
        assert event["sdk"]["version"] == "3.0.1"
        normalized = normalize_event(event, event_id=event_id, received_at=time.time())
        keys.add(grouping_key(normalized))
        # the rest is the captured file as it is
        original = json.loads((loadgen.SAMPLES_DIR / f"{payload.names[job % payload.issues]}.json").read_text())
        assert {k: v for k, v in event.items() if k not in ("event_id", "timestamp")} == {
            k: v for k, v in original.items() if k not in ("event_id", "timestamp")
        }
    assert len(keys) == payload.issues

    # the envelope the senders post
    event_id, body = sent[0]
    header, item, event, end = loadgen.envelope_of(event_id, body).split(b"\n")
    assert json.loads(header) == {"event_id": event_id} and json.loads(item)["length"] == len(event) and end == b""


def test_the_web_request_error_is_a_python_web_error_as_sent():
    """15 frames with context lines and locals, breadcrumbs (log, query, an HTTP request in 3.x's keys), the
    request, the user and contexts."""
    loadgen = load_loadgen()
    event = json.loads(loadgen.SamplePayload("python-sdk3/web-checkout-15-frames").event(0, random.Random())[1])
    (exception,) = event["exception"]["values"]
    frames = exception["stacktrace"]["frames"]
    assert len(frames) == 15
    assert all(frame["context_line"] and frame["pre_context"] and frame["vars"] for frame in frames)
    crumbs = event["breadcrumbs"]["values"]
    assert {crumb.get("category") for crumb in crumbs} >= {"query", "shop.orders", "httplib"}
    [http] = [crumb["data"] for crumb in crumbs if crumb.get("type") == "http"]
    assert http["url.full"] == "https://payments.example.net/payments/v2/charges/ch_1042"
    assert event["request"]["method"] == "POST" and "Chrome/120" in event["request"]["headers"]["User-Agent"]
    assert {"cart", "runtime", "trace"} <= set(event["contexts"]) and event["user"]["id"] == "u-1842"
    assert 10_000 < len(json.dumps(event)) < 20_000
