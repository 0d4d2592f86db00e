"""DIGEST_SHARDS=N: each project's digests go to queue digest-<project id % N>, one worker per queue."""

import urllib.request

import pytest
import redis

from events.models import Event
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

BROKER_URL = live_redis_url(6)


def send(url, project, n):
    for i in range(n):
        request = urllib.request.Request(
            f"{url}/api/{project.pk}/envelope/?sentry_key={project.sentry_key}",
            data=make_envelope(exception_event(value=f"event {i}")),
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200


def stored(project) -> int:
    return Event.objects.filter(project=project).count()


@pytest.mark.slow
def test_each_project_goes_to_its_own_shard(transactional_db, tmp_path):
    require_service(redis_up(), f"Redis on {TEST_REDIS}")
    redis.Redis.from_url(BROKER_URL).flushdb()
    even, odd = Project.objects.create(name="A"), Project.objects.create(name="B")
    if even.pk % 2:
        even, odd = odd, even
    env = {"CELERY_BROKER_URL": BROKER_URL, "DIGEST_SHARDS": "2", "INGEST_STORE_DIR": str(tmp_path / "ingest")}
    (tmp_path / "web").mkdir()
    with start_web_server(tmp_path / "web", extra_env=env) as url:
        send(url, even, 3)
        send(url, odd, 4)
        broker = redis.Redis.from_url(BROKER_URL)
        assert broker.llen("digest-0") > 0 and broker.llen("digest-1") > 0, "each project's digest on its queue"
        with start_celery_worker(tmp_path, "digest-1", env) as shard_1:
            wait_until(lambda: stored(odd) == 4, 60, message="the odd project's events", details=shard_1.output)
            # the even project's events came first: had its digest gone to digest-1, it would have been done
            # before the odd project's (one consumer, in order); it still waits on digest-0
            assert broker.llen("digest-0") > 0 and stored(even) == 0, "the even project's digests wait on digest-0"
        with start_celery_worker(tmp_path, "digest-0", env) as shard_0:
            wait_until(lambda: stored(even) == 3, 60, message="the even project's events", details=shard_0.output)
    assert stored(odd) == 4
