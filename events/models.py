import json

from django.db import models
from django.utils.functional import cached_property

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

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "event_id"], name="unique_event_id_per_project"),
            models.UniqueConstraint(fields=["issue", "digest_order"], name="unique_digest_order_per_issue"),
        ]
        indexes = [
            models.Index(fields=["issue", "timestamp"]),
            # retention: a project's events older than its max age (events.retention), oldest first
            models.Index(fields=["project", "ingested_at"], name="event_project_ingested_at"),
        ]

    def __str__(self) -> str:
        return self.event_id.hex

    @cached_property
    def data(self) -> dict:
        return json.loads(self.data_json)

    def title(self) -> str:
        return format_title(self.calculated_type, self.calculated_value)
