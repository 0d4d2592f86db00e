"""Refused events are counted per project (ingest.models.RefusedEvents) and logged, so a drop is never silent.

SDKs answer a 413 by logging "event dropped" in the application's log, which nobody reads; the project's page shows
the count instead. Only refusals of a request that proved the project's key are counted (anyone can name a project
id); all are logged. Counting never changes the answer: should the database fail, the refusal is only logged.
"""

import logging

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from ingest.errors import PayloadTooLarge
from ingest.models import RefusedEvents

logger = logging.getLogger(__name__)
MAX_SIZE = 2**63 - 1  # what a bigint column holds


def _size_text(size: int | None) -> str:
    return "size unknown" if size is None else f"at least {size} bytes"


def record_refusal(project_id: int, error: PayloadTooLarge, counted: bool) -> None:
    logger.warning(
        "refused an event of project %s (%s): %s%s",
        project_id,
        _size_text(error.size),
        error.detail,
        "" if counted else " [key not verified: not counted]",
    )
    if not counted:
        return
    reason = error.detail.replace("\x00", "")[:255]
    size = None if error.size is None else min(error.size, MAX_SIZE)  # a Content-Length may have 40 digits
    fields = {"last_reason": reason, "last_size": size, "last_at": timezone.now()}
    try:
        if RefusedEvents.objects.filter(project_id=project_id).update(count=F("count") + 1, **fields):
            return
        try:
            with transaction.atomic():
                RefusedEvents.objects.create(project_id=project_id, count=1, **fields)
        except IntegrityError:  # another request created the row first (or the project was deleted meanwhile)
            RefusedEvents.objects.filter(project_id=project_id).update(count=F("count") + 1, **fields)
    except Exception as db_error:  # a database that is away or busy: the 413 goes out all the same
        logger.warning("could not count the refused event of project %s: %r", project_id, db_error)
