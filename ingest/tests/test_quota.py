"""Quotas (ingest.quota): fixed UTC windows, the in-process and the Redis counter, the 429 the endpoints answer,
and the real Python sentry-sdk backing off after it.

Real parts only: Redis on 127.0.0.1:6379 (db 12, flushed; skipped outside CI when it is not there, failed in CI),
an unreachable Redis is a closed local port, and the SDK test runs the real `sentry-sdk` against a live web server.
Endpoint tests freeze the limiter's clock (ingest.quota.clock) so that a window cannot end in the middle of a test.
"""

import json
import logging
import re
import sys
import threading
import time
import uuid

import pytest

from events.models import Event
from ingest import quota
from ingest.quota import HOUR, MINUTE, InProcessCounter, Limit, QuotaExceeded, RedisCounter, seconds_left, window_start
from projects.models import Project
from testing.utils import (
    TEST_REDIS,
    auth_header,
    exception_event,
    free_port,
    live_redis_url,
    make_envelope,
    redis_up,
    require_service,
    start_web_server,
)

REDIS_URL = live_redis_url(12)
# 2027-01-15 08:00:00 UTC is a whole hour; the frozen clock stands 17.25 s into it
HOUR_START = 1_800_000_000
assert HOUR_START % 3600 == 0
NOW = HOUR_START + 17.25
RATE_LIMITS = "error;default"


@pytest.fixture(autouse=True)
def fresh_quota(settings, monkeypatch):
    """No counts from other tests; the limits of each test are its own."""
    quota.reset()
    settings.QUOTA_EVENTS_PER_MINUTE = 0
    settings.QUOTA_EVENTS_PER_HOUR = 0
    settings.QUOTA_INSTALLATION_EVENTS_PER_MINUTE = 0
    settings.QUOTA_INSTALLATION_EVENTS_PER_HOUR = 0
    settings.CELERY_BROKER_URL = ""
    yield
    quota.reset()


@pytest.fixture
def clock(monkeypatch):
    """The limiter's clock, frozen at NOW; set `clock.now` to move it."""

    class Clock:
        now = NOW

    frozen = Clock()
    monkeypatch.setattr(quota, "clock", lambda: frozen.now)
    return frozen


@pytest.fixture
def redis_db():
    require_service(redis_up(), f"Redis on {TEST_REDIS}")
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()


def closed_redis_url() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there: connection refused


# --- windows --------------------------------------------------------------------------------------------------------


class TestWindows:
    @pytest.mark.parametrize(
        "now, period, start, left",
        [
            (NOW, MINUTE, HOUR_START, 43),  # 17.25 s in: 42.75 s left, rounded up
            (NOW, HOUR, HOUR_START, 3583),
            (HOUR_START, MINUTE, HOUR_START, 60),  # on the boundary: a whole new window
            (HOUR_START, HOUR, HOUR_START, 3600),
            (HOUR_START + 59.999, MINUTE, HOUR_START, 1),
            (HOUR_START + 59.2, MINUTE, HOUR_START, 1),
            (HOUR_START + 60, MINUTE, HOUR_START + 60, 60),
            (HOUR_START - 0.5, MINUTE, HOUR_START - 60, 1),
            (HOUR_START - 0.5, HOUR, HOUR_START - 3600, 1),
            (HOUR_START + 3599.9, HOUR, HOUR_START, 1),
            (HOUR_START + 125, MINUTE, HOUR_START + 120, 55),
        ],
    )
    def test_start_and_seconds_left(self, now, period, start, left):
        assert window_start(now, period) == start
        assert seconds_left(now, period) == left

    def test_windows_are_utc_minutes_and_hours(self):
        from datetime import UTC, datetime

        now = datetime(2026, 3, 29, 1, 59, 30, 500000, tzinfo=UTC).timestamp()  # a DST night elsewhere: irrelevant
        assert datetime.fromtimestamp(window_start(now, MINUTE), UTC) == datetime(2026, 3, 29, 1, 59, tzinfo=UTC)
        assert datetime.fromtimestamp(window_start(now, HOUR), UTC) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
        assert seconds_left(now, MINUTE) == 30
        assert seconds_left(now, HOUR) == 30

    def test_keys_differ_per_subject_period_and_window(self):
        minute = Limit("project", "project:7", MINUTE, 5)
        assert minute.key(NOW) == minute.key(HOUR_START + 59.9) == f"project:7:60:{HOUR_START}"
        assert minute.key(HOUR_START + 60) != minute.key(NOW)
        assert Limit("project", "project:7", HOUR, 5).key(NOW) == f"project:7:3600:{HOUR_START}"
        assert Limit("project", "project:8", MINUTE, 5).key(NOW) != minute.key(NOW)
        assert Limit("organization", "installation", MINUTE, 5).key(NOW) == f"installation:60:{HOUR_START}"


