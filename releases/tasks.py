"""Celery tasks of the releases app: each unwraps its arguments and calls one domain function (see bugsink.jobs)."""

from celery import shared_task

from releases.actions import release_created as release_created_job


@shared_task(name="releases.tasks.release_created", acks_late=True)
def release_created(project_id: int, version: str) -> int:
    return release_created_job(project_id, version)
