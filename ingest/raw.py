"""What the ingest store keeps for an accepted event, independent of where it keeps it (ingest.file_store on local
disk, ingest.db_store in the main database): the record's fields, its key and its bytes.

A record is one JSON header line, the event payload, then the payloads of the envelope's other kept items
(attachments, user feedback) one after the other, their types and lengths in the header. A record may hold items
and no event (an envelope of feedback or late attachments). Both stores keep exactly these bytes, so that a
quarantined record downloads the same from either.

A raw event is named by its key, "<project_id>/<received_ns>-<event_id>" (the arrival time zero-padded to 20
digits): sorting a project's keys gives arrival order, which lets digest take the oldest pending events of a
project in one batch.
"""

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

# the clock that stamps an accepted event's received_at (the time digest counts it at, in the period counters that
# volume-based unmuting reads); a test server may start it at a chosen moment (testing.settings)
clock = time.time


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


def make_key(raw: RawEvent) -> str:
    return f"{raw.project_id}/{int(raw.received_at * 1e9):020d}-{raw.event_id}"


def split_key(key: str) -> tuple[int, str]:
    """(project id, name) of a key; ValueError for anything that is not one (a name never holds a path)."""
    project_id, _, name = key.partition("/")
    if not project_id.isascii() or not project_id.isdigit() or not name or "/" in name or name.startswith("."):
        raise ValueError(f"not an ingest store key: {key!r}")
    return int(project_id), name


def received_ns(key: str) -> int | None:
    """The arrival time in a key's name; None for a name that is not one of ours."""
    received = key.partition("/")[2].partition("-")[0]
    return int(received) if received.isascii() and received.isdigit() else None


def encode(raw: RawEvent) -> list[bytes]:
    """The record's bytes, in parts (written one after the other, never joined: an attachment may be big)."""
    meta = {
        "project_id": raw.project_id,
        "event_id": raw.event_id,
        "received_at": raw.received_at,
        "remote_addr": raw.remote_addr,
    }
    if raw.items:
        meta["payload_length"] = len(raw.payload)
        meta["items"] = [{**item.headers, "length": len(item.payload)} for item in raw.items]
    return [json.dumps(meta).encode() + b"\n", raw.payload, *(item.payload for item in raw.items)]


def decode(key: str, content: bytes) -> RawEvent:
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