class TestLimits:
    def project(self, pk=7, per_minute=None, per_hour=None):
        return Project(pk=pk, name="x", quota_events_per_minute=per_minute, quota_events_per_hour=per_hour)

    def test_from_settings(self, settings):
        settings.QUOTA_EVENTS_PER_MINUTE = 1000
        settings.QUOTA_EVENTS_PER_HOUR = 20000
        assert quota.project_limits(self.project()) == [
            Limit("project", "project:7", MINUTE, 1000),
            Limit("project", "project:7", HOUR, 20000),
        ]

    def test_project_override_wins_and_zero_is_unlimited(self, settings):
        settings.QUOTA_EVENTS_PER_MINUTE = 1000
        settings.QUOTA_EVENTS_PER_HOUR = 20000
        assert quota.project_limits(self.project(per_minute=5, per_hour=0)) == [
            Limit("project", "project:7", MINUTE, 5)
        ]

    def test_installation(self, settings):
        settings.QUOTA_INSTALLATION_EVENTS_PER_HOUR = 50000
        assert quota.project_limits(self.project(per_minute=10)) == [
            Limit("project", "project:7", MINUTE, 10),
            Limit("organization", "installation", HOUR, 50000),
        ]

    def test_all_unlimited(self, settings):
        settings.QUOTA_EVENTS_PER_MINUTE = -1  # negative counts as unlimited too
        assert quota.project_limits(self.project()) == []


class TestQuotaExceeded:
    def test_project_minute(self):
        error = QuotaExceeded([Limit("project", "project:7", MINUTE, 2)], NOW)
        assert error.status == 429
        assert error.headers == {
            "Retry-After": "43",
            "X-Sentry-Rate-Limits": f"43:{RATE_LIMITS}:project:quota_exceeded",
        }
        assert error.detail == "event quota exceeded: project 7 accepts at most 2 events per minute; retry in 43 s"

    def test_both_scopes_and_the_longest_window(self):
        error = QuotaExceeded(
            [
                Limit("project", "project:7", MINUTE, 2),
                Limit("project", "project:7", HOUR, 10),
                Limit("organization", "installation", MINUTE, 100),
            ],
            NOW,
        )
        assert error.headers == {
            "Retry-After": "3583",
            "X-Sentry-Rate-Limits": (
                f"3583:{RATE_LIMITS}:project:quota_exceeded, 43:{RATE_LIMITS}:organization:quota_exceeded"
            ),
        }
        assert "this installation (all projects) accepts at most 100 events per minute" in error.detail

    def test_the_python_sdk_reads_our_header(self):
        """The parser of the SDK the tests drive; the scope and reason fields must not confuse it."""
        from datetime import UTC, datetime, timedelta

        from sentry_sdk.transport import _parse_rate_limits

        header = QuotaExceeded([Limit("organization", "installation", MINUTE, 5)], NOW).headers["X-Sentry-Rate-Limits"]
        now = datetime.now(UTC)
        assert dict(_parse_rate_limits(header, now=now)) == {
            category: now + timedelta(seconds=43) for category in ("error", "default")
        }
        # each stream's category is named alone, so the SDK goes on sending the others
        for category, names in (
            (quota.SESSION, ("session",)),
            (quota.MONITOR, ("monitor",)),
            (quota.LOG_ITEM, ("log_item",)),
            (quota.SECURITY, ("security",)),
        ):
            limit = Limit("project", f"project:7:{category}", MINUTE, 5, category)
            header = QuotaExceeded([limit], NOW).headers["X-Sentry-Rate-Limits"]
            assert dict(_parse_rate_limits(header, now=now)) == {name: now + timedelta(seconds=43) for name in names}


# --- counters -------------------------------------------------------------------------------------------------------

LIMITS = [Limit("project", "project:1", MINUTE, 3), Limit("organization", "installation", HOUR, 5)]


