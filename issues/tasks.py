"""Celery tasks of the issues app: each unwraps its arguments and calls one domain function (see bugsink.jobs)."""

from celery import shared_task

from issues.deletion import delete_issues_job


@shared_task(name="issues.tasks.delete_issues", acks_late=True)
def delete_issues(project_id: int, issue_ids: list[str]) -> int:
    return delete_issues_job(project_id, issue_ids).issues
