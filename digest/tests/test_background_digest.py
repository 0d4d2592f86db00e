"""`make run`'s default (no broker, DIGEST_IMMEDIATELY off): the ingest request answers once its raw event is on
disk, and the process's background thread digests; events that arrive while a digest waits or runs go into one
batch instead of one each."""

import http.client
import threading
import uuid
from urllib.parse import urlsplit

import pytest

from bugsink import jobs
from digest import batch as digest_module
from digest.job import digest_job
from events.models import Event
from ingest import store
from issues.models import Issue
from projects.models import Project
from testing.utils import exception_event, make_envelope, start_web_server, wait_until


@pytest.fixture
def background(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.DIGEST_IMMEDIATELY = False
    yield
    assert jobs.wait_idle(30)


def test_the_request_does_not_wait_and_waiting_events_are_one_batch(transactional_db, background, client, monkeypatch):
    project = Project.objects.create(name="Background")
    batches = []
    real_digest_keys = digest_module.digest_keys

    def counting(project_id, keys):
        batches.append(len(keys))
        return real_digest_keys(project_id, keys)

    monkeypatch.setattr(digest_module, "digest_keys", counting)
    jobs_run = []
    real_digest_job = digest_job.function
    monkeypatch.setattr(digest_job, "function", lambda key: jobs_run.append(key) or real_digest_job(key))
    url = f"/api/{project.pk}/envelope/?sentry_key={project.sentry_key}&sentry_version=7"
    with jobs.WRITER_LOCK:  # a digest is running: what arrives meanwhile waits for the next one
        for n in range(20):
            body = make_envelope(exception_event(value=f"bad value {n}", exc_type=f"Error{n % 3}"))
            response = client.post(url, body, content_type="application/x-sentry-envelope")
            assert response.status_code == 200
        assert Event.objects.count() == 0  # answered, not yet digested
        assert len(store.pending_keys(project.pk)) == 20
    assert jobs.wait_idle(30)
    assert Event.objects.filter(project=project).count() == 20
    assert sorted(Issue.objects.filter(project=project).values_list("event_count", flat=True)) == [6, 7, 7]
    assert len(jobs_run) == 1 and batches == [20]  # one digest, one batch: the other 19 events asked for none
    assert store.pending_keys(project.pk) == []


@pytest.mark.live
def test_a_live_server_in_make_runs_mode_digests_every_accepted_event_once(transactional_db, tmp_path):
    """The web server as `make run` starts it (DIGEST_IMMEDIATELY unset there: off), 8 concurrent keep-alive
    senders: every event answered 200 is stored exactly once, soon after."""
    project = Project.objects.create(name="Make run")
    with start_web_server(tmp_path, extra_env={"DIGEST_IMMEDIATELY": "false"}, threads=8) as url:
        parts = urlsplit(url)
        path = f"/api/{project.pk}/envelope/?sentry_key={project.sentry_key}&sentry_version=7"
        accepted, lock = [], threading.Lock()

        def sender(number: int) -> None:
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            for n in range(40):
                event_id = uuid.uuid4().hex
                event = exception_event(value=f"value {number}-{n}", exc_type=f"Error{n % 4}", event_id=event_id)
                connection.request("POST", path, body=make_envelope(event))
                response = connection.getresponse()
                response.read()
                if response.status == 200:
                    with lock:
                        accepted.append(event_id)
            connection.close()

        senders = [threading.Thread(target=sender, args=(n,)) for n in range(8)]
        for thread in senders:
            thread.start()
        for thread in senders:
            thread.join(60)
        assert len(accepted) == 320
        wait_until(
            lambda: Event.objects.filter(project=project).count() >= len(accepted),
            60,
            message="the background digest to store every accepted event",
        )
    stored = {event_id.hex for event_id in Event.objects.filter(project=project).values_list("event_id", flat=True)}
    assert stored == set(accepted) and Event.objects.filter(project=project).count() == 320
    assert sum(Issue.objects.filter(project=project).values_list("event_count", flat=True)) == 320
    project.refresh_from_db()
    assert project.digested_event_count == 320
