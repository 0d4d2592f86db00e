"""Drive the real Python `sentry-sdk` (2.x or 3.x) with structured logs on; run as a child process by
test_live_logs_and_csp.py:  python sdk_logs_client.py <dsn>

Logs two lines (one with an attribute of its own) and captures one exception in the same trace, flushes, and
prints `RESULT {"sdk_version": ..., "event_ids": [...]}`."""

import json
import sys

import sentry_sdk
from sentry_sdk import logger as sentry_logger


def main(dsn: str) -> None:
    sentry_sdk.init(dsn=dsn, enable_logs=True, release="shop@1.0", environment="production", debug=True)
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
