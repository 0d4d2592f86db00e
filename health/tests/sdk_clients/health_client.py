"""Drive the real, unmodified Python `sentry-sdk` against a server for release health and the types we do not keep;
run as a child process by health/tests/test_real_sdk.py (once per SDK major, see ingest/tests/sdks.py).

    python health_client.py <dsn> sessions|tracing

Each step uses the public API of the major that runs it. Prints one line `RESULT {...}`; the SDK's debug log goes
to stderr.
"""

import json
import sys

import sentry_sdk

RELEASE = "shop@2.0.0"
MAJOR = sentry_sdk.VERSION.split(".")[0]


def charge(amount):
    raise ZeroDivisionError(f"cannot split {amount} into zero parts")


def quiet_excepthook(type_, value, traceback):
    """The application's own hook for uncaught errors (the SDK's excepthook integration calls it after capturing):
    one line, so that a traceback in the output can only be an SDK or server failure."""
    print(f"uncaught {type_.__name__}: {value}", file=sys.stderr)


def sessions(dsn):
    """One healthy session, and one that crashes on an uncaught error. Python hands an uncaught error to
    sys.excepthook and exits; the SDK's excepthook integration (a default one on both majors) captures it as unhandled,
    which crashes the session. We call the hook as the interpreter would, so that the process lives on to end the
    session, flush and print its result."""
    sys.excepthook = quiet_excepthook  # before init: the integration wraps the hook that is set when it starts
    sentry_sdk.init(dsn=dsn, release=RELEASE, environment="production", debug=True, auto_session_tracking=True)
    sentry_sdk.start_session()
    sentry_sdk.end_session()
    sentry_sdk.start_session()
    try:
        charge(10)
    except ZeroDivisionError:
        sys.excepthook(*sys.exc_info())
    event_id = sentry_sdk.last_event_id()
    sentry_sdk.end_session()
    sentry_sdk.flush(timeout=10)
    return {"event_ids": [event_id]}


def traced(name):
    """A root span as each major starts it: 2.x sends a transaction, 3.x streams the span itself (a `span` item;
    it has no transactions any more)."""
    if MAJOR == "2":
        return sentry_sdk.start_transaction(name=name, op="task")
    return sentry_sdk.start_span(name=name, attributes={"sentry.op": "task"})


def tracing(dsn):
    """Two traces, each flushed on its own: the first is answered with X-Sentry-Rate-Limits, so the SDK drops the
    second itself (and counts it in its client report)."""
    sentry_sdk.init(dsn=dsn, release=RELEASE, debug=True, traces_sample_rate=1.0)
    with traced("checkout"):
        pass
    sentry_sdk.flush(timeout=10)
    with traced("checkout-again"):
        pass
    sentry_sdk.flush(timeout=10)
    return {}


if __name__ == "__main__":
    dsn, scenario = sys.argv[1], sys.argv[2]
    result = {"sessions": sessions, "tracing": tracing}[scenario](dsn)
    result["sdk_version"] = sentry_sdk.VERSION
    print("RESULT " + json.dumps(result), flush=True)
