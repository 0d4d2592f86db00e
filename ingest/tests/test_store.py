"""The ingest store's interface, the same for the file store and the database store (INGEST_STORE): a record with
its items comes back as stored, pending keys oldest first, quarantine with its reason and back, forgotten only when
digest's transaction commits; an event sent over HTTP is digested from either. And the file store's group commit:
renames that arrive while a directory fsync runs share the next one, and no request returns before a directory
fsync that started after its own rename has completed."""

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.db import transaction

from events.models import Event
from ingest import file_store, store
from ingest.file_store import DirectorySync
from ingest.models import RawRecord
from ingest.raw import RawEvent, RawItem
from testing.utils import auth_header, exception_event, make_envelope, wait_until


@pytest.fixture(params=["file", "database"])
def which_store(request, settings):
    settings.INGEST_STORE = request.param
    return request.param


def raw_event(project_id, received_at=None, items=(), **event):
    return RawEvent(
        project_id=project_id,
        event_id=uuid.uuid4().hex,
        received_at=received_at if received_at is not None else time.time(),
        remote_addr="127.0.0.1",
        payload=json.dumps(exception_event(**event)).encode() if event or not items else b"",
        items=list(items),
    )


@pytest.mark.django_db
def test_a_record_comes_back_as_stored(which_store):
    attachment = RawItem({"type": "attachment", "filename": "log.txt"}, b"\x00binary\nlines\xff")
    raw = raw_event(7, items=[attachment], value="with an attachment")
    key = store.store_raw_event(raw)
    assert raw.key == key and key.startswith("7/")
    loaded = store.load_raw_event(key)
    assert (loaded.event_id, loaded.payload, loaded.remote_addr) == (raw.event_id, raw.payload, "127.0.0.1")
    assert loaded.items == [attachment]
    assert store.exists(key) and store.load_raw_events([key, "7/1-nope"]) == {key: loaded}
    only_items = raw_event(7, items=[RawItem({"type": "feedback"}, b'{"message": "hi"}')])
    assert store.load_raw_event(store.store_raw_event(only_items)).payload == b""


@pytest.mark.django_db
def test_pending_keys_oldest_first_per_project(which_store):
    now = time.time()
    keys = [store.store_raw_event(raw_event(3, received_at=now - 100 + i)) for i in (5, 1, 9, 3)]
    other = store.store_raw_event(raw_event(4, received_at=now))
    in_order = [keys[1], keys[3], keys[0], keys[2]]
    assert store.pending_keys(3) == in_order
    assert store.pending_keys(3, limit=2) == in_order[:2]
    assert store.pending_keys(5) == []
    assert sorted(store.pending_raw_events(older_than_seconds=50)) == sorted(keys)
    assert other in store.pending_raw_events()
    store.delete_raw_event(keys[1])
    assert store.pending_keys(3) == [keys[3], keys[0], keys[2]] and store.load_raw_event(keys[1]) is None


@pytest.mark.django_db
def test_quarantine_keeps_the_record_and_its_reason(which_store):
    key = store.store_raw_event(raw_event(5, value="poison"))
    store.quarantine_raw_event(key, reason="digest failed 3 times: " + "x" * 10_000)
    assert not store.exists(key) and store.pending_keys(5) == [] and store.pending_raw_events() == []
    assert store.in_quarantine(key) and store.quarantine_count() == 1
    count, [listed] = store.quarantined_events()
    assert (count, listed.key, listed.project_id) == (1, key, 5)
    assert listed.reason.startswith("digest failed 3 times") and len(listed.reason) == store.MAX_REASON_LENGTH
    content = store.open_quarantined(key).read()
    assert len(content) == listed.size and b"poison" in content
    store.release_from_quarantine(key)
    assert store.pending_keys(5) == [key] and not store.in_quarantine(key) and store.quarantine_count() == 0
    assert not store.in_quarantine("5/../../secret") and not store.in_quarantine("x/y")


@pytest.mark.django_db(transaction=True)
def test_digested_records_go_only_when_the_transaction_commits(which_store):
    key = store.store_raw_event(raw_event(6))
    with pytest.raises(RuntimeError), transaction.atomic():
        store.forget_digested([key])
        raise RuntimeError("digest failed")
    assert store.exists(key)
    with transaction.atomic():
        store.forget_digested([key])
    assert not store.exists(key) and store.pending_keys(6) == []


@pytest.mark.django_db(transaction=True)
def test_an_event_sent_over_http_is_digested_from_the_database_store(settings, project, send_event):
    settings.INGEST_STORE = "database"
    event_id = uuid.uuid4().hex
    response = send_event(project, exception_event("DbStored", "from the table", event_id=event_id))
    assert response.status_code == 200
    assert Event.objects.filter(project=project, event_id=event_id).exists()
    assert not RawRecord.objects.exists(), "digest deleted the record it stored"
    assert not settings.INGEST_STORE_DIR.exists() or not any(settings.INGEST_STORE_DIR.rglob("*.event"))


