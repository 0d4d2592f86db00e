"""Accepted means kept: a digest worker killed with SIGKILL in the middle of a burst, or a broker that loses every
queued message (FLUSHALL), loses no event and stores none twice. Real parts: the web server, Redis, a Celery digest
worker; the sweep re-enqueues what the broker lost."""

import threading
import urllib.request
import uuid

import pytest
import redis

from events.models import Event
from ingest.sweep import sweep
from projects.models import Project
from testing.utils import (
    TEST_REDIS,
    exception_event,
    live_redis_url,
    make_envelope,
    redis_up,
    require_service,
    start_celery_worker,
    start_web_server,
    wait_until,
)

BROKER_URL = live_redis_url(11)
BURST = 500


@pytest.fixture
def stack(transactional_db, tmp_path):
    require_service(redis_up(), f"Redis on {TEST_REDIS}")
    redis.Redis.from_url(BROKER_URL).flushdb()
    project = Project.objects.create(name="Burst")
    env = {"CELERY_BROKER_URL": BROKER_URL, "INGEST_STORE_DIR": str(tmp_path / "ingest"), "DIGEST_BATCH_SIZE": "20"}
    (tmp_path / "web").mkdir()
    with start_web_server(tmp_path / "web", extra_env=env) as url:
        yield {"url": url, "project": project, "env": env, "tmp_path": tmp_path}


def send_burst(url: str, project, count: int, threads: int = 4) -> list[str]:
    """Send `count` events over `threads` keep-alive connections; every one must be accepted (200)."""
    ids, lock = [], threading.Lock()
    todo = list(range(count))

    def sender():
        while True:
            with lock:
                if not todo:
                    return
                n = todo.pop()
            event_id = uuid.uuid4().hex
            event = exception_event(f"Burst{n % 5}", f"event {n}", event_id=event_id)
            request = urllib.request.Request(
                f"{url}/api/{project.pk}/envelope/?sentry_key={project.sentry_key}", data=make_envelope(event)
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                assert response.status == 200
            with lock:
                ids.append(event_id)

    workers = [threading.Thread(target=sender) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert len(ids) == count, "every event of the burst was accepted"
    return ids


def stored(project) -> int:
    return Event.objects.filter(project=project).count()


def assert_exactly_once(project, ids):
    stored_ids = [u.hex for u in Event.objects.filter(project=project).values_list("event_id", flat=True)]
    assert len(stored_ids) == len(set(stored_ids)), "no event stored twice"
    assert set(stored_ids) == set(ids), "every accepted event stored"


@pytest.mark.slow
def test_sigkill_of_the_digest_worker_in_the_middle_of_a_burst(stack):
    project, url, tmp_path = stack["project"], stack["url"], stack["tmp_path"]
    worker = start_celery_worker(tmp_path, "digest,maintenance", stack["env"]).__enter__()
    try:
        first = send_burst(url, project, BURST // 2)
        wait_until(lambda: stored(project) > 0, 60, message="the first digest", details=worker.output)
        worker.stop(kill=True)  # SIGKILL, wherever it is
        killed_at = stored(project)
        second = send_burst(url, project, BURST - len(first))  # accepted while no worker runs
        assert stored(project) == killed_at, "nothing digests while the worker is down"
        worker.__enter__()  # restart
        try:
            wait_until(lambda: stored(project) == BURST, 60, message="every event")
        except AssertionError:
            # the message the killed worker held is only redelivered after the broker's visibility timeout;
            # its raw events are still on disk, and the sweep enqueues them again
            from celery import Celery

            client = Celery(broker=BROKER_URL)
            client.send_task(sweep.name, kwargs={"grace_seconds": 0}, queue="maintenance")
            client.close()
        wait_until(lambda: stored(project) == BURST, 120, message="every event", details=worker.output)
        assert_exactly_once(project, first + second)
    finally:
        worker.stop()


@pytest.mark.slow
def test_flushall_in_the_middle_of_a_burst_is_repaired_by_the_sweep(stack):
    project, url, tmp_path = stack["project"], stack["url"], stack["tmp_path"]
    ids = send_burst(url, project, BURST // 2)  # queued, no worker yet
    # every queued digest is gone: the broker's whole database, as FLUSHALL would lose it, without emptying the
    # other databases of this Redis (another test run's brokers)
    redis.Redis.from_url(BROKER_URL).flushdb()
    ids += send_burst(url, project, BURST - len(ids))
    with start_celery_worker(tmp_path, "digest,maintenance", stack["env"]) as worker:
        # the digests queued after the flush take the older raw events along in their batches, but nothing is
        # guaranteed to: the sweep is what promises to find every undigested raw event
        from celery import Celery

        client = Celery(broker=BROKER_URL)
        client.send_task(sweep.name, kwargs={"grace_seconds": 0}, queue="maintenance")
        client.close()
        wait_until(lambda: stored(project) == BURST, 120, message="every event", details=worker.output)
    assert_exactly_once(project, ids)
