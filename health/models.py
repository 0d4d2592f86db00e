"""Release health and the SDKs' discard counts, stored aggregated: a row per hour × release × environment for
sessions, and a row per day × source × category × reason for what was not kept. Millions of sessions are a few rows."""

from django.db import models

from projects.models import Project


class SessionBucket(models.Model):
    """The sessions of one hour (by when each session started), release and environment.

    started: sessions begun (a single session counts on its `init` update; an aggregate's counts are sessions).
    errored: sessions that had an error, crashed or ended abnormally (so crashed and abnormal are part of it);
    crashed, abnormal: sessions that ended so. A single session reports its status on several updates (the Python
    SDK sends "crashed" with the event and again when the session ends), so these three are kept as the counts the
    aggregates reported plus the size of a sketch (health.distinct) of the ids of such single sessions
    (errored_sessions, crashed_sessions, abnormal_sessions): each session counts once.
    users, crashed_users: sketches of the distinct ids (`did`) of all sessions, and of crashed ones; rows of several
    hours are merged to count the users of a period.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    hour = models.DateTimeField()
    release = models.CharField(max_length=250)
    environment = models.CharField(max_length=64, blank=True, default="")
    started = models.PositiveBigIntegerField(default=0)
    errored = models.PositiveBigIntegerField(default=0)
    crashed = models.PositiveBigIntegerField(default=0)
    abnormal = models.PositiveBigIntegerField(default=0)
    errored_sessions = models.BinaryField(default=b"")
    crashed_sessions = models.BinaryField(default=b"")
    abnormal_sessions = models.BinaryField(default=b"")
    users = models.BinaryField(default=b"")
    crashed_users = models.BinaryField(default=b"")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "hour", "release", "environment"], name="health_bucket_key")
        ]
        indexes = [models.Index(fields=["project", "release", "hour"], name="health_bucket_release")]

    def __str__(self) -> str:
        return f"{self.release} {self.environment or '-'} {self.hour:%Y-%m-%d %H}:00"


class DiscardCount(models.Model):
    """How many items of a category were not kept on a day, by whom and why."""

    SDK = "sdk"  # the SDK dropped them and told us so in a client report
    NOT_KEPT = "not_kept"  # a type this server does not keep (the SDK was told to stop: X-Sentry-Rate-Limits)
    UNUSABLE = "unusable"  # we received them but could not count them (malformed, over a limit)
    SOURCES = [(SDK, "dropped by the SDK"), (NOT_KEPT, "not kept by this server"), (UNUSABLE, "not usable")]

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    source = models.CharField(max_length=16, choices=SOURCES)
    category = models.CharField(max_length=40)
    reason = models.CharField(max_length=64)
    quantity = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "day", "source", "category", "reason"], name="health_discard_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.source} {self.category} {self.reason}: {self.quantity}"
