import uuid

from django.conf import settings
from django.db import models


def format_title(calculated_type: str, calculated_value: str) -> str:
    """'Type: first line of value', or whichever of the two exists."""
    first_line = calculated_value.strip().split("\n", 1)[0] if calculated_value else ""
    if calculated_type and first_line:
        return f"{calculated_type}: {first_line}"
    return calculated_type or first_line or "<no title>"


class Issue(models.Model):
    """A group of events that are "the same error". State flags change only through IssueStateManager."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="issues")
    # per-project sequence, for short ids like MYAPP-12
    number = models.PositiveIntegerField()

    # denormalized title parts, from the last exception in the chain (the one raised) or the log message
    calculated_type = models.CharField(max_length=255, blank=True, default="")
    calculated_value = models.TextField(blank=True, default="")
    culprit = models.CharField(max_length=255, blank=True, default="", help_text="the crashing in-app frame")
    transaction = models.CharField(max_length=255, blank=True, default="")
    level = models.CharField(max_length=16, blank=True, default="error")
    platform = models.CharField(max_length=64, blank=True, default="")

    first_seen = models.DateTimeField(db_index=True)
    last_seen = models.DateTimeField(db_index=True)
    event_count = models.PositiveIntegerField(default=0, db_index=True)

    # the release of its first event that had one, and the newest release (releases.ordering) it was seen in: two
    # columns rather than the list of every release, which grew with each one and was rewritten with every event
    first_release = models.CharField(max_length=250, blank=True, default="")
    last_release = models.CharField(max_length=250, blank=True, default="")

    is_resolved = models.BooleanField(default=False)
    is_resolved_by_next_release = models.BooleanField(default=False)
    # releases in which the issue is (claimed to be) fixed
    fixed_at = models.JSONField(default=list, blank=True)

    is_muted = models.BooleanField(default=False)
    unmute_after = models.DateTimeField(null=True, blank=True)
    # JSON list of VolumeBasedCondition dicts: {"period": "hour", "nr_of_periods": 1, "volume": 5}
    unmute_on_volume_based_conditions = models.JSONField(default=list, blank=True)

    # persisted PeriodCounter (digest.period_counter), written by digest with every event
    period_counts = models.JSONField(default=dict, blank=True, editable=False)

    # a deletion job (issues.deletion) is removing this issue: the UI shows it as "deleting" until it is gone
    is_deleting = models.BooleanField(default=False, editable=False)

    # who is on it: a member of the project or a team with access to it, never both (issues.participants)
    assigned_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_issues"
    )
    assigned_team = models.ForeignKey(
        "projects.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_issues"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "number"], name="unique_issue_number_per_project")]
        indexes = [
            models.Index(fields=["project", "is_resolved", "is_muted", "last_seen"]),
            # the issue list's sort orders, with the id that breaks ties (keyset pagination on (key, id))
            models.Index(fields=["project", "last_seen", "id"], name="issue_list_last_seen"),
            models.Index(fields=["project", "first_seen", "id"], name="issue_list_first_seen"),
            models.Index(fields=["project", "event_count", "id"], name="issue_list_event_count"),
            # the releases pages count the issues first seen in each release
            models.Index(fields=["project", "first_release"], name="issue_first_release"),
        ]

    def __str__(self) -> str:
        return f"{self.short_id} {self.title()}"

    def get_absolute_url(self) -> str:
        # the issue's page; alerts link here (absolute with settings.BASE_URL)
        return f"/issues/{self.pk}/"

    def title(self) -> str:
        return format_title(self.calculated_type, self.calculated_value)

    @property
    def short_id(self) -> str:
        return f"{self.project.short_prefix}-{self.number}"

    @property
    def state(self) -> str:
        if self.is_resolved:
            return "resolved"
        if self.is_muted:
            return "muted"
        return "open"


class Grouping(models.Model):
    """Maps a grouping key (see digest.grouping) to the issue its events belong to."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE)
    grouping_key = models.TextField()
    grouping_key_hash = models.CharField(max_length=64)
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="groupings")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "grouping_key_hash"], name="unique_grouping_per_project")
        ]

    def __str__(self) -> str:
        return self.grouping_key[:80]


class TurningPoint(models.Model):
    """One moment in an issue's history: first seen, resolved, regressed, muted, a comment, ..."""

    class Kind(models.TextChoices):
        FIRST_SEEN = "first_seen", "First seen"
        RESOLVED = "resolved", "Resolved"
        NEXT_MATERIALIZED = "next_materialized", "Next release seen"
        REGRESSED = "regressed", "Regressed"
        REOPENED = "reopened", "Reopened"
        MUTED = "muted", "Muted"
        UNMUTED = "unmuted", "Unmuted"
        COMMENT = "comment", "Comment"
        ASSIGNED = "assigned", "Assigned"
        UNASSIGNED = "unassigned", "Unassigned"
        MERGED = "merged", "Merged issues into this one"
        MERGED_INTO = "merged_into", "Merged into another issue"
        UNMERGED = "unmerged", "Unmerged"
        REPROCESS_REQUESTED = "reprocess_requested", "Reprocessing requested"
        REPROCESSED = "reprocessed", "Reprocessed"

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="turning_points")
    timestamp = models.DateTimeField(db_index=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    triggering_event = models.ForeignKey("events.Event", null=True, blank=True, on_delete=models.SET_NULL)
    metadata = models.JSONField(default=dict, blank=True)
    comment = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-timestamp", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.timestamp:%Y-%m-%d %H:%M}"


class Subscription(models.Model):
    """A person's wish about one issue's notifications: subscribed (alerts and comments by e-mail) or, after an
    explicit unsubscribe, not, which later participation does not undo (issues.participants)."""

    class Reason(models.TextChoices):
        EXPLICIT = "explicit", "Subscribed"
        COMMENTED = "commented", "Commented"
        ASSIGNED = "assigned", "Assigned"
        MENTIONED = "mentioned", "Mentioned"

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="subscriptions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="issue_subscriptions")
    is_active = models.BooleanField(default=True)
    reason = models.CharField(max_length=16, choices=Reason.choices, default=Reason.EXPLICIT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issue", "user"], name="unique_issue_subscription")]

    def __str__(self) -> str:
        return f"{self.user} on {self.issue_id} ({'on' if self.is_active else 'off'})"
