"""The envelope grammar: Headers { "\\n" Item } [ "\\n" ], Item = Headers "\\n" Payload.

Items carry a `length` or run to the next newline. We keep the first `event` item, attachments and user feedback
(`feedback`, the legacy `user_report`), each within its limit, and read past all others (sessions, transactions,
client reports, replays: not stored). An attachment over its limit is not kept, but noted, so that the event can
say so; feedback is small by nature and one over its limit refuses the envelope like an oversized event.
"""

import json
from dataclasses import dataclass, field

from django.conf import settings

from ingest import item_streams
from ingest.errors import BadRequest, PayloadTooLarge
from ingest.store import RawItem
from ingest.streams import FramedReader

KEPT_ITEM_TYPES = ("attachment", "feedback", "user_report")
# item headers copied into the raw record (anything else an item header holds is dropped)
KEPT_ITEM_HEADERS = ("type", "filename", "content_type", "attachment_type")
MAX_FEEDBACK_SIZE = 64 * 1024
MAX_KEPT_ITEMS = 100  # attachments and feedback per envelope; the others beyond this are skipped, and noted
MAX_STREAM_ITEMS = 100  # items of the registered streams (ingest.item_streams) per envelope; beyond: skipped, noted


def parse_header_line(line: bytes | None, what: str) -> dict:
    if line is None:
        raise BadRequest(f"missing {what}")
    try:
        headers = json.loads(line)
    except ValueError as e:
        raise BadRequest(f"malformed {what}: not JSON ({e})") from e
    except RecursionError as e:
        raise BadRequest(f"malformed {what}: nested too deeply") from e
    if not isinstance(headers, dict):
        raise BadRequest(f"malformed {what}: not a JSON object")
    return headers


def read_envelope_headers(reader: FramedReader) -> dict:
    line = reader.readline(settings.MAX_HEADER_LINE_SIZE, BadRequest("envelope header line too long"))
    if line is None or not line.strip():
        raise BadRequest("empty envelope")
    return parse_header_line(line, "envelope header")


def max_event_size() -> int:
    """The largest event accepted: one over MAX_EVENT_SIZE is trimmed to fit at digest (digest.trim)."""
    return max(settings.MAX_EVENT_TRIM_SIZE, settings.MAX_EVENT_SIZE)


@dataclass
class EnvelopeItems:
    event: bytes | None = None
    item_types: list[str] = field(default_factory=list)
    kept: list[RawItem] = field(default_factory=list)
    # items met so far of each cap (attachments and feedback; stream items), kept or not: a count, not a rescan of kept
    kept_seen: int = 0
    stream_seen: int = 0


def _kept_headers(headers: dict) -> dict:
    kept = {}
    for name in KEPT_ITEM_HEADERS:
        value = headers.get(name)
        if isinstance(value, str):
            kept[name] = value[:200]
    return kept


def _dropped(headers: dict, size: int, reason: str) -> RawItem:
    return RawItem(headers={**_kept_headers(headers), "dropped": reason, "size": size}, payload=b"")


# An item header names a type, a length and perhaps a content type and file name: well under a KiB in practice.
MAX_ITEM_HEADER_LINE_SIZE = 16 * 1024


def read_envelope_items(reader: FramedReader) -> EnvelopeItems:
    """Reads every item, keeping the first event's payload.

    The work per item is small and the number of items is capped (MAX_ENVELOPE_ITEMS): a dropped item's payload is
    skipped by its length or as one line without being parsed, runs of blank lines are skipped in bulk, and one
    item past the cap ends the read with a 413, so a small compressed body of millions of tiny items is refused
    after a bounded amount of work.
    """
    result = EnvelopeItems()
    max_event = max_event_size()
    max_items = settings.MAX_ENVELOPE_ITEMS
    max_header = min(settings.MAX_HEADER_LINE_SIZE, MAX_ITEM_HEADER_LINE_SIZE)
    while True:
        reader.skip_blank()  # a trailing newline, or blank lines between items
        line = reader.readline(max_header, BadRequest("envelope item header line too long"))
        if line is None:
            return result
        if len(result.item_types) >= max_items:
            raise PayloadTooLarge(f"an envelope holds at most {max_items} items")
        headers = parse_header_line(line, "envelope item header")
        item_type = str(headers.get("type", ""))
        result.item_types.append(item_type)
        keep = item_type == "event" and result.event is None
        length = headers.get("length")
        if length is not None and (not isinstance(length, int) or isinstance(length, bool) or length < 0):
            raise BadRequest(f"invalid envelope item length: {str(length)[:40]!r}")
        if item_type in KEPT_ITEM_TYPES:
            _read_kept_item(reader, result, headers, item_type, length)
            continue
        stream = item_streams.stream_for(item_type)
        if stream is not None:
            _read_stream_item(reader, result, headers, item_type, length, stream.max_item_size)
            continue
        if length is not None:
            if keep:
                if length > max_event:
                    raise PayloadTooLarge(f"event exceeds {max_event} bytes", size=length)
                result.event = reader.read_exact(length)
            else:
                reader.skip_exact(length)
            reader.end_of_item()
        elif keep:
            too_long = PayloadTooLarge(f"event exceeds {max_event} bytes", size=max_event + 1)
            result.event = reader.readline(max_event, too_long)
            if result.event is None:
                raise BadRequest("an event item without payload")
        else:
            reader.skip_line()


