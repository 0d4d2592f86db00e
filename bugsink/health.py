"""Health endpoints for load balancers, process managers and monitoring.

/health/live: the process answers (200 as long as it does; point a load balancer's routing at this one, since
ingest keeps accepting events, durably, while a worker or the broker is down).

/health/ready: everything needed to get an accepted event digested is up: the database answers, the broker does
when one is configured, and, under the supervisor of `make serve` (bin/procfile-run), every process it runs is
running (bugsink.supervision). Otherwise 503, with each part's state and a `detail` naming what is wrong. Meant for
monitoring and for a deployment waiting for the installation to come up.
"""

import threading
import time

from django.conf import settings
from django.db import connection
from django.http import JsonResponse

from bugsink import supervision
from bugsink.celery import app

BROKER_CHECK_TIMEOUT_SECONDS = 1.0  # to connect, once and once again
BROKER_CHECK_CACHE_SECONDS = 5.0  # a burst of probes opens one broker connection, not one each


def live(request):
    return JsonResponse({"status": "ok"})


def ready(request):
    database, broker, processes = _database(), _broker(), _processes()
    problems = []
    if database != "ok":
        problems.append(f"database: {database}")
    if broker not in ("ok", "not configured"):
        problems.append(f"broker unreachable ({broker})")
    if processes is not None:
        problems += processes.problems()
    body = {
        "status": "unavailable" if problems else "ok",
        "database": database,
        "broker": broker,
        "processes": _process_states(processes),
    }
    if problems:
        body["detail"] = "; ".join(problems)
    return JsonResponse(body, status=503 if problems else 200)


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return "ok"
    except Exception as e:
        return f"error: {e.__class__.__name__}"


_broker_checks: dict[str, tuple[float, str]] = {}  # broker URL -> (monotonic time of the check, its result)
_broker_lock = threading.Lock()


def _broker() -> str:
    url = settings.CELERY_BROKER_URL
    if not url:
        return "not configured"
    checked = _broker_checks.get(url)
    if checked is not None and time.monotonic() - checked[0] < BROKER_CHECK_CACHE_SECONDS:
        return checked[1]
    with _broker_lock:  # one check at a time; the others wait for its answer rather than open a connection each
        checked = _broker_checks.get(url)
        if checked is not None and time.monotonic() - checked[0] < BROKER_CHECK_CACHE_SECONDS:
            return checked[1]
        result = _check_broker(url)
        _broker_checks[url] = (time.monotonic(), result)
        return result


def _check_broker(url: str) -> str:
    try:
        with app.connection_for_write(url=url, connect_timeout=BROKER_CHECK_TIMEOUT_SECONDS) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_CHECK_TIMEOUT_SECONDS)
        return "ok"
    except Exception as e:
        return f"error: {e.__class__.__name__}"


def _processes() -> supervision.SupervisorStatus | None:
    return supervision.read_status()


def _process_states(status: supervision.SupervisorStatus | None):
    if status is None:
        return "not supervised"
    if status.error:
        return "unknown"
    return {process.name: process.state for process in status.processes}
