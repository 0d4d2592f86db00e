"""No event can block its project, on every database: a statement that fails for one event's data (whatever
exception class the driver reports it with: MariaDB says OperationalError for a packet too big and for a SIGNAL from
a trigger) costs that event a few tries and then a place in the quarantine; the events around it are digested, and
so are the ones that arrive after it. Only a database that does not answer leaves raw events pending.

These tests commit for real (transactional_db), as the digest worker does, so a failure may cost the connection and
digest has to reconnect."""

import time

import pytest
from django.db import connection

from digest.batch import DatabaseUnavailable, digest, digest_pending
from events.models import Event
from ingest import store
from ingest.store import pending_keys, quarantined_events
from testing.utils import exception_event, store_event

POISON = "POISON-MARKER"


TRIGGERS = {
    "sqlite": (
        [
            f"""CREATE TRIGGER poison BEFORE INSERT ON events_event WHEN NEW.calculated_value LIKE '%{POISON}%'
            BEGIN SELECT RAISE(ABORT, 'poisoned row'); END"""
        ],
        ["DROP TRIGGER IF EXISTS poison"],
    ),
    "postgresql": (
        [
            f"""CREATE OR REPLACE FUNCTION poison_row() RETURNS trigger AS $$ BEGIN
            IF NEW.calculated_value LIKE '%{POISON}%' THEN RAISE EXCEPTION 'poisoned row'; END IF;
            RETURN NEW; END $$ LANGUAGE plpgsql""",
            "CREATE TRIGGER poison BEFORE INSERT ON events_event FOR EACH ROW EXECUTE FUNCTION poison_row()",
        ],
        ["DROP TRIGGER IF EXISTS poison ON events_event", "DROP FUNCTION IF EXISTS poison_row()"],
    ),
    "mysql": (
        [
            f"""CREATE TRIGGER poison BEFORE INSERT ON events_event FOR EACH ROW BEGIN
            IF NEW.calculated_value LIKE '%{POISON}%' THEN
            SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'poisoned row'; END IF; END"""
        ],
        ["DROP TRIGGER IF EXISTS poison"],
    ),
}


@pytest.fixture
def poison_trigger(transactional_db):
    """A database trigger that refuses to store an event whose title holds the marker: a per-statement failure in
    the driver's own exception class."""
    create, drop = TRIGGERS[connection.vendor]
    with connection.cursor() as cursor:
        for statement in create:
            cursor.execute(statement)
    yield
    with connection.cursor() as cursor:
        for statement in drop:
            cursor.execute(statement)


@pytest.fixture
def fast_retries(monkeypatch):
    import digest.batch as digest_module

    monkeypatch.setattr(digest_module, "RETRY_PAUSE_SECONDS", 0.01)


def test_a_statement_failing_for_one_event_does_not_block_the_project(poison_trigger, fast_retries):
    from projects.models import Project

    project = Project.objects.create(name="Poisoned")
    keys = [
        store_event(project, exception_event("Good", "before")),
        store_event(project, exception_event("Bad", f"value {POISON}")),
        store_event(project, exception_event("Good", "after")),
    ]
    assert digest(keys[0]) == 2
    assert sorted(Event.objects.values_list("calculated_value", flat=True)) == ["after", "before"]
    assert pending_keys(project.pk) == []
    count, quarantined = quarantined_events()
    assert count == 1 and quarantined[0].key == keys[1]
    assert "failed 3 times" in quarantined[0].reason and "poisoned row" in quarantined[0].reason

    # the project goes on: later events are digested as usual
    later = store_event(project, exception_event("Good", "later"))
    assert digest_pending(project.pk) == 1
    assert Event.objects.filter(calculated_value="later").exists()
    assert store.load_raw_event(later) is None


def test_a_database_that_does_not_answer_leaves_the_events_pending(transactional_db, monkeypatch):
    import digest.batch as digest_module
    from projects.models import Project

    project = Project.objects.create(name="Away")
    keys = [store_event(project, exception_event("Good")) for _ in range(2)]

    def database_gone(project_id, prepared):
        raise RuntimeError("connection lost")

    monkeypatch.setattr(digest_module, "_digest_batch", database_gone)
    monkeypatch.setattr(digest_module, "database_answers", lambda: False)
    with pytest.raises(DatabaseUnavailable):
        digest(keys[0])
    assert pending_keys(project.pk) == keys, "kept for a retry or the sweep"
    assert quarantined_events()[0] == 0


@pytest.mark.skipif(
    "connection.vendor != 'mysql'", reason="MariaDB's max_allowed_packet: runs in make test-mariadb (CI runs it)"
)
def test_an_event_too_big_for_max_allowed_packet(transactional_db, fast_retries):
    """MariaDB drops the connection for a packet over max_allowed_packet (error 1153, then 2006). Our own limits keep
    events well under MariaDB's default (16 MiB), so the limit is lowered for this test's connections."""
    from projects.models import Project

    project = Project.objects.create(name="Big")
    with connection.cursor() as cursor:
        cursor.execute("SELECT @@GLOBAL.max_allowed_packet")
        (original,) = cursor.fetchone()
        cursor.execute("SET GLOBAL max_allowed_packet = 262144")
    connection.close()  # the session value is taken from the global one at connect
    try:
        keys = [
            store_event(project, exception_event("Good", "before")),
            store_event(project, exception_event("Big", "big", extra={"blob": "x" * 400_000})),
            store_event(project, exception_event("Good", "after")),
        ]
        assert digest(keys[0]) == 2
        assert sorted(Event.objects.values_list("calculated_value", flat=True)) == ["after", "before"]
        count, quarantined = quarantined_events()
        assert count == 1 and quarantined[0].key == keys[1]
    finally:
        connection.close()
        with connection.cursor() as cursor:
            cursor.execute(f"SET GLOBAL max_allowed_packet = {int(original)}")
        connection.close()


def test_contention_is_tried_again_before_events_wait(transactional_db, monkeypatch):
    """A deadlock victim or a lock timeout is the database asking the client to try again: digest does, a few times,
    and only then leaves the events pending (not quarantined: they did nothing wrong)."""
    from django.db import OperationalError

    import digest.batch as digest_module
    from projects.models import Project

    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    project = Project.objects.create(name="Busy")
    key = store_event(project, exception_event("Good"))
    real = digest_module._digest_batch
    failures = iter([OperationalError("deadlock detected"), OperationalError("(1205, 'Lock wait timeout exceeded')")])

    def busy_then_fine(project_id, prepared):
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return real(project_id, prepared)

    monkeypatch.setattr(digest_module, "_digest_batch", busy_then_fine)
    assert digest(key) == 1

    always_busy = store_event(project, exception_event("Busy"))
    monkeypatch.setattr(
        digest_module, "_digest_batch", lambda *args: (_ for _ in ()).throw(OperationalError("database is locked"))
    )
    with pytest.raises(DatabaseUnavailable):
        digest(always_busy)
    assert pending_keys(project.pk) == [always_busy] and quarantined_events()[0] == 0
