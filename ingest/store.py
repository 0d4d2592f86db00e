"""The ingest store: raw accepted events on disk until digest has turned them into Event rows.

A file is written to a temporary name, fsynced and renamed, so a 200 is only sent for an event that survives a
crash. Digest deletes the file after its transaction commits; a file that is still here was never digested.
"""

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings


@dataclass
class RawEvent:
    project_id: int
    event_id: str  # 32 lowercase hex
    received_at: float
    remote_addr: str
    payload: bytes


def _directory() -> Path:
    path = Path(settings.INGEST_STORE_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _path(project_id: int, event_id: str) -> Path:
    return _directory() / f"{project_id}-{event_id}.event"


def store_raw_event(raw: RawEvent) -> None:
    header = json.dumps(
        {
            "project_id": raw.project_id,
            "event_id": raw.event_id,
            "received_at": raw.received_at,
            "remote_addr": raw.remote_addr,
        }
    ).encode()
    final = _path(raw.project_id, raw.event_id)
    temporary = final.with_name(f".{final.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, header + b"\n")
        view = memoryview(raw.payload)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        if settings.INGEST_FSYNC:
            os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, final)
    if settings.INGEST_FSYNC:
        dir_fd = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def load_raw_event(project_id: int, event_id: str) -> RawEvent | None:
    try:
        content = _path(project_id, event_id).read_bytes()
    except FileNotFoundError:
        return None
    header_line, _, payload = content.partition(b"\n")
    header = json.loads(header_line)
    return RawEvent(
        project_id=header["project_id"],
        event_id=header["event_id"],
        received_at=header["received_at"],
        remote_addr=header.get("remote_addr", ""),
        payload=payload,
    )


def delete_raw_event(project_id: int, event_id: str) -> None:
    try:
        _path(project_id, event_id).unlink()
    except FileNotFoundError:
        pass


def pending_raw_events() -> list[tuple[int, str]]:
    """(project_id, event_id) of every raw event not yet digested."""
    result = []
    for entry in os.scandir(_directory()):
        if entry.name.endswith(".event") and not entry.name.startswith("."):
            project_id, _, event_id = entry.name[: -len(".event")].partition("-")
            result.append((int(project_id), event_id))
    return result