def exercise_counter(counter):
    """The contract both counters keep."""
    minute, hour = LIMITS
    assert counter.over(LIMITS, NOW) == []
    assert [counter.add(LIMITS, NOW) for _ in range(3)] == [[], [], []]
    assert counter.over(LIMITS, NOW) == [minute]
    assert counter.add(LIMITS, NOW) == [minute]  # refused ...
    assert (counter.count(minute, NOW), counter.count(hour, NOW)) == (3, 3)  # ... and not counted

    later = HOUR_START + 61  # the next minute, the same hour
    assert counter.over(LIMITS, later) == []
    assert counter.add(LIMITS, later) == []
    assert counter.add(LIMITS, later) == []
    assert counter.add(LIMITS, later) == [hour]  # 5 in this hour
    assert (counter.count(minute, later), counter.count(hour, later)) == (2, 5)

    counter.remove(LIMITS, later)  # an accept that failed after all
    assert (counter.count(minute, later), counter.count(hour, later)) == (1, 4)
    assert counter.add(LIMITS, later) == []

    other = [Limit("project", "project:2", MINUTE, 3)]
    assert counter.add(other, later) == []  # another project's minute is its own


def add_concurrently(make_counter, limit: int, attempts: int, threads: int = 8) -> int:
    """`attempts` adds from `threads` threads (one counter each, as separate processes would have); how many got in."""
    limits = [Limit("project", "project:1", MINUTE, limit)]
    accepted, lock = [0], threading.Lock()
    start = threading.Barrier(threads)

    def worker():
        counter = make_counter()
        start.wait()
        for _ in range(attempts // threads):
            if not counter.add(limits, NOW):
                with lock:
                    accepted[0] += 1

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=60)
    return accepted[0]


class TestInProcessCounter:
    def test_contract(self):
        exercise_counter(InProcessCounter())

    def test_old_windows_are_pruned(self):
        counter = InProcessCounter()
        for minute in range(5):
            counter.add(LIMITS, HOUR_START + 60 * minute + 1)
        # the hour window and the current minute remain
        assert sorted(counter._counts) == [f"installation:3600:{HOUR_START}", f"project:1:60:{HOUR_START + 240}"]
        counter.add(LIMITS, HOUR_START + 3600 + 1)
        assert sorted(counter._counts) == [
            f"installation:3600:{HOUR_START + 3600}",
            f"project:1:60:{HOUR_START + 3600}",
        ]

    def test_exact_under_concurrency(self):
        shared = InProcessCounter()
        assert add_concurrently(lambda: shared, limit=500, attempts=800) == 500


class TestRedisCounter:
    def test_contract(self, redis_db):
        exercise_counter(RedisCounter(REDIS_URL))

    def test_keys_expire_after_their_window(self, redis_db):
        counter = RedisCounter(REDIS_URL)
        counter.add(LIMITS, NOW)
        minute_ttl = redis_db.ttl(f"bugsink:quota:project:1:60:{HOUR_START}")
        hour_ttl = redis_db.ttl(f"bugsink:quota:installation:3600:{HOUR_START}")
        assert 43 < minute_ttl <= 43 + 60
        assert 3583 < hour_ttl <= 3583 + 60

    def test_shared_between_processes_and_exact_under_concurrency(self, redis_db):
        """Each thread has its own client and connection, as each web process (on any node) would."""
        assert add_concurrently(lambda: RedisCounter(REDIS_URL), limit=100, attempts=400) == 100
        assert int(redis_db.get(f"bugsink:quota:project:1:60:{HOUR_START}")) == 100  # the losers took theirs back

    def test_unreachable_redis_accepts_and_logs_once(self, caplog):
        counter = RedisCounter(closed_redis_url())
        limits = [Limit("project", "project:1", MINUTE, 1)]
        with caplog.at_level(logging.WARNING, logger="ingest.quota"):
            results = [counter.over(limits, NOW) for _ in range(3)] + [counter.add(limits, NOW) for _ in range(3)]
        assert results == [[]] * 6  # never "over": everything is accepted
        warnings = [r.getMessage() for r in caplog.records if r.name == "ingest.quota"]
        assert len(warnings) == 1 and "Redis is unreachable" in warnings[0], warnings

    def test_after_a_failure_redis_is_left_alone_for_a_while(self):
        """A server that hangs up on every connection, counting them: only the first call tries to connect."""
        import socket
        import threading

        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        connections = []

        def hang_up():
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                connections.append(1)
                conn.close()

        threading.Thread(target=hang_up, daemon=True).start()
        try:
            counter = RedisCounter(f"redis://127.0.0.1:{listener.getsockname()[1]}/0")
            limits = [Limit("project", "project:1", MINUTE, 1)]
            assert counter.over(limits, NOW) == []
            after_first = len(connections)
            assert after_first >= 1
            results = [counter.over(limits, NOW) for _ in range(2)] + [counter.add(limits, NOW) for _ in range(3)]
            assert results == [[]] * 5
            assert len(connections) == after_first, "no new connection while Redis is known to be down"
        finally:
            listener.close()

    def test_chosen_for_a_redis_broker(self, settings):
        settings.CELERY_BROKER_URL = REDIS_URL
        assert isinstance(quota.counter(), RedisCounter)
        settings.CELERY_BROKER_URL = "amqp://guest@127.0.0.1//"  # not Redis: counted in this process
        assert isinstance(quota.counter(), InProcessCounter)
        settings.CELERY_BROKER_URL = ""
        assert isinstance(quota.counter(), InProcessCounter)
        assert quota.counter() is quota.counter()


