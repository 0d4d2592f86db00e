"""Cron monitors (Sentry's "crons"): a schedule a job promises to keep, and the check-ins it sent (or that the
scheduler wrote for it when none came: missed, timed out).

A monitor is created, and its settings replaced, by the `monitor_config` of its check-ins (monitors.checkins).
A monitor is one row per slug *and environment* (a check-in's `environment`, empty when it names none): the runs of
`production` and `staging` are judged apart, as Sentry's monitor environments are, so a missed staging run does not
mark production failing, and each environment's failures are an issue of their own. The rows of one slug share
the mute switch (monitors.actions) and are shown and served as one monitor with its environments. Its
state is kept on the row so that the every-minute deadline job (monitors.deadlines) finds the overdue monitors with
one indexed query, whatever the number of monitors: `missed_after` (the next expected check-in plus its margin)
and, on each running check-in, `timeout_after` (its start plus the monitor's max runtime).
"""

import uuid

from django.db import models


class ScheduleType(models.TextChoices):
    CRONTAB = "crontab"
    INTERVAL = "interval"


class MonitorStatus(models.TextChoices):
    NEW = "new"  # no check-in judged yet
    OK = "ok"
    FAILING = "failing"  # failure_issue_threshold consecutive failures: its issue is open


class Monitor(models.Model):
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="monitors")
    slug = models.CharField(max_length=128)
    environment = models.CharField(max_length=64, blank=True, default="")  # of its check-ins; "" when they name none
    status = models.CharField(max_length=16, choices=MonitorStatus.choices, default=MonitorStatus.NEW)

    # from monitor_config; an empty schedule_type: the monitor has no (usable) schedule, so nothing is "missed"
    schedule_type = models.CharField(max_length=16, choices=ScheduleType.choices, blank=True, default="")
    schedule_value = models.CharField(max_length=128, blank=True, default="")  # "0 3 * * *", or the interval count
    schedule_unit = models.CharField(max_length=16, blank=True, default="")  # interval: minute .. year
    # why the schedule cannot be used (a crontab we cannot read, an unknown timezone), shown on the monitor's page
    schedule_error = models.CharField(max_length=255, blank=True, default="")
    timezone = models.CharField(max_length=64, blank=True, default="UTC")
    checkin_margin = models.PositiveIntegerField(default=1, help_text="minutes after the expected time")
    max_runtime = models.PositiveIntegerField(default=30, help_text="minutes a check-in may stay in progress")
    failure_issue_threshold = models.PositiveIntegerField(default=1)
    recovery_threshold = models.PositiveIntegerField(default=1)

    created_at = models.DateTimeField()
    last_checkin_at = models.DateTimeField(null=True, blank=True)
    last_status = models.CharField(max_length=16, blank=True, default="")  # of the latest check-in
    next_expected_at = models.DateTimeField(null=True, blank=True)
    missed_after = models.DateTimeField(null=True, blank=True, db_index=True)  # next_expected_at + checkin_margin
    consecutive_failures = models.PositiveIntegerField(default=0)
    consecutive_oks = models.PositiveIntegerField(default=0)
    # the issue its failures open (and its recovery resolves); the same issue each time, as its events share one
    # fingerprint
    issue = models.ForeignKey("issues.Issue", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # muted: its check-ins are kept and judged, but its failures open no issue and send no alert
    is_muted = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "slug", "environment"], name="unique_monitor_slug_environment_per_project"
            )
        ]
        ordering = ["slug", "environment"]

    def __str__(self):
        return self.slug

    def schedule_text(self) -> str:
        if self.schedule_type == ScheduleType.CRONTAB:
            return f"{self.schedule_value} ({self.timezone})"
        if self.schedule_type == ScheduleType.INTERVAL:
            return f"every {self.schedule_value} {self.schedule_unit}(s)"
        return "no schedule"


class CheckInStatus(models.TextChoices):
    IN_PROGRESS = "in_progress"
    OK = "ok"
    ERROR = "error"
    MISSED = "missed"  # written by the deadline job: no check-in came by the expected time plus the margin
    TIMEOUT = "timeout"  # written by the deadline job: in progress for longer than max_runtime


FAILURES = (CheckInStatus.ERROR, CheckInStatus.MISSED, CheckInStatus.TIMEOUT)


class CheckIn(models.Model):
    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="checkins")
    check_in_id = models.UUIDField(default=uuid.uuid4)
    status = models.CharField(max_length=16, choices=CheckInStatus.choices)
    environment = models.CharField(max_length=64, blank=True, default="")
    release = models.CharField(max_length=250, blank=True, default="")
    duration = models.FloatField(null=True, blank=True, help_text="seconds")
    date_added = models.DateTimeField(db_index=True)  # when it was accepted (or, for missed, judged)
    date_updated = models.DateTimeField()
    expected_at = models.DateTimeField(null=True, blank=True)
    timeout_after = models.DateTimeField(null=True, blank=True, db_index=True)  # while in progress

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["monitor", "check_in_id"], name="unique_check_in_id_per_monitor")
        ]
        indexes = [models.Index(fields=["monitor", "-date_added"], name="checkin_monitor_recent")]

    def __str__(self):
        return f"{self.monitor_id} {self.status} {self.date_added:%Y-%m-%d %H:%M}"
