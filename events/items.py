"""The envelope items kept with events: attachments and user feedback.

Digest calls in two steps. Before its transaction, `write_files` stores each attachment's content durably (by
content within the project, so a retried digest stores the same content again: a no-op), under ATTACHMENTS_DIR or in
the database (events.models.ATTACHMENT_CONTENTS, by FILE_STORE). Inside it, `save_items` makes the rows, and
`link_pending` ties items that arrived before their event (a user's feedback sent right after the crash, attachments
sent in an envelope of their own) to the events of the batch.

Limits: one attachment is at most MAX_ATTACHMENT_SIZE (checked at ingest; a bigger one is recorded, not kept), and a
project keeps at most MAX_PROJECT_ATTACHMENTS_SIZE bytes of attachments: beyond it, new ones are recorded with the
reason and their content is not kept. The event page lists both kinds.
"""

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db.models import Sum

from events.models import (
    ATTACHMENT_CONTENTS,
    Attachment,
    Event,
    UserFeedback,
    attachment_name,
    remove_unreferenced_content,
)
from events.safe import clean_str, loads_json

MAX_COMMENTS_CHARS = 16 * 1024
MAX_FIELD_CHARS = 255


@dataclass
class KeptItem:
    type: str  # "attachment", "feedback" or "user_report"
    headers: dict
    payload: bytes = b""  # feedback JSON; an attachment's content is in its file once written
    sha1: str = ""
    size: int = 0
    note: str = ""
    extra: dict = field(default_factory=dict)


def _write(project_id: int, data: bytes) -> str:
    sha1 = hashlib.sha1(data, usedforsecurity=False).hexdigest()
    ATTACHMENT_CONTENTS.put(attachment_name(project_id, sha1), data)
    return sha1


def write_files(project_id: int, raw_items) -> list[KeptItem]:
    """The raw record's items, attachments written to their files (outside any transaction)."""
    kept = []
    for raw in raw_items:
        headers = raw.headers
        item_type = headers.get("type", "")
        if item_type == "attachment":
            if headers.get("dropped"):
                kept.append(
                    KeptItem("attachment", headers, size=int(headers.get("size") or 0), note=headers["dropped"])
                )
            else:
                kept.append(
                    KeptItem("attachment", headers, sha1=_write(project_id, raw.payload), size=len(raw.payload))
                )
        elif item_type in ("feedback", "user_report"):
            kept.append(KeptItem(item_type, headers, payload=raw.payload))
    return kept


def _text(value, limit: int = MAX_FIELD_CHARS) -> str:
    return clean_str(value)[:limit] if isinstance(value, str) else ""


def _uuid(value) -> uuid.UUID | None:
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(hex=value.replace("-", "").strip())
    except ValueError:
        return None


def _feedback_fields(item: KeptItem) -> dict | None:
    """name, email, comments, url and the event it is about, from either item's JSON; None when it holds no text."""
    try:
        data = loads_json(item.payload)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    if item.type == "user_report":
        fields = {
            "name": _text(data.get("name")),
            "email": _text(data.get("email")),
            "comments": _text(data.get("comments"), MAX_COMMENTS_CHARS),
            "url": "",
            "event_uuid": _uuid(data.get("event_id")),
        }
    else:
        contexts = data.get("contexts")
        feedback = contexts.get("feedback") if isinstance(contexts, dict) else None
        if not isinstance(feedback, dict):
            return None
        fields = {
            "name": _text(feedback.get("name")),
            "email": _text(feedback.get("contact_email")),
            "comments": _text(feedback.get("message"), MAX_COMMENTS_CHARS),
            "url": _text(feedback.get("url"), 1024),
            "event_uuid": _uuid(feedback.get("associated_event_id")),
        }
    return fields if fields["comments"].strip() else None


def _event_uuid(event: Event) -> uuid.UUID | None:
    # an Event digest has just made holds the id as the SDK's hex string; one read from the database, a UUID
    return event.event_id if isinstance(event.event_id, uuid.UUID) else _uuid(event.event_id)


