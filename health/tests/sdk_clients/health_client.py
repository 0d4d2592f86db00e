"""Drive the real, unmodified Python `sentry-sdk` against a server for release health and the types we do not keep;
run as a child process by health/tests/test_real_sdk.py.

    python health_client.py <dsn> sessions|transactions

Works on sentry-sdk 2.x and 3.x. Prints one line `RESULT {...}`; the SDK's debug log goes to stderr.
"""

import json
import sys

import sentry_sdk
from sentry_sdk.utils import event_from_exception

RELEASE = "shop@2.0.0"


def start_session():
    starter = getattr(sentry_sdk, "start_session", None) or sentry_sdk.get_isolation_scope().start_session
    starter()


def end_session():
    ender = getattr(sentry_sdk, "end_session", None) or sentry_sdk.get_isolation_scope().end_session
    ender()


def charge(amount):
    raise ZeroDivisionError(f"cannot split {amount} into zero parts")


def sessions(dsn):
    """One healthy session, and one that crashes on an unhandled error (what an excepthook would capture)."""
    sentry_sdk.init(dsn=dsn, release=RELEASE, environment="production", debug=True, auto_session_tracking=True)
    start_session()
    end_session()
    start_session()
    try:
        charge(10)
    except ZeroDivisionError:
        client = sentry_sdk.get_client()
        event, hint = event_from_exception(
            sys.exc_info(), client_options=client.options, mechanism={"type": "excepthook", "handled": False}
        )
        event_id = sentry_sdk.capture_event(event, hint=hint)
    end_session()
    sentry_sdk.flush(timeout=10)
    return {"event_ids": [event_id]}


def transactions(dsn):
    """Two transactions: the first is answered with X-Sentry-Rate-Limits, so the SDK drops the second itself."""
    sentry_sdk.init(dsn=dsn, release=RELEASE, debug=True, traces_sample_rate=1.0)
    start = getattr(sentry_sdk, "start_transaction", None) or sentry_sdk.start_span
    with start(name="checkout", op="task"):
        pass
    sentry_sdk.flush(timeout=10)
    with start(name="checkout-again", op="task"):
        pass
    sentry_sdk.flush(timeout=10)
    return {}


if __name__ == "__main__":
    dsn, scenario = sys.argv[1], sys.argv[2]
    result = {"sessions": sessions, "transactions": transactions}[scenario](dsn)
    result["sdk_version"] = sentry_sdk.VERSION
    print("RESULT " + json.dumps(result), flush=True)
