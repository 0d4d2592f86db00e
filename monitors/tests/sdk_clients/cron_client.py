"""Drive the real, unmodified Python `sentry-sdk`'s cron monitoring against a server; run as a child process by
test_live_monitors.py:

    python cron_client.py <dsn> <scenario>

`runs`: one ok run and one failing run of a job under `sentry_sdk.crons.monitor` (in_progress, then ok or error,
with the monitor_config); `ok`: one ok check-in with `capture_checkin`. The same calls on SDK 2.x and 3.x (the test
runs both, ingest/tests/sdks.py). Prints `RESULT {"sdk_version": ...}` once the SDK has flushed.
"""

import json
import sys

import sentry_sdk
from sentry_sdk.crons import capture_checkin, monitor

SLUG = "nightly-report"
CONFIG = {
    "schedule": {"type": "crontab", "value": "0 3 * * *"},
    "timezone": "Europe/Vienna",
    "checkin_margin": 10,
    "max_runtime": 60,
    "failure_issue_threshold": 1,
    "recovery_threshold": 1,
}


def runs():
    @monitor(monitor_slug=SLUG, monitor_config=CONFIG)
    def nightly_report(fail: bool):
        if fail:
            raise RuntimeError("the report's database is away")
        return "done"

    nightly_report(False)
    try:
        nightly_report(True)
    except RuntimeError:
        pass  # the job failed; the decorator sent its error check-in (and the SDK the error event)


def ok():
    capture_checkin(monitor_slug=SLUG, status="ok", duration=1.5, monitor_config=CONFIG)


if __name__ == "__main__":
    dsn, scenario = sys.argv[1], sys.argv[2]
    sentry_sdk.init(dsn=dsn, debug=True, default_integrations=False, release="report@1.0.0")
    {"runs": runs, "ok": ok}[scenario]()
    sentry_sdk.flush(timeout=10)
    print("RESULT " + json.dumps({"sdk_version": sentry_sdk.VERSION}))
