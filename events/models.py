import json
from pathlib import Path

from django.conf import settings
from django.db import models, transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils.functional import cached_property

from blobs.store import BlobStore
from issues.models import format_title


class Event(models.Model):
    """One stored occurrence of an issue: the normalized event JSON plus denormalized fields for lists."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="events")
    issue = models.ForeignKey("issues.Issue", on_delete=models.CASCADE, related_name="events")
    grouping = models.ForeignKey("issues.Grouping", on_delete=models.SET_NULL, null=True, blank=True)
    event_id = models.UUIDField(help_text="the SDK's event id")
    timestamp = models.DateTimeField(help_text="when it happened, per the SDK")
    ingested_at = models.DateTimeField(help_text="when this server accepted it")
    digested_at = models.DateTimeField()
    # position within the issue (1, 2, ...): event navigation without OFFSET scans
    digest_order = models.PositiveIntegerField()

    # The normalized event as JSON text. Text, not a JSON column: PostgreSQL's jsonb refuses the \u0000 that real
    # events contain, and nothing queries inside it; `data` gives the parsed dict.
    data_json = models.TextField()

    calculated_type = models.CharField(max_length=255, blank=True, default="")
    calculated_value = models.TextField(blank=True, default="")
    level = models.CharField(max_length=16, blank=True, default="")
    platform = models.CharField(max_length=64, blank=True, default="")
    release = models.CharField(max_length=250, blank=True, default="")
    environment = models.CharField(max_length=64, blank=True, default="")
    transaction = models.CharField(max_length=200, blank=True, default="")
    # contexts.trace.trace_id (32 hex digits, or empty): links the event with the structured logs of its trace
    trace_id = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "event_id"], name="unique_event_id_per_project"),
            models.UniqueConstraint(fields=["issue", "digest_order"], name="unique_digest_order_per_issue"),
        ]
        indexes = [
            models.Index(fields=["issue", "timestamp"]),
            # retention: a project's events older than its max age (events.retention), oldest first
            models.Index(fields=["project", "ingested_at"], name="event_project_ingested_at"),
            models.Index(fields=["project", "trace_id"], name="event_project_trace"),
        ]

    def __str__(self) -> str:
        return self.event_id.hex

    @cached_property
    def data(self) -> dict:
        return json.loads(self.data_json)

    def title(self) -> str:
        return format_title(self.calculated_type, self.calculated_value)


class Attachment(models.Model):
    """A file an SDK sent with an event (an envelope `attachment` item: a log, a screenshot, a minidump...), kept
    by content (events.items: under ATTACHMENTS_DIR or in the database, by FILE_STORE) and only ever served as a
    download. One that was not kept (over a size limit) is a row too, with `note` saying why, so the event shows it."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="attachments")
    event = models.ForeignKey(Event, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments")
    # the event it came with (or for, when sent after it): linked when that event is digested
    event_uuid = models.UUIDField()
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100, blank=True, default="")
    attachment_type = models.CharField(max_length=64, blank=True, default="event.attachment")
    size = models.PositiveBigIntegerField()
    sha1 = models.CharField(
        max_length=40, blank=True, default="", help_text="the stored file's name; empty if not kept"
    )
    note = models.CharField(max_length=255, blank=True, default="", help_text="why it was not kept")
    received_at = models.DateTimeField()
    # the ingest store's key of the record it came in: digesting that record again adds nothing
    source_key = models.CharField(max_length=80, blank=True, default="", db_index=True)

    class Meta:
        indexes = [models.Index(fields=["project", "event_uuid"], name="attachment_event_uuid")]
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_stored(self) -> bool:
        return bool(self.sha1)

    @property
    def is_minidump(self) -> bool:
        return self.attachment_type == "event.minidump"


class UserFeedback(models.Model):
    """What a user wrote about an error: the `feedback` item of current SDKs (a feedback widget, captureFeedback)
    or the legacy `user_report` item. Linked to the event it is about, and so to its issue, when that is known."""

    class Source(models.TextChoices):
        FEEDBACK = "feedback", "Feedback"
        USER_REPORT = "user_report", "User report"

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="user_feedback")
    event_uuid = models.UUIDField(null=True, blank=True, help_text="the event it is about")
    event = models.ForeignKey(Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="user_feedback")
    issue = models.ForeignKey(
        "issues.Issue", null=True, blank=True, on_delete=models.CASCADE, related_name="user_feedback"
    )
    name = models.CharField(max_length=255, blank=True, default="")
    email = models.CharField(max_length=255, blank=True, default="")
    comments = models.TextField()
    url = models.CharField(max_length=1024, blank=True, default="")
    source = models.CharField(max_length=16, choices=Source.choices)
    received_at = models.DateTimeField()
    source_key = models.CharField(max_length=80, blank=True, default="", db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["project", "event_uuid"], name="feedback_event_uuid"),
            models.Index(fields=["issue", "received_at"], name="feedback_issue_received"),
        ]
        ordering = ["-received_at", "-id"]
        verbose_name_plural = "user feedback"

    def __str__(self) -> str:
        return self.comments[:80]


def attachment_file(project_id: int, sha1: str) -> Path:
    """Where an attachment's content is with FILE_STORE=file: by content within its project, so a retried digest
    writes the same file."""
    if len(sha1) != 40 or any(c not in "0123456789abcdef" for c in sha1):
        raise ValueError("not a SHA-1")
    return Path(settings.ATTACHMENTS_DIR) / str(int(project_id)) / sha1


def attachment_name(project_id: int, sha1: str) -> str:
    """An attachment's name in ATTACHMENT_CONTENTS: `<project id>/<sha1>`."""
    attachment_file(project_id, sha1)  # checks both
    return f"{int(project_id)}/{sha1}"


def _attachment_path(name: str) -> Path:
    project_id, _, sha1 = name.partition("/")
    if not project_id.isdigit():
        raise ValueError("not an attachment name")
    return attachment_file(int(project_id), sha1)


# attachment contents (blobs.store, by FILE_STORE): files under ATTACHMENTS_DIR or rows of the main database
ATTACHMENT_CONTENTS = BlobStore("attachment", _attachment_path)


@receiver(post_delete, sender=Attachment)
def _remove_attachment_file(sender, instance: Attachment, **kwargs) -> None:
    """An attachment's content goes with its last row (evicted or deleted with its event, issue or project), once
    the deletion is committed."""
    if instance.sha1:
        remove_unreferenced_content(instance.project_id, instance.sha1)


def remove_unreferenced_content(project_id: int, sha1: str) -> None:
    """Once the current transaction commits, remove this content unless an attachment row still refers to it."""

    def remove() -> None:
        if not Attachment.objects.filter(project_id=project_id, sha1=sha1).exists():
            ATTACHMENT_CONTENTS.delete([attachment_name(project_id, sha1)])

    transaction.on_commit(remove)
