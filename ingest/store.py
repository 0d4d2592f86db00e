"""The ingest store: raw accepted events kept until digest has turned them into Event rows.

Two stores with one interface, chosen by INGEST_STORE: `file` (the default; ingest.file_store, local disk with
group-committed fsyncs) and `database` (ingest.db_store, a table of the main database, for several web nodes that
share no disk). The record and its key are the same in both (ingest.raw). Callers use only this module.

A raw event is accepted (200) only once it is durable; digest takes a project's pending raw events oldest first,
stores them, and forgets them as its transaction commits (forget_digested); one that digest cannot handle goes to
quarantine with the reason, where an admin sees, downloads and retries it; the sweep re-enqueues pending raw events
that nobody digested.
"""

from types import ModuleType
from typing import BinaryIO

from django.conf import settings

from ingest import db_store, file_store
from ingest.raw import QuarantinedEvent, RawEvent, RawItem

__all__ = ["QuarantinedEvent", "RawEvent", "RawItem"]

MAX_REASON_LENGTH = 4000


def backend() -> ModuleType:
    return db_store if settings.INGEST_STORE == "database" else file_store


def store_raw_event(raw: RawEvent) -> str:
    """Write durably; returns the key (also set on `raw`)."""
    return backend().store_raw_event(raw)


def replace_payload(key: str, payload: bytes) -> None:
    """Put `payload` in place of the pending raw event's (same key, same items), atomically; nothing when it is not
    pending. Digest keeps an event it must quarantine as it would have stored it: normalized and scrubbed
    (events.scrub), and without the sender's address (the event holds it where the SDK asked for it, or not at all)."""
    raw = load_raw_event(key)
    if raw is None:
        return
    raw.payload, raw.remote_addr = payload, ""
    backend().replace_raw_event(raw)


def load_raw_event(key: str) -> RawEvent | None:
    """The pending raw event `key`, or None when it is not pending (digested, quarantined, never stored)."""
    return backend().load_raw_event(key)


def load_raw_events(keys: list[str]) -> dict[str, RawEvent]:
    """The pending ones among `keys`, by key."""
    return backend().load_raw_events(keys)


def exists(key: str) -> bool:
    """Is `key` pending?"""
    return backend().exists(key)


def forget_digested(keys: list[str]) -> None:
    """Called inside digest's transaction: the raw events go when (and only if) it commits."""
    backend().forget_digested(keys)


def delete_raw_event(key: str) -> None:
    backend().delete_raw_events([key])


def quarantine_raw_event(key: str, reason: str = "") -> None:
    """Keep a raw event that digest cannot handle out of the way (nothing is lost; an operator can look at it, see
    quarantined_events), with the reason."""
    backend().quarantine_raw_event(key, reason[:MAX_REASON_LENGTH])


def in_quarantine(key: str) -> bool:
    try:
        return backend().in_quarantine(key)
    except ValueError:
        return False


def open_quarantined(key: str) -> BinaryIO:
    """The quarantined record's bytes, as stored (FileNotFoundError when it is not in quarantine)."""
    return backend().open_quarantined(key)


def release_from_quarantine(key: str) -> None:
    """Back among the pending raw events (an admin's retry); its reason is forgotten."""
    backend().release_from_quarantine(key)


def quarantine_count() -> int:
    return quarantined_events(limit=0)[0]


def quarantined_events(limit: int = 200) -> tuple[int, list[QuarantinedEvent]]:
    """How many raw events are in quarantine, and the newest `limit` of them."""
    return backend().quarantined_events(limit)


def pending_keys(project_id: int, limit: int | None = None) -> list[str]:
    """Keys of a project's undigested raw events, oldest first."""
    return backend().pending_keys(project_id, limit)


def pending_raw_events(older_than_seconds: float = 0) -> list[str]:
    """Keys of every undigested raw event (of every project) received more than `older_than_seconds` ago."""
    return backend().pending_raw_events(older_than_seconds)


def remove_orphan_temporaries(older_than_seconds: float = 3600) -> int:
    """Leftovers of writes that never finished (a crash between write and rename); how many were removed."""
    return backend().remove_orphan_temporaries(older_than_seconds)
