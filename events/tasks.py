"""Periodic retention work (Celery beat, see RETENTION_* and CELERY_BEAT_SCHEDULE in settings)."""

from celery import shared_task
from django.conf import settings

from events import retention
from ingest import store
from ingest.intake import digest_queue
from projects.models import Project

ORPHAN_TEMPORARY_AGE_SECONDS = 3600


@shared_task(name="events.tasks.evict_expired")
def evict_expired(max_batches: int | None = None) -> dict:
    """Every RETENTION_INTERVAL_SECONDS: remove the ingest store's temporaries of writes that never finished (older
    than an hour), and have each project with limits evicted (`evict_project`) on its own digest queue, by the
    project's single writer. `max_batches` bounds each project's share (default RETENTION_BATCHES_PER_RUN)."""
    removed = store.remove_orphan_temporaries(older_than_seconds=ORPHAN_TEMPORARY_AGE_SECONDS)
    scheduled = 0
    for project in Project.objects.only(*retention.PROJECT_FIELDS).order_by("pk"):
        if retention.max_age_days_of(project) or retention.max_events_of(project):
            evict_project.apply_async(args=[project.pk, max_batches], queue=digest_queue(project.pk))
            scheduled += 1
    return {"temporaries_removed": removed, "projects_scheduled": scheduled}


@shared_task(name="events.tasks.evict_project")
def evict_project(project_id: int, max_batches: int | None = None) -> int:
    """Evict one project's expired events and, when it is over its max events, the events over it. Returns how many
    events were deleted."""
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        return 0
    return retention.evict_project(project, max_batches=max_batches or settings.RETENTION_BATCHES_PER_RUN).deleted