# --- the endpoints ----------------------------------------------------------------------------------------------------


def post_envelope(client, project, body: bytes | None = None, **extra):
    if body is None:
        body = make_envelope(exception_event(event_id=uuid.uuid4().hex))
    return client.post(
        f"/api/{project.pk}/envelope/",
        data=body,
        content_type="application/x-sentry-envelope",
        **{**auth_header(project), **extra},
    )


def assert_quota_response(response, retry_after: int, scope: str, detail: str):
    assert response.status_code == 429, response.content
    assert response["Retry-After"] == str(retry_after)
    assert response["X-Sentry-Rate-Limits"] == f"{retry_after}:{RATE_LIMITS}:{scope}:quota_exceeded"
    assert response["Access-Control-Allow-Origin"] == "*"
    exposed = {name.strip() for name in response["Access-Control-Expose-Headers"].split(",")}
    assert {"x-sentry-rate-limits", "retry-after", "x-sentry-error"} <= exposed
    assert response["Content-Type"] == "application/json"
    assert detail in response.json()["detail"]
    assert response["X-Sentry-Error"] == response.json()["detail"]


@pytest.fixture
def other_project(db):
    return Project.objects.create(name="Other", slug="other")


def test_project_limit_per_minute(client, project, settings, clock):
    settings.QUOTA_EVENTS_PER_MINUTE = 2
    assert [post_envelope(client, project).status_code for _ in range(2)] == [200, 200]
    response = post_envelope(client, project)
    assert_quota_response(response, 43, "project", f"project {project.pk} accepts at most 2 events per minute")
    assert response.json()["detail"].endswith("retry in 43 s")
    assert Event.objects.filter(project=project).count() == 2

    clock.now = HOUR_START + 60  # the next minute
    assert post_envelope(client, project).status_code == 200
    assert Event.objects.filter(project=project).count() == 3


def test_project_limit_per_hour(client, project, settings, clock):
    settings.QUOTA_EVENTS_PER_MINUTE = 100
    settings.QUOTA_EVENTS_PER_HOUR = 3
    for minute in range(3):
        clock.now = HOUR_START + 60 * minute + 5
        assert post_envelope(client, project).status_code == 200
    clock.now = HOUR_START + 600
    assert_quota_response(post_envelope(client, project), 3000, "project", "at most 3 events per hour")
    clock.now = HOUR_START + 3600
    assert post_envelope(client, project).status_code == 200


def test_project_override(client, project, other_project, settings, clock):
    settings.QUOTA_EVENTS_PER_MINUTE = 3
    project.quota_events_per_minute = 1
    project.save()
    other_project.quota_events_per_minute = 0  # unlimited, whatever the setting
    other_project.save()

    assert post_envelope(client, project).status_code == 200
    assert_quota_response(post_envelope(client, project), 43, "project", "at most 1 event per minute")
    assert [post_envelope(client, other_project).status_code for _ in range(5)] == [200] * 5


def test_installation_limit(client, project, other_project, settings, clock):
    settings.QUOTA_EVENTS_PER_MINUTE = 10
    settings.QUOTA_INSTALLATION_EVENTS_PER_MINUTE = 3
    assert [post_envelope(client, project).status_code for _ in range(2)] == [200, 200]
    assert post_envelope(client, other_project).status_code == 200
    for full in (project, other_project):
        assert_quota_response(
            post_envelope(client, full), 43, "organization", "this installation (all projects) accepts at most 3"
        )
    assert Event.objects.count() == 3


