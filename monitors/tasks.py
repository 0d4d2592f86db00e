"""Celery tasks of the monitors app: each unwraps its arguments and calls one domain function (see bugsink.jobs for
how they run, settings for the beat schedule)."""

from celery import shared_task

from monitors import deadlines


@shared_task(name="monitors.tasks.check_monitors")
def check_monitors() -> int:
    return deadlines.check_monitors()


@shared_task(name="monitors.tasks.monitor_deadlines")
def monitor_deadlines(project_id: int, now: str | None = None) -> int:
    return deadlines.monitor_deadlines_job(project_id, now)
