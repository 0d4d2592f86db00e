"""The ingest store: raw accepted events on disk until digest has turned them into Event rows.

A file is written to a temporary name, fsynced and renamed, so a 200 is only sent for an event that survives a
crash. Digest deletes the file after its transaction commits; a file that is still here was never digested (the
sweep, ingest.sweep, re-enqueues those).

Layout: `<INGEST_STORE_DIR>/<project_id>/<received_ns>-<event_id>.event`: one JSON header line, the event payload,
then the payloads of the envelope's other kept items (attachments, user feedback) one after the other, their types
and lengths in the header. A record may hold items and no event (an envelope of feedback or late attachments).
A raw event is named by its key,
"<project_id>/<received_ns>-<event_id>": sorting a project's names gives arrival order, which lets digest take the
oldest pending events of a project in one batch.
"""

import json
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

SUFFIX = ".event"
REASON_SUFFIX = ".reason"
QUARANTINE = "quarantine"


@dataclass
class RawItem:
    """An envelope item kept beside the event: its item headers (type, filename, content_type, ...) and payload."""

    headers: dict
    payload: bytes


@dataclass
class RawEvent:
    project_id: int
    event_id: str  # 32 lowercase hex
    received_at: float
    remote_addr: str
    payload: bytes  # the event JSON; empty when the envelope brought only items
    key: str = ""
    items: list[RawItem] = field(default_factory=list)


def _root() -> Path:
    return Path(settings.INGEST_STORE_DIR)


def _path(key: str) -> Path:
    project_id, _, name = key.partition("/")
    if not project_id.isdigit() or not name or "/" in name or name.startswith("."):
        raise ValueError(f"not an ingest store key: {key!r}")
    return _root() / project_id / f"{name}{SUFFIX}"


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def store_raw_event(raw: RawEvent) -> str:
    """Write durably; returns the key."""
    directory = _root() / str(raw.project_id)
    if not directory.is_dir():
        directory.mkdir(parents=True, exist_ok=True)
        if settings.INGEST_FSYNC:
            _fsync_directory(directory.parent)
    key = f"{raw.project_id}/{int(raw.received_at * 1e9):020d}-{raw.event_id}"
    final = _path(key)
    meta = {
        "project_id": raw.project_id,
        "event_id": raw.event_id,
        "received_at": raw.received_at,
        "remote_addr": raw.remote_addr,
    }
    if raw.items:
        meta["payload_length"] = len(raw.payload)
        meta["items"] = [{**item.headers, "length": len(item.payload)} for item in raw.items]
    header = json.dumps(meta).encode()
    temporary = directory / f".{final.name}.{os.getpid()}.{time.monotonic_ns()}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, header + b"\n")
        for part in (raw.payload, *(item.payload for item in raw.items)):
            view = memoryview(part)
            while view:
                written = os.write(fd, view)
                view = view[written:]
        if settings.INGEST_FSYNC:
            os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, final)
    if settings.INGEST_FSYNC:
        _fsync_directory(directory)
    raw.key = key
    return key


def load_raw_event(key: str) -> RawEvent | None:
    try:
        content = _path(key).read_bytes()
    except FileNotFoundError:
        return None
    header_line, _, rest = content.partition(b"\n")
    header = json.loads(header_line)
    items = []
    payload = rest
    if "payload_length" in header:
        offset = header["payload_length"]
        payload = rest[:offset]
        for item_headers in header.get("items", []):
            length = item_headers.pop("length")
            items.append(RawItem(headers=item_headers, payload=rest[offset : offset + length]))
            offset += length
    return RawEvent(
        project_id=header["project_id"],
        event_id=header["event_id"],
        received_at=header["received_at"],
        remote_addr=header.get("remote_addr", ""),
        payload=payload,
        key=key,
        items=items,
    )


def exists(key: str) -> bool:
    return _path(key).exists()


def delete_raw_event(key: str) -> None:
    try:
        _path(key).unlink()
    except FileNotFoundError:
        pass


def quarantine_raw_event(key: str, reason: str = "") -> None:
    """Keep a raw event that digest cannot handle out of the way (nothing is lost; an operator can look at it, see
    quarantined_events). The reason is kept beside it."""
    source, target = _path(key), quarantine_path(key)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(source, target)
    except FileNotFoundError:
        return
    if reason:
        reason_path = target.with_suffix(REASON_SUFFIX)
        fd = os.open(reason_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, reason[:4000].encode("utf-8", "replace"))
        finally:
            os.close(fd)


