"""Celery tasks of the artifacts app: each unwraps its arguments and calls one domain function (see bugsink.jobs)."""

from celery import shared_task

from artifacts.retention import expire_artifacts as expire


@shared_task(name="artifacts.tasks.expire_artifacts")
def expire_artifacts() -> int:
    return expire().total
