"""The merge and reprocess jobs in a real Celery worker on Redis (`celery worker -Q digest`, the queue of the
project's single writer, where bugsink.jobs sends them with a broker): the worker knows them (issues.tasks) and
runs them on the test database."""

import pytest
from celery import Celery

from issues.merge import merge_issues_job
from issues.models import Issue, TurningPoint
from issues.reprocess import reprocess_issue_job
from testing.utils import (
    TEST_REDIS,
    exception_event,
    live_redis_url,
    redis_up,
    require_service,
    start_celery_worker,
    wait_until,
)

BROKER_URL = live_redis_url(11)


@pytest.mark.slow
def test_a_digest_worker_runs_merge_and_reprocess(transactional_db, tmp_path, project, send_event):
    require_service(redis_up(), f"Redis on {TEST_REDIS}")
    for exc_type in ("KeyError", "KeyError", "ValueError"):
        send_event(project, exception_event(exc_type, "x"))
    parent = Issue.objects.get(calculated_type="KeyError")
    child = Issue.objects.get(calculated_type="ValueError")
    client = Celery(broker=BROKER_URL)
    try:
        with start_celery_worker(tmp_path, "digest", {"CELERY_BROKER_URL": BROKER_URL}) as worker:
            client.send_task(
                merge_issues_job.name, args=[project.pk, str(parent.pk), [str(child.pk)], None], queue="digest"
            )
            wait_until(
                lambda: not Issue.objects.filter(pk=child.pk).exists(),
                60,
                message="the worker to merge",
                details=worker.log_path.read_text,
            )
            client.send_task(reprocess_issue_job.name, args=[project.pk, str(parent.pk), None], queue="digest")
            wait_until(
                lambda: parent.turning_points.filter(kind=TurningPoint.Kind.REPROCESSED).exists(),
                60,
                message="the worker to reprocess",
                details=worker.log_path.read_text,
            )
    finally:
        client.close()
    parent.refresh_from_db()
    assert parent.event_count == 3 and parent.events.count() == 3
    assert parent.turning_points.get(kind=TurningPoint.Kind.REPROCESSED).metadata["events"] == 3
