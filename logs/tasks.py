"""Celery tasks of the logs app: each unwraps its arguments and calls one domain function (see bugsink.jobs)."""

from celery import shared_task

from logs import retention


@shared_task(name="logs.tasks.expire_logs")
def expire_logs(max_batches: int = 20) -> int:
    return retention.expire_logs(max_batches)