class _LineTooLong(Exception):
    pass


def _skip_item(reader: FramedReader, length) -> None:
    if length is None:
        reader.skip_line()
    else:
        reader.skip_exact(length)
        reader.end_of_item()


def _read_bounded(reader: FramedReader, length, limit: int, item_type: str) -> bytes | int:
    """The item's payload when it is at most `limit` bytes; else the item is skipped and its size returned."""
    if length is None:
        position = reader.total - len(reader.buffer)
        try:
            payload = reader.readline(limit, _LineTooLong())
        except _LineTooLong:
            reader.skip_line()
            return reader.total - len(reader.buffer) - position - 1
        if payload is None:
            raise BadRequest(f"an {item_type} item without payload")
        return payload
    if length > limit:
        _skip_item(reader, length)
        return length
    payload = reader.read_exact(length)
    reader.end_of_item()
    return payload


def _read_stream_item(
    reader: FramedReader, result: EnvelopeItems, headers: dict, item_type: str, length, limit
) -> None:
    """An item of a registered stream, kept within its limit. One over the limit, or past MAX_STREAM_ITEMS in the
    envelope, is skipped and kept as a marker with its reason (its stream counts what it did not get)."""
    stream_items = result.stream_seen
    result.stream_seen += 1
    kept_headers = {name: str(headers[name])[:200] for name in item_streams.STREAM_ITEM_HEADERS if name in headers}
    if stream_items >= MAX_STREAM_ITEMS:
        _skip_item(reader, length)
        if stream_items == MAX_STREAM_ITEMS:
            result.kept.append(_dropped(kept_headers, 0, f"more than {MAX_STREAM_ITEMS} stream items"))
        return
    payload = _read_bounded(reader, length, limit, item_type)
    if isinstance(payload, int):
        # the marker keeps the stream's headers (item_count: how many records the stream did not get)
        reason = f"over the {limit}-byte limit for one {item_type} item"
        result.kept.append(RawItem(headers={**kept_headers, "dropped": reason, "size": payload}, payload=b""))
        return
    result.kept.append(RawItem(headers=kept_headers, payload=payload))


def _read_kept_item(reader: FramedReader, result: EnvelopeItems, headers: dict, item_type: str, length) -> None:
    limit = settings.MAX_ATTACHMENT_SIZE if item_type == "attachment" else MAX_FEEDBACK_SIZE
    kept = result.kept_seen  # the streams have a cap of their own
    result.kept_seen += 1
    if kept >= MAX_KEPT_ITEMS:
        _skip_item(reader, length)
        if kept == MAX_KEPT_ITEMS:
            result.kept.append(_dropped({"type": item_type}, 0, f"more than {MAX_KEPT_ITEMS} attachments"))
        return
    if item_type != "attachment" and length is not None and length > limit:
        raise PayloadTooLarge(f"{item_type} item exceeds {limit} bytes")
    payload = _read_bounded(reader, length, limit, item_type)
    if isinstance(payload, int):
        if item_type != "attachment":
            raise PayloadTooLarge(f"{item_type} item exceeds {limit} bytes")
        result.kept.append(_dropped(headers, payload, f"over the {limit}-byte limit for one attachment"))
        return
    result.kept.append(RawItem(headers=_kept_headers(headers), payload=payload))