def test_store_endpoint(client, project, settings, clock):
    settings.QUOTA_EVENTS_PER_MINUTE = 1

    def store():
        return client.post(
            f"/api/{project.pk}/store/",
            data=json.dumps(exception_event()),
            content_type="application/json",
            **auth_header(project),
        )

    assert store().status_code == 200
    assert_quota_response(store(), 43, "project", "at most 1 event per minute")


def test_only_accepted_events_count(client, project, settings, clock):
    settings.QUOTA_EVENTS_PER_MINUTE = 2
    minute = quota.project_limits(project)[0]
    session_only = b'{}\n{"type":"session","length":2}\n{}\n'
    bad_json = b'{}\n{"type":"event"}\n{not json\n'
    assert post_envelope(client, project, session_only).status_code == 200
    assert post_envelope(client, project, bad_json).status_code == 400
    wrong_key = {"HTTP_X_SENTRY_AUTH": "Sentry sentry_key=" + "0" * 32}
    assert post_envelope(client, project, **wrong_key).status_code == 403
    assert quota.counter().count(minute, NOW) == 0

    assert [post_envelope(client, project).status_code for _ in range(3)] == [200, 200, 429]
    assert quota.counter().count(minute, NOW) == 2  # the refused one is not counted


def test_a_429_writes_nothing(client, project, settings, clock, django_assert_num_queries):
    settings.QUOTA_EVENTS_PER_MINUTE = 1
    assert post_envelope(client, project).status_code == 200
    store_dir = settings.INGEST_STORE_DIR
    files_before = sorted(p for p in store_dir.rglob("*") if p.is_file())

    # An envelope may hold any category, so it is read before the quotas are asked; a refused one leaves nothing in
    # the store and costs no query (the project's key and quotas are the ones the first request cached).
    with django_assert_num_queries(0):
        response = post_envelope(client, project)
    assert_quota_response(response, 43, "project", "at most 1 event per minute")
    assert sorted(p for p in store_dir.rglob("*") if p.is_file()) == files_before

    # with the key in the query string (browser SDKs), the same
    with django_assert_num_queries(0):
        response = client.post(
            f"/api/{project.pk}/envelope/?sentry_key={project.sentry_key}",
            data=make_envelope(exception_event()),
            content_type="text/plain",
        )
    assert response.status_code == 429


def test_store_429_reads_no_body(client, project, settings, clock, django_assert_num_queries):
    """/store/ holds events only: a full event quota is answered before the body is read (this one would be a 400)."""
    settings.QUOTA_EVENTS_PER_MINUTE = 1
    quota.consume(project)
    with django_assert_num_queries(1):  # the project, into the ingest cache
        response = client.post(
            f"/api/{project.pk}/store/", data=b"\x00 not json", content_type="application/json", **auth_header(project)
        )
    assert_quota_response(response, 43, "project", "at most 1 event per minute")


def test_key_only_in_the_envelope_dsn(client, project, settings, clock):
    """sentry-ruby style: no header key; the key in the envelope's dsn is checked before any quota."""
    settings.QUOTA_EVENTS_PER_MINUTE = 1
    header = json.dumps({"dsn": f"http://{project.sentry_key}@127.0.0.1:8000/{project.pk}"}).encode()
    event_item = b'{"type":"event"}\n' + json.dumps(exception_event()).encode() + b"\n"

    def send(items: bytes):
        return client.post(
            f"/api/{project.pk}/envelope/", data=header + b"\n" + items, content_type="application/x-sentry-envelope"
        )

    assert send(event_item).status_code == 200
    assert_quota_response(send(event_item), 43, "project", "at most 1 event per minute")
    wrong = json.dumps({"dsn": f"http://{'0' * 32}@127.0.0.1:8000/{project.pk}"}).encode()
    response = client.post(f"/api/{project.pk}/envelope/", data=wrong + b"\n", content_type="text/plain")
    assert response.status_code == 403  # a wrong key is refused as such, not told about quotas


def test_a_flood_is_logged_once_per_window(client, project, settings, clock, caplog):
    settings.QUOTA_EVENTS_PER_MINUTE = 1
    with caplog.at_level(logging.INFO):
        statuses = [post_envelope(client, project).status_code for _ in range(20)]
    assert statuses == [200] + [429] * 19
    quota_logs = [r for r in caplog.records if "quota exceeded" in r.getMessage() and r.levelno >= logging.INFO]
    assert len(quota_logs) == 1 and quota_logs[0].levelno == logging.WARNING


