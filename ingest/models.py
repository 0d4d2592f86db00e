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
