"""Sessions through the real ingest endpoint into hourly buckets: a session counts once by how it ended, whatever
the number of its updates; aggregates add their counts; users are counted distinct; hostile payloads are counted as
not usable and never raise; a project's buckets per hour are bounded."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings

from health.models import DiscardCount, SessionBucket
from health.summary import HealthTotals, totals_by_release
from releases.models import Release

NOW = datetime.now(UTC).replace(microsecond=0)
STARTED = (NOW - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")


def session(sid, status="ok", init=False, errors=0, did=None, release="1.0", environment="production", **extra):
    data = {
        "sid": sid,
        "init": init,
        "started": STARTED,
        "timestamp": STARTED,
        "status": status,
        "errors": errors,
        "attrs": {"release": release, "environment": environment},
        **extra,
    }
    if did is not None:
        data["did"] = did
    return ("session", data)


def totals(project, release="1.0") -> HealthTotals:
    return totals_by_release(project, NOW - timedelta(days=1), NOW + timedelta(hours=1))[release]


def test_a_session_counts_once_by_how_it_ended(project, post_envelope):
    # as the Python SDK sends them: the crash with its event, and the same status again when the session ends
    post_envelope(project, [session("a", init=True, did="u1"), session("b", init=True, did="u2")])
    post_envelope(project, [session("b", status="crashed", errors=1, did="u2")])
    post_envelope(project, [session("a", status="exited", did="u1"), session("b", status="crashed", errors=1)])
    t = totals(project)
    assert (t.sessions, t.healthy, t.errored, t.crashed, t.abnormal) == (2, 1, 0, 1, 0)
    assert t.crash_free_sessions == 50.0
    assert (t.users, t.crash_free_users) == (2, 50.0)


def test_errored_sessions_count_once_and_apart_from_crashes(project, post_envelope):
    post_envelope(project, [session("a", init=True, errors=1), session("a", errors=2), session("a", status="exited")])
    post_envelope(project, [session("b", init=True), session("b", status="abnormal")])
    post_envelope(project, [session("c", init=True), session("c", status="exited")])
    t = totals(project)
    assert (t.sessions, t.healthy, t.errored, t.crashed, t.abnormal) == (3, 1, 1, 0, 1)
    assert t.crash_free_sessions == 100.0


def test_aggregates_add_their_counts(project, post_envelope):
    aggregate = {
        "aggregates": [
            {"started": STARTED, "exited": 7, "errored": 2, "crashed": 1},
            {"started": STARTED, "did": "u9", "exited": 1, "abnormal": 1},
        ],
        "attrs": {"release": "1.0", "environment": "production"},
    }
    post_envelope(project, [("sessions", aggregate)])
    t = totals(project)
    assert (t.sessions, t.healthy, t.errored, t.crashed, t.abnormal, t.users) == (12, 8, 2, 1, 1, 1)
    assert t.crash_free_sessions == pytest.approx(100 * 11 / 12)


def test_sessions_make_their_release_known(project, post_envelope):
    post_envelope(project, [session("a", init=True, status="exited", release="2.0")])
    assert Release.objects.filter(project=project, version="2.0").exists()


def test_releases_and_environments_and_hours_are_apart(project, post_envelope):
    earlier = (NOW - timedelta(hours=3)).isoformat()
    post_envelope(
        project,
        [
            session("a", init=True, release="1.0", environment="production"),
            session("b", init=True, release="1.0", environment="staging"),
            session("c", init=True, release="1.1", environment="production"),
            session("d", init=True, release="1.0", environment="production", started=earlier),
        ],
    )
    keys = set(SessionBucket.objects.values_list("release", "environment", "started"))
    assert keys == {("1.0", "production", 1), ("1.0", "staging", 1), ("1.1", "production", 1)}
    assert SessionBucket.objects.count() == 4


HOSTILE = [
    b"not json",
    b"[1, 2]",
    b'{"sid": "x", "init": true}',  # no release
    b'{"sid": "x", "init": true, "attrs": {"release": ""}}',
    b'{"sid": ["x"], "init": "yes", "status": 5, "errors": "many", "attrs": {"release": 1.5}, "started": "soon"}',
    b'{"aggregates": "all", "attrs": {"release": "1.0"}}',
    b'{"aggregates": [1, {"exited": -5}, {"exited": true, "crashed": 1e99}], "attrs": {"release": "1.0"}}',
    b"[" * 5000 + b"]" * 5000,
    b'{"sid": "y", "init": true, "started": "1970-01-01T00:00:00Z", "attrs": {"release": "1.0"}}',
]


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_session_payloads_are_counted_not_raised(project, post_envelope, payload):
    post_envelope(project, [("sessions" if b"aggregates" in payload else "session", payload)])
    assert SessionBucket.objects.filter(started__gt=1).count() == 0
    unusable = DiscardCount.objects.filter(project=project, source=DiscardCount.UNUSABLE, category="session")
    assert sum(unusable.values_list("quantity", flat=True)) + SessionBucket.objects.count() >= 1


def test_an_oversized_session_item_is_counted(project, post_envelope):
    post_envelope(project, [("session", b'{"pad": "' + b"x" * 70000 + b'"}')])
    assert DiscardCount.objects.get(project=project, source=DiscardCount.UNUSABLE).reason == "too large"


@override_settings(HEALTH_MAX_SERIES_PER_HOUR=3)
def test_buckets_per_hour_are_bounded_and_the_overflow_counted(project, post_envelope):
    post_envelope(project, [session(f"s{i}", init=True, release=f"1.{i}") for i in range(5)])
    post_envelope(project, [session("t", init=True, release="1.0"), session("u", init=True, release="9.9")])
    assert sorted(SessionBucket.objects.values_list("release", "started")) == [("1.0", 2), ("1.1", 1), ("1.2", 1)]
    overflow = DiscardCount.objects.get(project=project, source=DiscardCount.UNUSABLE, reason="too many releases")
    assert overflow.quantity == 3


def test_many_users_are_approximated_within_a_few_percent(project, post_envelope):
    for batch in range(10):
        post_envelope(project, [session(f"s{batch}-{i}", init=True, did=f"user{batch * 100 + i}") for i in range(100)])
    assert totals(project).sessions == 1000
    assert abs(totals(project).users - 1000) <= 100


def test_retention_deletes_old_buckets_and_counts_only(project, post_envelope, settings):
    from health.retention import expire_health

    post_envelope(project, [session("a", init=True), ("transaction", {})])
    assert expire_health(now=NOW).total == 0
    report = expire_health(now=NOW + timedelta(days=settings.HEALTH_RETENTION_DAYS + 2))
    assert (report.buckets, report.discards) == (1, 1)
    assert not SessionBucket.objects.exists() and not DiscardCount.objects.exists()

    settings.HEALTH_RETENTION_DAYS = 0  # no age limit: nothing goes, and old sessions still count
    post_envelope(project, [session("b", init=True)])
    assert expire_health(now=NOW + timedelta(days=3650)).total == 0
    assert SessionBucket.objects.count() == 1


def test_retention_is_a_periodic_job(settings):
    from health.retention import expire_health_job

    assert expire_health_job.name in {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert expire_health_job.later()
