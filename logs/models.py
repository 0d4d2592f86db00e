from django.db import models


class LogEntry(models.Model):
    """One structured log line an SDK sent (a `log` envelope item: `sentry_sdk.logger`, `Sentry.logger`), with the
    attributes it carried. Kept per project within LOGS_RETENTION_MAX_ITEMS and LOGS_RETENTION_MAX_AGE_DAYS."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="log_entries")
    timestamp = models.DateTimeField(help_text="when it was logged, per the SDK")
    received_at = models.DateTimeField(help_text="when this server accepted it")
    level = models.CharField(max_length=8, help_text="trace, debug, info, warn, error or fatal")
    severity_number = models.PositiveSmallIntegerField(null=True, blank=True)
    body = models.TextField(help_text="the message, formatted")
    template = models.TextField(blank=True, default="", help_text="sentry.message.template, if sent")
    trace_id = models.CharField(max_length=32, blank=True, default="", help_text="32 hex digits, or empty")
    release = models.CharField(max_length=250, blank=True, default="")
    environment = models.CharField(max_length=64, blank=True, default="")
    # {"key": value, ...}: the attributes' values (their types are implied by JSON). Text, not a JSON column, for
    # the same reasons as Event.data_json; searched as `"key": value` fragments (logs.search).
    attributes_json = models.TextField(blank=True, default="{}")

    class Meta:
        indexes = [
            # the Logs page: a project's newest first (keyset on timestamp, id), and retention's oldest first
            models.Index(fields=["project", "timestamp", "id"], name="log_project_timestamp"),
            models.Index(fields=["project", "trace_id"], name="log_project_trace"),
        ]
        verbose_name_plural = "log entries"

    def __str__(self) -> str:
        return self.body[:80]


class LogStats(models.Model):
    """Per project: how many log entries are kept, the quota's current minute, and what was not kept and why."""

    project = models.OneToOneField("projects.Project", on_delete=models.CASCADE, related_name="log_stats")
    stored_count = models.BigIntegerField(default=0, help_text="log entries kept (retention's count)")
    quota_minute = models.DateTimeField(null=True, blank=True, help_text="the UTC minute quota_count counts")
    quota_count = models.PositiveIntegerField(default=0)
    dropped_count = models.BigIntegerField(default=0, help_text="log entries not kept (quota, size, bad input)")
    last_drop_reason = models.CharField(max_length=255, blank=True, default="")
    last_drop_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "log stats"

    def __str__(self) -> str:
        return f"logs of project {self.project_id}"
