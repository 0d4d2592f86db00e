"""Streams: envelope item types other than events that an app of their own keeps (release health from sessions,
cron monitors from check-ins, logs, client reports, ...).

The intake stays one: it authenticates, decompresses, bounds and rate-limits every envelope as before. An item whose
type a stream registered is read within that stream's size limit and written into the raw record beside the event
(or in a record of its own when the envelope holds no event), durably, before the 200: accepted means kept, for
every stream. Digest, the project's single writer, hands each stream its items inside the batch's transaction, so a
stream's rows are written with the same guarantees as events (once, in order, rolled back together).

An app registers its stream from its AppConfig.ready():

    item_streams.register(Stream(item_types=("session", "sessions"), max_item_size=..., digest=digest_sessions))

`digest(project, items)` gets the project and a list of StreamItem (item type, payload bytes, when it was accepted),
in arrival order; it must tolerate any bytes (the payload is the client's) and should bound its work per item. An
item that was not kept (over the stream's `max_item_size`, or past the envelope's MAX_STREAM_ITEMS) arrives as a
marker with an empty payload and `headers["dropped"]` saying why, so the stream can count what it did not get.
The registry imports none of our apps: ingest stays below them.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

# What a stream item's raw record keeps of its item header.
STREAM_ITEM_HEADERS = ("type", "content_type", "item_count")
# An item container (logs, spans) says how many records it holds in `item_count`; beyond this we do not believe it.
MAX_ITEM_COUNT = 10_000


def item_quantity(headers: dict) -> int:
    """How many records an item stands for: its `item_count` header (v2 containers: logs, spans), else 1. The header
    is the client's: anything but a whole number from 1 to MAX_ITEM_COUNT counts as 1, or as MAX_ITEM_COUNT above."""
    value = headers.get("item_count")
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        return 1
    return min(value, MAX_ITEM_COUNT)


@dataclass(frozen=True)
class StreamItem:
    item_type: str
    payload: bytes
    ingested_at: datetime
    headers: dict


@dataclass(frozen=True)
class Stream:
    item_types: tuple[str, ...]
    max_item_size: int
    digest: Callable[[object, list[StreamItem]], None]
    # the Sentry data category SDKs know this stream by (for X-Sentry-Rate-Limits and per-category quotas)
    category: str = ""


_streams: dict[str, Stream] = {}


def register(stream: Stream) -> None:
    for item_type in stream.item_types:
        known = _streams.get(item_type)
        if known is not None and known is not stream and known.digest is not stream.digest:
            raise ValueError(f"envelope item type {item_type!r} already has a stream")
        _streams[item_type] = stream


def stream_for(item_type: str) -> Stream | None:
    return _streams.get(item_type)


def is_stream_item(headers: dict) -> bool:
    return not headers.get("dropped") and headers.get("type") in _streams


def digest_stream_items(project, items: Iterable[StreamItem]) -> None:
    """Hand each stream its items (in arrival order), inside the caller's transaction."""
    by_stream: dict[int, tuple[Stream, list[StreamItem]]] = {}
    for item in items:
        stream = _streams.get(item.item_type)
        if stream is not None:
            by_stream.setdefault(id(stream), (stream, []))[1].append(item)
    for stream, stream_items in by_stream.values():
        stream.digest(project, stream_items)


def registered() -> dict[str, Stream]:
    return dict(_streams)
