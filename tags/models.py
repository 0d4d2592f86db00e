"""Tags: key/value pairs of events (the SDK's tags plus release, environment, level, user, browser, os, ...),
indexed for `key:value` search and for the per-issue value distribution."""

from django.db import models


class TagValue(models.Model):
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE)
    key = models.CharField(max_length=64)
    value = models.CharField(max_length=200)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "key", "value"], name="unique_tag_value")]
        indexes = [models.Index(fields=["key", "value"])]

    def __str__(self) -> str:
        return f"{self.key}:{self.value}"


class IssueTag(models.Model):
    """How many of an issue's events carried a tag value."""

    issue = models.ForeignKey("issues.Issue", on_delete=models.CASCADE, related_name="tags")
    value = models.ForeignKey(TagValue, on_delete=models.CASCADE)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issue", "value"], name="unique_issue_tag")]
        indexes = [models.Index(fields=["value", "issue"])]

    def __str__(self) -> str:
        return f"{self.value} x{self.count}"


class EventTag(models.Model):
    event = models.ForeignKey("events.Event", on_delete=models.CASCADE, related_name="tags")
    # denormalized: filter an issue's events by tag without joining through Event
    issue = models.ForeignKey("issues.Issue", on_delete=models.CASCADE)
    value = models.ForeignKey(TagValue, on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "value"], name="unique_event_tag")]
        indexes = [models.Index(fields=["issue", "value"])]

    def __str__(self) -> str:
        return str(self.value_id)
