"""Scale-out without a shared disk (INGEST_STORE=database): two web nodes, each with a data folder of its own, on
two ports, and one digest worker (as the Procfile runs it) with a third folder, sharing only PostgreSQL and Redis.
Concurrent senders give one project's events to both nodes; in the middle of the burst one node and the digest
worker are killed with SIGKILL (the senders of the dead node go on at the other, as behind a load balancer, and
resend what got no answer), then the worker is started again. Every event answered 200 is digested, and none
twice (counted by event id). Runs in CI against the real services; outside CI it is skipped when they are down."""

import contextlib
import http.client
import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis

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

psycopg = pytest.importorskip("psycopg")

ROOT = Path(__file__).resolve().parent.parent.parent
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# per test process: `.ci/run` runs the PostgreSQL and the MariaDB suites side by side, and both run this test
# against the same PostgreSQL server (a shared name let one suite drop the database the other was migrating)
DATABASE = f"culvert_scale_out_test_{os.getpid()}"
BROKER_URL = live_redis_url(13)
EVENTS = 600
SENDERS_PER_NODE = 3


def postgres_up() -> bool:
    try:
        with psycopg.connect(ADMIN_URL, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


@contextlib.contextmanager
def fresh_cluster_services(database: str, broker_url: str):
    """A PostgreSQL database `database` made anew (its URL is yielded) and the Redis database `broker_url` emptied,
    both cleared again at the end: what the processes of a scale-out test share. Each such test names its own."""
    require_service(postgres_up(), "PostgreSQL on 127.0.0.1:5432 (user postgres)")
    require_service(redis_up(), f"Redis on {TEST_REDIS}")
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {database}")
    redis.Redis.from_url(broker_url).flushdb()
    try:
        yield f"postgres://postgres@127.0.0.1:5432/{database}"
    finally:
        redis.Redis.from_url(broker_url).flushdb()
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


@pytest.fixture
def cluster_database():
    """A PostgreSQL database of this test's own; dropped at the end."""
    with fresh_cluster_services(DATABASE, BROKER_URL) as url:
        yield url


def manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


class Senders:
    """Keep-alive senders, each starting at one node and moving to the next when its node stops answering; an
    event that got no answer is sent again (what an SDK's transport does). `accepted` holds the ids answered 200."""

    def __init__(self, urls: list[str], project_id: str, key: str, count: int):
        self.urls, self.project_id, self.key = urls, project_id, key
        self.todo = list(range(count))
        # the burst holds at a third until the test has seen digest at work, then goes on while the test kills
        self.hold_at = count - count // 3
        self.resume = threading.Event()
        self.accepted: list[str] = []
        self.refused: list[tuple[str, int]] = []
        self.lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self.send, args=(i % len(urls),), daemon=True)
            for i in range(SENDERS_PER_NODE * len(urls))
        ]

    def start(self):
        for thread in self.threads:
            thread.start()

    def join(self):
        for thread in self.threads:
            thread.join(timeout=300)
        assert not any(thread.is_alive() for thread in self.threads), "the senders finished"

    def send(self, first: int):
        node, connection = first, None
        while True:
            with self.lock:
                if not self.todo:
                    break
                held = len(self.todo) <= self.hold_at and not self.resume.is_set()
            if held:
                if not self.resume.wait(300):
                    break  # the test gave up
                continue
            with self.lock:
                if not self.todo:
                    break
                n = self.todo.pop()
            event_id = uuid.uuid4().hex
            body = make_envelope(exception_event(f"Scale{n % 7}", f"event {n}", event_id=event_id))
            for _attempt in range(2 * len(self.urls)):  # bounded: every node, twice
                try:
                    if connection is None:
                        netloc = urlsplit(self.urls[node]).netloc
                        connection = http.client.HTTPConnection(netloc, timeout=30)
                    connection.request(
                        "POST",
                        f"/api/{self.project_id}/envelope/?sentry_key={self.key}",
                        body=body,
                        headers={"Content-Type": "application/x-sentry-envelope"},
                    )
                    response = connection.getresponse()
                    response.read()
                except (
                    OSError,
                    http.client.HTTPException,
                ):  # the node is gone (or went away mid-request): the next one, the same event
                    if connection is not None:
                        connection.close()
                    connection, node = None, (node + 1) % len(self.urls)
                    continue
                with self.lock:
                    if response.status == 200:
                        self.accepted.append(event_id)
                    else:
                        self.refused.append((event_id, response.status))
                break
        if connection is not None:
            connection.close()