def quarantine_path(key: str) -> Path:
    source = _path(key)
    return _root() / QUARANTINE / source.parent.name / source.name


def in_quarantine(key: str) -> bool:
    try:
        return quarantine_path(key).is_file()
    except ValueError:
        return False


def release_from_quarantine(key: str) -> None:
    """Back among the pending raw events (an admin's retry); its reason is forgotten."""
    target = quarantine_path(key)
    target.with_suffix(REASON_SUFFIX).unlink(missing_ok=True)
    _path(key).parent.mkdir(parents=True, exist_ok=True)
    os.replace(target, _path(key))


@dataclass
class QuarantinedEvent:
    key: str
    project_id: int
    event_id: str
    received_at: float
    size: int
    reason: str

    @property
    def name(self) -> str:
        return self.key.partition("/")[2]

    @property
    def received(self) -> datetime:
        return datetime.fromtimestamp(self.received_at, UTC)


def quarantine_count() -> int:
    return quarantined_events(limit=0)[0]


def quarantined_events(limit: int = 200) -> tuple[int, list[QuarantinedEvent]]:
    """How many raw events are in quarantine, and the newest `limit` of them."""
    found = []
    try:
        directories = [e for e in os.scandir(_root() / QUARANTINE) if e.is_dir() and e.name.isdigit()]
    except FileNotFoundError:
        return 0, []
    for directory in directories:
        for entry in os.scandir(directory.path):
            if entry.name.endswith(SUFFIX):
                found.append((directory.name, entry))
    found.sort(key=lambda item: item[1].name, reverse=True)
    events = []
    for project_id, entry in found[:limit]:
        name = entry.name[: -len(SUFFIX)]
        received_ns, _, event_id = name.partition("-")
        try:
            reason = Path(entry.path).with_suffix(REASON_SUFFIX).read_text("utf-8", "replace")
        except FileNotFoundError:
            reason = ""
        try:
            size = entry.stat().st_size
        except FileNotFoundError:
            continue
        events.append(
            QuarantinedEvent(
                key=f"{project_id}/{name}",
                project_id=int(project_id),
                event_id=event_id,
                received_at=int(received_ns) / 1e9 if received_ns.isdigit() else 0.0,
                size=size,
                reason=reason,
            )
        )
    return len(found), events


def pending_keys(project_id: int, limit: int | None = None) -> list[str]:
    """Keys of a project's undigested raw events, oldest first."""
    try:
        names = sorted(
            entry.name[: -len(SUFFIX)]
            for entry in os.scandir(_root() / str(project_id))
            if entry.name.endswith(SUFFIX) and not entry.name.startswith(".")
        )
    except FileNotFoundError:
        return []
    return [f"{project_id}/{name}" for name in (names[:limit] if limit else names)]


def pending_raw_events(older_than_seconds: float = 0) -> list[str]:
    """Keys of every undigested raw event (of every project) received more than `older_than_seconds` ago."""
    cutoff_ns = int((time.time() - older_than_seconds) * 1e9)
    keys = []
    try:
        projects = [e.name for e in os.scandir(_root()) if e.is_dir() and e.name.isdigit()]
    except FileNotFoundError:
        return []
    for project_id in projects:
        for key in pending_keys(int(project_id)):
            received = key.partition("/")[2].partition("-")[0]
            # a file that is not one of ours (no arrival time in its name) is left alone
            if received.isascii() and received.isdigit() and int(received) <= cutoff_ns:
                keys.append(key)
    return keys


def remove_orphan_temporaries(older_than_seconds: float = 3600) -> int:
    """Temporary files of writes that never finished (a crash between write and rename)."""
    cutoff = time.time() - older_than_seconds
    removed = 0
    try:
        directories = [e.path for e in os.scandir(_root()) if e.is_dir() and e.name.isdigit()]
    except FileNotFoundError:
        return 0
    for directory in directories:
        for entry in os.scandir(directory):
            if entry.name.startswith(".") and entry.name.endswith(".tmp"):
                try:
                    if entry.stat().st_mtime < cutoff:
                        os.unlink(entry.path)
                        removed += 1
                except FileNotFoundError:
                    pass
    return removed