def _stored_bytes(project) -> int:
    return Attachment.objects.filter(project=project).exclude(sha1="").aggregate(total=Sum("size"))["total"] or 0


def save_items(
    project, source_key: str, event_uuid, items: list[KeptItem], received_at: datetime, event: Event | None = None
) -> None:
    """The rows for one raw record's items (inside digest's transaction). `event_uuid` is the record's event id:
    the event the attachments came with or for. A record without an event whose rows exist already (digested
    before, its file not yet removed) adds nothing; with an event, digest's own idempotence covers it."""
    if not items:
        return
    if event is None and (
        Attachment.objects.filter(source_key=source_key).exists()
        or UserFeedback.objects.filter(source_key=source_key).exists()
    ):
        return
    record_uuid = _uuid(event_uuid) if isinstance(event_uuid, str) else event_uuid
    used = None
    attachments, feedback, not_kept = [], [], []
    for item in items:
        if item.type == "attachment":
            sha1, note = item.sha1, item.note
            if sha1:
                used = _stored_bytes(project) if used is None else used
                if used + item.size > settings.MAX_PROJECT_ATTACHMENTS_SIZE:
                    not_kept.append(sha1)  # write_files stored it: it goes again unless another row has it
                    sha1 = ""
                    note = f"not kept: the project holds its maximum of {settings.MAX_PROJECT_ATTACHMENTS_SIZE} bytes"
                else:
                    used += item.size
            attachments.append(
                Attachment(
                    project=project,
                    event=event,
                    event_uuid=record_uuid,
                    name=_text(item.headers.get("filename")) or "attachment",
                    content_type=_text(item.headers.get("content_type"), 100),
                    attachment_type=_text(item.headers.get("attachment_type"), 64) or "event.attachment",
                    size=item.size,
                    sha1=sha1,
                    note=note[:255],
                    received_at=received_at,
                    source_key=source_key,
                )
            )
        else:
            fields = _feedback_fields(item)
            if fields is None:
                continue
            about = fields.pop("event_uuid") or (_event_uuid(event) if event is not None else None)
            target = event if event is not None and about == _event_uuid(event) else None
            if target is None and about is not None:
                target = Event.objects.filter(project=project, event_id=about).only("pk", "issue_id").first()
            feedback.append(
                UserFeedback(
                    project=project,
                    event_uuid=about,
                    event=target,
                    issue_id=target.issue_id if target else None,
                    source=item.type,
                    received_at=received_at,
                    source_key=source_key,
                    **fields,
                )
            )
    if attachments and event is None and record_uuid is not None:
        existing = Event.objects.filter(project=project, event_id=record_uuid).only("pk").first()
        for attachment in attachments:
            attachment.event = existing
    Attachment.objects.bulk_create(attachments)
    UserFeedback.objects.bulk_create(feedback)
    for sha1 in dict.fromkeys(not_kept):
        remove_unreferenced_content(project.pk, sha1)


def link_pending(project, events: list[Event]) -> None:
    """Items that arrived before their event (and waited with no event) now belong to it. One query per batch
    finds whether any wait for these events; only then are they updated."""
    by_uuid = {_event_uuid(event): event for event in events}
    by_uuid.pop(None, None)
    if not by_uuid:
        return
    waiting_attachments = Attachment.objects.filter(project=project, event=None, event_uuid__in=list(by_uuid))
    waiting_feedback = UserFeedback.objects.filter(project=project, event=None, event_uuid__in=list(by_uuid))
    waiting = set(
        waiting_attachments.order_by()
        .values_list("event_uuid", flat=True)
        .union(waiting_feedback.order_by().values_list("event_uuid", flat=True))
    )
    if not waiting:
        return
    for attachment in waiting_attachments:
        attachment.event = by_uuid[attachment.event_uuid]
        attachment.save(update_fields=["event"])
    for feedback in waiting_feedback:
        target = by_uuid[feedback.event_uuid]
        feedback.event, feedback.issue_id = target, target.issue_id
        feedback.save(update_fields=["event", "issue"])
