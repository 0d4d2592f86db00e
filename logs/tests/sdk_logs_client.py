"""Drive the real Python `sentry-sdk` (2.x or 3.x) with structured logs on; run as a child process by
test_live_logs_and_csp.py, once per SDK major (ingest/tests/sdks.py):  python sdk_logs_client.py <dsn>

Logs two lines (one with an attribute of its own) and captures one exception in the same trace, flushes, and
prints `RESULT {"sdk_version": ..., "event_ids": [...]}`."""

import json
import sys

import sentry_sdk
from sentry_sdk import logger as sentry_logger

# 2.x sends logs only with `enable_logs=True`; 3.x always does, and refuses the option as unknown
LOGS_ON = {"enable_logs": True} if sentry_sdk.VERSION.startswith("2.") else {}


def main(dsn: str) -> None:
    sentry_sdk.init(dsn=dsn, release="shop@1.0", environment="production", debug=True, **LOGS_ON)
    # One unit of work in its own isolation scope, as the SDK's web and task integrations run each request or task.
    # It is also what puts the first log line in the trace of the rest: 3.0.1 takes the trace of a log from the
    # global scope while no isolation scope exists yet, so in a bare script the first line lands in a trace of its own.
    with sentry_sdk.isolation_scope():
        sentry_logger.info("Order {order_id} paid by {user}", order_id=42, user="ada")
        sentry_logger.warning("Stock low for {sku}", sku="A-7", attributes={"warehouse": "north"})
        try:
            raise ValueError("out of stock")
        except ValueError:
            event_id = sentry_sdk.capture_exception()
    sentry_sdk.flush(timeout=10)
    print("RESULT " + json.dumps({"sdk_version": sentry_sdk.VERSION, "event_ids": [event_id]}))


if __name__ == "__main__":
    main(sys.argv[1])
