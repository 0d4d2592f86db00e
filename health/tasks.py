"""Celery tasks of the health app: each unwraps its arguments and calls one domain function (see bugsink.jobs)."""

from celery import shared_task

from health.retention import expire_health as expire


@shared_task(name="health.tasks.expire_health")
def expire_health() -> int:
    return expire().total