def test_a_record_over_the_database_store_limit_is_a_413_not_a_failed_insert(settings, project, client):
    settings.INGEST_STORE = "database"
    settings.INGEST_DATABASE_MAX_RECORD_SIZE = 64 * 1024
    event_id = uuid.uuid4().hex
    body = make_envelope(exception_event(event_id=event_id), extra_items=[("attachment", b"a" * 70 * 1024)])
    response = client.post(
        f"/api/{project.pk}/envelope/", data=body, content_type="application/x-sentry-envelope", **auth_header(project)
    )
    assert response.status_code == 413 and "database store" in response.json()["detail"]
    assert not RawRecord.objects.exists() and not Event.objects.exists()


def test_an_unknown_store_is_refused_at_startup(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", "import bugsink.settings"],
        env={**os.environ, "INGEST_STORE": "nfs", "BUGSINK_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "INGEST_STORE must be 'file' or 'database'" in result.stderr


def test_renames_during_a_directory_sync_share_the_next_one(tmp_path):
    started = []  # how many renames had been announced when each fsync began
    gate = threading.Event()

    def fsync(directory):
        started.append(sync.renames)
        if len(started) == 1:
            assert gate.wait(10)

    sync = DirectorySync(fsync=fsync)
    first = threading.Thread(target=sync.after_rename, args=(tmp_path,))
    first.start()
    wait_until(lambda: started, 10, message="the first fsync")
    others = [threading.Thread(target=sync.after_rename, args=(tmp_path,)) for _ in range(5)]
    for thread in others:
        thread.start()
    wait_until(lambda: sync.renames == 6, 10, message="every rename announced")
    assert all(thread.is_alive() for thread in [first, *others]), "nobody returns before its sync"
    gate.set()
    for thread in [first, *others]:
        thread.join(10)
    assert not any(thread.is_alive() for thread in [first, *others])
    assert started == [1, 6] and sync.syncs == 2, "the five renames during the first sync shared the second"


def test_a_failed_directory_sync_fails_its_caller_and_the_waiters_sync_again(tmp_path):
    gate = threading.Event()
    outcomes = []

    def fsync(directory):
        if sync.syncs == 0 and not outcomes:
            assert gate.wait(10)
            outcomes.append("failed")
            raise OSError("I/O error")

    def call():
        try:
            sync.after_rename(tmp_path)
            outcomes.append("synced")
        except OSError:
            outcomes.append("raised")

    sync = DirectorySync(fsync=fsync)
    threads = [threading.Thread(target=call)]
    threads[0].start()
    wait_until(lambda: sync.renames == 1, 10, message="the first rename")
    threads.append(threading.Thread(target=call))
    threads[1].start()
    wait_until(lambda: sync.renames == 2, 10, message="the second rename")
    gate.set()
    for thread in threads:
        thread.join(10)
    assert sorted(outcomes) == ["failed", "raised", "synced"] and sync.syncs == 1


def test_no_event_is_accepted_before_a_directory_sync_covers_it(settings, monkeypatch):
    """Concurrent writers through the real store: each returned key was in its directory when a completed fsync
    of that directory began (what makes the rename durable), and there is never more than one fsync per event."""
    settings.INGEST_FSYNC, settings.INGEST_GROUP_COMMIT = True, True
    covered = []  # the names in the directory as each completed fsync began

    def fsync(directory):
        names = set(os.listdir(directory))
        file_store._fsync_directory(directory)
        covered.append(names)

    monkeypatch.setattr(file_store, "directory_sync", DirectorySync(fsync=fsync))
    failures = []

    def writer():
        for _ in range(15):
            key = store.store_raw_event(raw_event(9))
            done = len(covered)
            name = key.partition("/")[2] + file_store.SUFFIX
            if not any(name in names for names in covered[:done]):
                failures.append(key)

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures and len(store.pending_keys(9)) == 120
    assert file_store.directory_sync.renames == 120 and file_store.directory_sync.syncs <= 120


def test_without_group_commit_each_event_syncs_its_directory(settings, monkeypatch):
    settings.INGEST_FSYNC, settings.INGEST_GROUP_COMMIT = True, False
    store.store_raw_event(raw_event(10))  # the project's folder exists from here on
    synced = []
    monkeypatch.setattr(file_store, "_fsync_directory", synced.append)
    keys = [store.store_raw_event(raw_event(10)) for _ in range(3)]
    assert len(synced) == 3 and {Path(path).name for path in synced} == {"10"} and store.pending_keys(10)[1:] == keys


def test_a_project_folder_removed_by_hand_is_made_again(settings):
    """The store remembers which project folders exist (no stat per event); one removed meanwhile costs a retry,
    not the event."""
    import shutil

    first = store.store_raw_event(raw_event(11))
    shutil.rmtree(Path(settings.INGEST_STORE_DIR) / "11")
    second = store.store_raw_event(raw_event(11))
    assert store.pending_keys(11) == [second] and not store.exists(first)
