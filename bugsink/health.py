"""Health endpoints for load balancers and process managers.

/health/live: the process answers. /health/ready: the database answers, and so does the broker when one is
configured; 503 with the failing part otherwise.
"""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse

from bugsink.celery import app


def live(request):
    return JsonResponse({"status": "ok"})


def ready(request):
    checks = {"database": _database(), "broker": _broker()}
    healthy = all(value in ("ok", "not configured") for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503)


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return "ok"
    except Exception as e:
        return f"error: {e.__class__.__name__}"


def _broker() -> str:
    if not settings.CELERY_BROKER_URL:
        return "not configured"
    try:
        with app.connection_for_write(url=settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
        return "ok"
    except Exception as e:
        return f"error: {e.__class__.__name__}"
