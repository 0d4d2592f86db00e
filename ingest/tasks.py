"""Celery tasks of the ingest app: each unwraps its arguments and calls one domain function (see bugsink.jobs)."""

from celery import shared_task

from ingest.digest import digest_job
from ingest.sweep import sweep as sweep_store


@shared_task(name="ingest.tasks.digest", acks_late=True)
def digest(key: str) -> int:
    return digest_job(key)


@shared_task(name="ingest.tasks.sweep")
def sweep(grace_seconds: float | None = None) -> int:
    return sweep_store(grace_seconds)
