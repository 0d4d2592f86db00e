from celery import shared_task

from ingest.digest import digest_event


@shared_task(name="ingest.tasks.digest", acks_late=True)
def digest(project_id: int, event_id: str) -> None:
    digest_event(project_id, event_id)