def test_redis_counts_are_used_when_the_broker_is_redis(client, project, settings, clock, redis_db):
    settings.CELERY_BROKER_URL = REDIS_URL
    settings.QUOTA_EVENTS_PER_MINUTE = 2
    assert [post_envelope(client, project).status_code for _ in range(3)] == [200, 200, 429]
    assert int(redis_db.get(f"bugsink:quota:project:{project.pk}:60:{HOUR_START}")) == 2
    assert Event.objects.filter(project=project).count() == 2


def test_redis_down_accepts(client, project, settings, clock, caplog):
    settings.CELERY_BROKER_URL = closed_redis_url()
    settings.QUOTA_EVENTS_PER_MINUTE = 1
    with caplog.at_level(logging.WARNING, logger="ingest.quota"):
        assert [post_envelope(client, project).status_code for _ in range(3)] == [200, 200, 200]
    assert Event.objects.filter(project=project).count() == 3
    assert any("Redis is unreachable" in r.getMessage() for r in caplog.records)


# --- the real Python SDK backs off ----------------------------------------------------------------------------------

ACCESS_LINE = re.compile(r'"POST /api/(?P<project>\d+)/envelope/[^"]*" (?P<status>\d{3}) ')
SENT_LINE = re.compile(r"Sending envelope \[envelope with \d+ items \((?P<categories>[^)]*)\)\]")


@pytest.mark.live
def test_python_sdk_stops_sending_after_the_429(transactional_db, tmp_path):
    """A live web server with a quota of 2 events per minute (counted in-process: no broker) and the real
    `sentry-sdk` capturing 5 errors. How we know it stopped sending, from both ends, without instrumenting either:

    - the server's own access log (bugsink.webserver's, switched on with ACCESS_LOG=true) lists every
      request it received for the project, with its status: 200, 200, 429 for the first three events;
    - the SDK (debug=True) logs one "Sending envelope [... (categories)]" line per HTTP request it makes, from one
      background thread in order, so its lines pair up one to one with the access log's: after the 429 it never
      sent another `error` envelope. (At flush it does send its client report, category `internal`, saying it
      dropped 2 errors for "ratelimit_backoff"; client reports have no quota, so that one is accepted.)
    - the database holds exactly the first two of the five events the SDK captured.

    The server's quota clock starts at the beginning of a UTC minute (BUGSINK_TEST_QUOTA_CLOCK_START, read by
    testing.settings), so all five captures fall into one window without waiting for the wall clock's.
    """
    from ingest.tests.test_real_sdks import CLIENTS_DIR, client_env, dsn_for, run_client

    project = Project.objects.create(name="Rate limited")
    env = {
        "QUOTA_EVENTS_PER_MINUTE": "2",
        "QUOTA_EVENTS_PER_HOUR": "0",
        "QUOTA_INSTALLATION_EVENTS_PER_MINUTE": "0",
        "QUOTA_INSTALLATION_EVENTS_PER_HOUR": "0",
        "CELERY_BROKER_URL": "",
        "ACCESS_LOG": "true",
        "BUGSINK_TEST_QUOTA_CLOCK_START": str(window_start(time.time(), HOUR) + 1),  # 59 s left in its minute
    }
    with start_web_server(tmp_path, extra_env=env) as url:
        result = run_client(
            [sys.executable, str(CLIENTS_DIR / "python_client.py"), dsn_for(project, url), "rate_limited"],
            client_env(),
        )
    output = result["output"]
    access_log = (tmp_path / "server.log").read_text()

    captured = [event_id.replace("-", "") for event_id in result["event_ids"]]
    assert len(captured) == 5 and all(re.fullmatch(r"[0-9a-f]{32}", event_id) for event_id in captured), output

    statuses = [int(m["status"]) for m in ACCESS_LINE.finditer(access_log) if int(m["project"]) == project.pk]
    sent = [m["categories"].split(", ") for m in SENT_LINE.finditer(output)]
    assert statuses[:3] == [200, 200, 429], access_log
    assert len(sent) == len(statuses), f"the SDK's requests and the server's do not pair up\n{output}\n{access_log}"
    assert sent[:3] == [["error"]] * 3, output
    assert all("error" not in categories for categories in sent[3:]), output  # nothing but its client report
    assert "Rate-limited via x-sentry-rate-limits" in output

    stored = {event.event_id.hex for event in Event.objects.filter(project=project)}
    assert stored == set(captured[:2])
