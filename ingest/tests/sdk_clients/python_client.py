"""Drive the real, unmodified Python `sentry-sdk` against a server; run as a child process by test_real_sdks.py.

    python python_client.py <dsn> <scenario>

Each scenario captures some events the way an application would, flushes, and prints one line on stdout:
`RESULT {"sdk_version": ..., "event_ids": [...]}` (the ids the SDK gave the events, in the order captured).
The SDK runs with debug=True, so its transport log (status codes, dropped events) lands on stderr. Every scenario
is written against the API that sentry-sdk 2.x and 3.x share (the tests run both, see ingest/tests/sdks.py).
"""

import json
import logging
import sys
import urllib.request
from urllib.parse import urlsplit

import sentry_sdk
from sentry_sdk.integrations.logging import LoggingIntegration

logger = logging.getLogger("shop.checkout")

SCENARIOS = {}


def scenario(function):
    SCENARIOS[function.__name__] = function
    return function


def parse_price(text):
    return float(text)


def load_order(text):
    try:
        return parse_price(text)
    except ValueError as error:
        raise RuntimeError("could not load order") from error


@scenario
def chained():
    """`raise B from A`: the SDK sends [A, B]; the issue is titled by B, the exception raised."""
    try:
        load_order("twelve")
    except RuntimeError:
        return [sentry_sdk.capture_exception()]


@scenario
def message():
    return [sentry_sdk.capture_message("hello from python")]


@scenario
def log_messages():
    """Through the logging integration with `event_level=logging.ERROR` (see OPTIONS: 2.x's default, which 3.x
    dropped): error records become events with a `logentry`."""
    event_ids = []
    for user in ("alice", "bob", "carol"):
        logger.error("user %s failed", user)
        event_ids.append(sentry_sdk.last_event_id())
    return event_ids


@scenario
def log_default():
    """Logging as each major sets it up by default: 2.x turns `logging.error` into an event, 3.x does not (its
    logging integration is not a default one any more). A message is captured after it either way."""
    logger.error("user %s failed", "dave")
    logged = sentry_sdk.last_event_id()  # None when the record made no event
    return [event_id for event_id in (logged, sentry_sdk.capture_message("after the log line")) if event_id]


@scenario
def http_breadcrumb():
    """An HTTP request through the standard library (the SDK's stdlib integration records it as a breadcrumb: 2.x
    with `method`, `url`, `status_code`, 3.x with `http.request.method`, `url.full`, `http.response.status_code`),
    then an error. The request goes to the server's own liveness page."""
    parts = urlsplit(DSN)
    urllib.request.urlopen(f"{parts.scheme}://{parts.hostname}:{parts.port}/health/live", timeout=10).read()
    try:
        divide(1, 0)
    except ZeroDivisionError:
        return [sentry_sdk.capture_exception()]


def fail_in_payment():
    raise ValueError("card declined")


def fail_in_shipping():
    raise KeyError("no such address")


@scenario
def fingerprint():
    """Two different errors from different places, grouped into one issue by the application's fingerprint."""
    event_ids = []
    for failing in (fail_in_payment, fail_in_shipping):
        try:
            failing()
        except Exception as error:
            with sentry_sdk.new_scope() as scope:
                scope.fingerprint = ["checkout-failure"]
                event_ids.append(sentry_sdk.capture_exception(error))
    return event_ids


@scenario
def release():
    """Run with release/environment in init (see OPTIONS)."""
    try:
        fail_in_payment()
    except ValueError:
        return [sentry_sdk.capture_exception()]


def divide(numerator, denominator):
    return numerator / denominator


@scenario
def repeated():
    """The same error from the same call site, five times."""
    event_ids = []
    for numerator in range(5):
        try:
            divide(numerator, 0)
        except ZeroDivisionError:
            event_ids.append(sentry_sdk.capture_exception())
    return event_ids


@scenario
def rate_limited():
    """Five errors in a row against a server whose quota is 2 events per minute (see test_quota.py): the SDK
    sends one at a time from its background thread, so the 429 on the third is seen before the fourth is sent."""
    event_ids = []
    for attempt in range(5):
        try:
            divide(attempt, 0)
        except ZeroDivisionError:
            event_ids.append(sentry_sdk.capture_exception())
    return event_ids


@scenario
def attachment():
    """An error with two files attached to the scope: the SDK sends them as `attachment` items of the event's
    envelope."""
    scope = sentry_sdk.get_current_scope()
    scope.add_attachment(bytes=b"order 42: card declined\n", filename="checkout.log", content_type="text/plain")
    scope.add_attachment(bytes=b'{"cart": [1, 2]}', filename="cart.json", content_type="application/json")
    try:
        divide(1, 0)
    except ZeroDivisionError:
        return [sentry_sdk.capture_exception()]


def descend(depth, blob_at):
    """One frame per level; the frame at depth `blob_at` holds a 10 MB string in its locals."""
    blob = "x" * (10 * 1024 * 1024) if depth == blob_at else None
    if depth == 0:
        raise ValueError("bottom of a deep recursion")
    return descend(depth - 1, blob_at) or blob


@scenario
def deep_recursion_big_local():
    """A 300-deep recursion with a 10 MB local: sentry-sdk sends the locals untrimmed, far over MAX_EVENT_SIZE."""
    try:
        descend(300, 150)
    except ValueError:
        return [sentry_sdk.capture_exception()]


# per-scenario init options; a function, so that integrations are made only for the scenario that runs
OPTIONS = {
    "release": lambda: {"release": "shop@1.4.2", "environment": "staging"},
    "log_messages": lambda: {"integrations": [LoggingIntegration(event_level=logging.ERROR)]},
}
DSN = ""


def main(dsn, name):
    global DSN
    DSN = dsn
    sentry_sdk.init(dsn=dsn, debug=True, **OPTIONS.get(name, dict)())
    event_ids = SCENARIOS[name]()
    sentry_sdk.flush(timeout=10)
    print("RESULT " + json.dumps({"sdk_version": sentry_sdk.VERSION, "event_ids": event_ids}))


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[2] not in SCENARIOS:
        sys.exit(f"usage: {sys.argv[0]} <dsn> <{'|'.join(SCENARIOS)}>")
    main(sys.argv[1], sys.argv[2])
