"""The ingest app's tables: refused-event counts, and the ingest store's table (INGEST_STORE=database,
ingest.db_store): raw records in the main database, so that several web nodes share only the database and the
broker, no disk."""

from django.db import models


class RefusedEvents(models.Model):
    """Per project: how many events ingest refused for their size (a 413 the SDK only logs as "dropped"), and the
    latest one's reason, size and moment, so a dropped event is never silent. One row per project that had any."""

    project = models.OneToOneField(
        "projects.Project", on_delete=models.CASCADE, primary_key=True, related_name="refused_events"
    )
    count = models.PositiveBigIntegerField(default=0)
    last_reason = models.CharField(max_length=255)
    last_size = models.BigIntegerField(null=True, blank=True)  # bytes, as far as it was read (at least this much)
    last_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "refused events"

    def __str__(self) -> str:
        return f"{self.count} refused events of project {self.project_id}"


class RawRecord(models.Model):
    """One accepted envelope's raw record (ingest.raw), pending until digest stores it or quarantined with why."""

    key = models.CharField(max_length=80, unique=True)  # ingest.raw.make_key
    project_id = models.PositiveIntegerField()  # no foreign key: a deleted project's records are dropped by digest
    received_ns = models.BigIntegerField()
    record = models.BinaryField()
    size = models.PositiveBigIntegerField()
    quarantined = models.BooleanField(default=False)
    reason = models.TextField(blank=True, default="")

    class Meta:
        indexes = [
            # a project's pending records, oldest first (digest); the quarantine listing, newest first
            models.Index(fields=["project_id", "quarantined", "received_ns"], name="ingest_raw_pending"),
            models.Index(fields=["quarantined", "received_ns"], name="ingest_raw_by_state"),
        ]

    def __str__(self):
        return self.key
