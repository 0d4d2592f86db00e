"""The envelope grammar: Headers { "\\n" Item } [ "\\n" ], Item = Headers "\\n" Payload.

Items carry a `length` or run to the next newline. We keep the first `event` item and read past all others.
"""

import json
from dataclasses import dataclass, field

from django.conf import settings

from ingest.errors import BadRequest, PayloadTooLarge
from ingest.streams import FramedReader


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


@dataclass
class EnvelopeItems:
    event: bytes | None = None
    item_types: list[str] = field(default_factory=list)


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
    max_event = settings.MAX_EVENT_SIZE
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
        if length is not None:
            if not isinstance(length, int) or isinstance(length, bool) or length < 0:
                raise BadRequest(f"invalid envelope item length: {str(length)[:40]!r}")
            if keep:
                if length > max_event:
                    raise PayloadTooLarge(f"event exceeds {max_event} bytes")
                result.event = reader.read_exact(length)
            else:
                reader.skip_exact(length)
            reader.end_of_item()
        elif keep:
            result.event = reader.readline(max_event, PayloadTooLarge(f"event exceeds {max_event} bytes"))
            if result.event is None:
                raise BadRequest("an event item without payload")
        else:
            reader.skip_line()
