"""The ingest store in the main database (INGEST_STORE=database): one RawRecord row per accepted envelope.

Web nodes that share the database need no shared disk. A 200 is sent after the row's INSERT has committed (the
request runs in autocommit), which the database makes durable. Digest deletes the rows it stored inside its own
transaction (forget_digested), so a record is either still pending or its events are stored, never both or neither.
"""

import io
import time
from typing import BinaryIO

from django.conf import settings
from django.db import transaction

from ingest.errors import PayloadTooLarge
from ingest.models import RawRecord
from ingest.raw import QuarantinedEvent, RawEvent, decode, encode, make_key, received_ns, split_key


def _pending(keys):
    return RawRecord.objects.filter(key__in=keys, quarantined=False)


def store_raw_event(raw: RawEvent) -> str:
    key = make_key(raw)
    record = b"".join(encode(raw))
    if len(record) > settings.INGEST_DATABASE_MAX_RECORD_SIZE:
        # a clear refusal, not the database's (a dropped connection on MariaDB: a 500)
        raise PayloadTooLarge(
            f"event and attachments exceed {settings.INGEST_DATABASE_MAX_RECORD_SIZE} bytes, the database store's limit"
        )
    # the same key is the same event at the same nanosecond: a repeat of a stored row, nothing to add
    RawRecord.objects.bulk_create(
        [
            RawRecord(
                key=key,
                project_id=raw.project_id,
                received_ns=received_ns(key),
                record=record,
                size=len(record),
            )
        ],
        ignore_conflicts=True,
    )
    raw.key = key
    return key


def replace_raw_event(raw: RawEvent) -> None:
    """Overwrite the pending record `raw.key` with `raw`, in one UPDATE."""
    record = b"".join(encode(raw))
    _pending([raw.key]).update(record=record, size=len(record))


def load_raw_events(keys: list[str]) -> dict[str, RawEvent]:
    """The pending ones among `keys`, in one query."""
    for key in keys:
        split_key(key)
    return {key: decode(key, bytes(record)) for key, record in _pending(keys).values_list("key", "record")}


def load_raw_event(key: str) -> RawEvent | None:
    return load_raw_events([key]).get(key)


def exists(key: str) -> bool:
    split_key(key)
    return _pending([key]).exists()


def forget_digested(keys: list[str]) -> None:
    """Delete in the caller's transaction: gone exactly when the events it stored are committed."""
    _pending(keys).delete()


def delete_raw_events(keys: list[str]) -> None:
    with transaction.atomic():
        _pending(keys).delete()


def quarantine_raw_event(key: str, reason: str = "") -> None:
    split_key(key)
    RawRecord.objects.filter(key=key).update(quarantined=True, reason=reason)


def in_quarantine(key: str) -> bool:
    split_key(key)
    return RawRecord.objects.filter(key=key, quarantined=True).exists()


def open_quarantined(key: str) -> BinaryIO:
    record = RawRecord.objects.filter(key=key, quarantined=True).values_list("record", flat=True).first()
    if record is None:
        raise FileNotFoundError(key)
    return io.BytesIO(bytes(record))


def release_from_quarantine(key: str) -> None:
    if not RawRecord.objects.filter(key=key, quarantined=True).update(quarantined=False, reason=""):
        raise FileNotFoundError(key)


def quarantined_events(limit: int) -> tuple[int, list[QuarantinedEvent]]:
    quarantined = RawRecord.objects.filter(quarantined=True)
    count = quarantined.count()
    if not limit or not count:
        return count, []
    rows = quarantined.order_by("-received_ns", "-key")
    rows = rows.values_list("key", "project_id", "received_ns", "size", "reason")
    return count, [
        QuarantinedEvent(
            key=key,
            project_id=project_id,
            event_id=key.rpartition("-")[2],
            received_at=arrived / 1e9,
            size=size,
            reason=reason,
        )
        for key, project_id, arrived, size, reason in rows[:limit]
    ]


def pending_keys(project_id: int, limit: int | None = None) -> list[str]:
    keys = RawRecord.objects.filter(project_id=project_id, quarantined=False).order_by("received_ns", "key")
    keys = keys.values_list("key", flat=True)
    return list(keys[:limit] if limit else keys)


def pending_raw_events(older_than_seconds: float) -> list[str]:
    cutoff_ns = int((time.time() - older_than_seconds) * 1e9)
    keys = RawRecord.objects.filter(quarantined=False, received_ns__lte=cutoff_ns)
    return list(keys.order_by("project_id", "received_ns", "key").values_list("key", flat=True))


def remove_orphan_temporaries(older_than_seconds: float) -> int:
    return 0  # an INSERT that did not commit leaves nothing behind
