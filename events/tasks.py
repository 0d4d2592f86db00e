"""Celery tasks of the events app (retention): each unwraps its arguments and calls one domain function (see
bugsink.jobs for how they run, settings for the beat schedule)."""

from celery import shared_task

from events import retention


@shared_task(name="events.tasks.evict_expired")
def evict_expired(max_batches: int | None = None) -> int:
    return retention.evict_expired_projects(max_batches)


@shared_task(name="events.tasks.evict_project")
def evict_project(project_id: int, max_batches: int | None = None) -> int:
    return retention.evict_project_job(project_id, max_batches)
