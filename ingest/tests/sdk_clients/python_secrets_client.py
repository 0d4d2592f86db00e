"""Drive the real Python `sentry-sdk` with secrets where applications leak them; run by test_scrubbing_real_clients.

    python python_secrets_client.py <dsn>        (run once per SDK major, ingest/tests/sdks.py)

The secret comes from the environment (SCRUB_TEST_SECRET), suffixed per place, so the test can tell which place
leaked. The SDK's own scrubber stays on (its default): it filters exact top-level names such as `password`, and
nothing else, which is what the server's scrubber is for. Prints `RESULT {"event_ids": [...]}`.
"""

import json
import logging
import os
import sys

import sentry_sdk
from sentry_sdk.integrations.logging import LoggingIntegration

SECRET = os.environ["SCRUB_TEST_SECRET"]


def connect(settings):
    db_password = SECRET + "-frame"  # noqa: F841 (a local variable, as the SDK sends it)
    password = SECRET + "-exact"  # noqa: F841
    raise ConnectionError("could not connect to the database")


def add_request(event, hint):
    event["request"] = {
        "url": "https://shop.example/checkout",
        "method": "POST",
        "headers": {"X-Upstream-Token": SECRET + "-header", "Accept": "application/json"},
    }
    return event


# structured logs: 3.x always sends them, 2.x with `enable_logs=True` (3.x refuses the option as unknown)
LOGS_ON = {"enable_logs": True} if sentry_sdk.VERSION.startswith("2.") else {}


def main(dsn):
    # logging.error as an event (2.x's default, asked for explicitly on 3.x) and as a structured log
    sentry_sdk.init(dsn=dsn, debug=True, integrations=[LoggingIntegration(event_level=logging.ERROR)], **LOGS_ON)
    sentry_sdk.get_isolation_scope().add_event_processor(add_request)
    sentry_sdk.add_breadcrumb(
        category="auth", message="token refreshed", data={"refresh_token": SECRET + "-crumb", "user": "bob"}
    )
    event_ids = []
    try:
        connect({"db": {"api_key": SECRET + "-nested", "host": "db.internal"}})
    except ConnectionError:
        event_ids.append(sentry_sdk.capture_exception())
    sentry_sdk.set_extra("payment", "card 4111 1111 1111 1111 declined")
    logging.getLogger("shop.payment").error("charging card %s failed", "5500 0000 0000 0004")
    event_ids.append(sentry_sdk.last_event_id())
    sentry_sdk.flush(timeout=10)
    print("RESULT " + json.dumps({"sdk_version": sentry_sdk.VERSION, "event_ids": event_ids}))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} <dsn>")
    main(sys.argv[1])