def stored_ids(database_url: str, project_id: str) -> list[str]:
    with psycopg.connect(database_url.replace("postgres://", "postgresql://")) as conn:
        rows = conn.execute("SELECT event_id FROM events_event WHERE project_id = %s", (int(project_id),))
        return [row[0].hex for row in rows]


def pending_records(database_url: str) -> int:
    with psycopg.connect(database_url.replace("postgres://", "postgresql://")) as conn:
        return conn.execute("SELECT count(*) FROM ingest_rawrecord WHERE NOT quarantined").fetchone()[0]


@pytest.mark.slow
def test_two_web_nodes_and_a_killed_worker_digest_every_accepted_event_once(cluster_database, tmp_path):
    shared = {
        "DATABASE_URL": cluster_database,
        "CELERY_BROKER_URL": BROKER_URL,
        "INGEST_STORE": "database",
        "QUOTA_EVENTS_PER_MINUTE": "0",
        "QUOTA_EVENTS_PER_HOUR": "0",
        "RETENTION_MAX_EVENTS": "0",
        "DIGEST_BATCH_SIZE": "25",
        "JOBS_NAMESPACE": f"scale-out-{uuid.uuid4().hex[:8]}",
    }
    folders = {name: tmp_path / name for name in ("node-a", "node-b", "worker")}
    for folder in folders.values():
        folder.mkdir()
    setup_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "testing.settings", **shared}
    setup_env["BUGSINK_DATA_DIR"] = str(tmp_path / "setup")
    manage(setup_env, "migrate", "-v0")
    dsn = urlsplit(manage(setup_env, "createproject", "Scale-out"))
    key, project_id = dsn.username, dsn.path.strip("/")

    def node_env(folder: Path) -> dict:
        return {**shared, "INGEST_STORE_DIR": str(folder / "ingest"), "ATTACHMENTS_DIR": str(folder / "attachments")}

    node_a = start_web_server(folders["node-a"], extra_env=node_env(folders["node-a"]))
    node_b = start_web_server(folders["node-b"], extra_env=node_env(folders["node-b"]))
    with node_a as url_a, node_b as url_b:
        worker = start_celery_worker(folders["worker"], "digest", node_env(folders["worker"]), name="digest")
        worker.__enter__()
        try:
            senders = Senders([url_a, url_b], project_id, key, EVENTS)
            senders.start()

            def a_third_digested() -> bool:
                return len(stored_ids(cluster_database, project_id)) >= EVENTS // 3

            wait_until(a_third_digested, 180, message="the first third digested", details=worker.output)
            senders.resume.set()  # the rest of the burst, and while it runs:
            node_a.process.kill()
            worker.stop(kill=True)
            with senders.lock:
                accepted_at_kill = len(senders.accepted)
            digested_at_kill = len(stored_ids(cluster_database, project_id))
            print(f"at the kill: {accepted_at_kill} of {EVENTS} accepted, {digested_at_kill} digested")
            assert accepted_at_kill < EVENTS and 0 < digested_at_kill < EVENTS, "killed in the middle of the burst"
            senders.join()
            assert not senders.refused, f"refused: {senders.refused[:5]}"
            accepted = set(senders.accepted)
            assert len(senders.accepted) == len(accepted) == EVENTS, "every event answered 200 by one node or the other"

            worker.__enter__()  # restarted, as the process manager would
            try:
                wait_until(
                    lambda: accepted <= set(stored_ids(cluster_database, project_id)),
                    60,
                    message="every accepted event digested",
                )
            except AssertionError:
                # the message the killed worker held comes back only after the broker's visibility timeout; its
                # raw events are still in the table, and the sweep (on the beat's schedule) enqueues them again
                print("sweep needed:", manage({**setup_env, **node_env(folders["worker"])}, "sweep", "--grace", "0"))
            wait_until(
                lambda: accepted <= set(stored_ids(cluster_database, project_id)),
                120,
                message="every accepted event digested",
                details=worker.output,
            )
            wait_until(lambda: pending_records(cluster_database) == 0, 60, message="no raw record left pending")
        finally:
            worker.stop()
    ids = stored_ids(cluster_database, project_id)
    assert len(ids) == len(set(ids)), "no event digested twice"
    assert set(ids) == accepted, "every accepted event digested, and nothing else"
