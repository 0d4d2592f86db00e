"""Moving code between apps changes no job's message name: a message queued in Redis by the version before the move
(the digest job was `ingest.tasks.digest` in ingest/digest.py, and still is, in digest/job.py) runs after the
upgrade, in a worker that knows the jobs through each app's tasks module."""

import json

from bugsink import jobs
from bugsink.celery import app
from digest.job import digest_job
from digest.tests.test_digest import stored
from events.models import Event
from ingest.store import load_raw_event
from testing.utils import exception_event

# every job's message name as the version before the digest app existed declared it
NAMES_BEFORE_THE_MOVE = {
    "ingest.tasks.digest",
    "ingest.tasks.sweep",
    "issues.tasks.delete_issues",
    "releases.tasks.release_created",
    "events.tasks.evict_expired",
    "events.tasks.evict_project",
    "logs.tasks.expire_logs",
    "health.tasks.expire_health",
    "alerts.tasks.send_new_issue_alert",
    "alerts.tasks.send_regression_alert",
    "alerts.tasks.send_unmute_alert",
    "alerts.tasks.deliver_email",
    "alerts.tasks.deliver_webhook",
    "artifacts.tasks.expire_artifacts",
    "monitors.tasks.check_monitors",
    "monitors.tasks.monitor_deadlines",
}


def test_every_name_queued_before_the_move_is_still_a_job_and_a_task():
    declared = jobs.declared_jobs()
    assert NAMES_BEFORE_THE_MOVE <= set(declared)
    assert NAMES_BEFORE_THE_MOVE <= set(app.tasks)
    assert declared["ingest.tasks.digest"] is digest_job
    assert app.tasks["ingest.tasks.digest"].run.__module__ == "digest.job"


def test_a_digest_message_of_the_old_name_digests_its_event(project, django_capture_on_commit_callbacks):
    key = stored(project, exception_event("QueuedBeforeTheUpgrade"))
    # what a worker does with a message taken from the queue: the task registered under the name, the arguments as
    # the broker carries them (JSON)
    with django_capture_on_commit_callbacks(execute=True):
        app.tasks["ingest.tasks.digest"].apply(args=json.loads(json.dumps([key])), throw=True)
    assert Event.objects.get(project=project).data["exception"]["values"][0]["type"] == "QueuedBeforeTheUpgrade"
    assert load_raw_event(key) is None
