import secrets

from django.db import models


def new_webhook_secret() -> str:
    return secrets.token_hex(32)


class AlertChannel(models.Model):
    """A chat or HTTP endpoint a project's alerts are posted to (email goes to project members instead)."""

    class Kind(models.TextChoices):
        SLACK = "slack", "Slack (incoming webhook)"
        DISCORD = "discord", "Discord (webhook)"
        WEBHOOK = "webhook", "Generic JSON webhook (HMAC-signed)"

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="alert_channels")
    name = models.CharField(max_length=255)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    url = models.URLField(max_length=2000, help_text="Private, loopback and link-local addresses are refused.")
    secret = models.CharField(
        max_length=64,
        default=new_webhook_secret,
        help_text="Generic webhooks: the key of the X-Bugsink-Signature HMAC-SHA256 header.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class DeliveryAttempt(models.Model):
    """One try at delivering one alert to one target: what was sent where, and how it went."""

    class AlertKind(models.TextChoices):
        NEW_ISSUE = "new_issue", "New issue"
        REGRESSION = "regression", "Regression"
        UNMUTE = "unmute", "Unmuted"
        TEST = "test", "Test alert"
        ASSIGNED = "assigned", "Assigned"
        COMMENT = "comment", "Comment"
        MENTION = "mention", "Mention"

    class ChannelKind(models.TextChoices):
        EMAIL = "email", "Email"
        SLACK = "slack", "Slack"
        DISCORD = "discord", "Discord"
        WEBHOOK = "webhook", "Webhook"

    class Status(models.TextChoices):
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        # the target resolves to an address we do not post to (private, loopback, ...): never retried
        REFUSED = "refused", "Refused"

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="alert_deliveries")
    # test alerts have no issue
    issue = models.ForeignKey(
        "issues.Issue", null=True, blank=True, on_delete=models.CASCADE, related_name="alert_deliveries"
    )
    alert_kind = models.CharField(max_length=16, choices=AlertKind.choices)
    channel_kind = models.CharField(max_length=16, choices=ChannelKind.choices)
    # kept when the channel is deleted, so the history stays readable
    channel = models.ForeignKey(AlertChannel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    target = models.TextField(help_text="The webhook URL (tokens masked) or the comma-joined email addresses.")
    attempt = models.PositiveSmallIntegerField(default=1, help_text="1 for the first try, 2 for the first retry, ...")
    status = models.CharField(max_length=16, choices=Status.choices)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_alert_kind_display()} via {self.get_channel_kind_display()}: {self.status}"
