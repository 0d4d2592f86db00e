import hashlib
import secrets
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.utils.text import slugify


def new_sentry_key() -> str:
    return uuid.uuid4().hex


class Team(models.Model):
    """People who work on the same projects: a team's members see (and get alerts for) the team's projects."""

    name = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    """What a member of a team or project may do: admins manage its members and settings."""

    MEMBER = "member", "Member"
    ADMIN = "admin", "Admin"


class Membership(models.Model):
    """A user's place in a group, a team or a project: their role there and whether they want its alerts by email.

    Two tables share these fields (TeamMembership, ProjectMembership) rather than one table for both; why, and the
    one set of verbs that changes either, is projects.people.MembershipKind."""

    Role = Role

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    send_email_alerts = models.BooleanField(default=True)

    class Meta:
        abstract = True


class TeamMembership(Membership):
    """In a team: sees (and may get alerts of) every project of the team; a team admin administers them. Its
    send_email_alerts is for the team's projects; a direct ProjectMembership's own switch wins over it."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="unique_team_membership")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"


class Project(models.Model):
    """A place events are sent to. The integer pk is the project id in the DSN."""

    name = models.CharField(max_length=255, unique=True)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="projects")
    slug = models.SlugField(max_length=50, unique=True)
    # the current DSN key; older keys still valid for a while, and further keys, are ProjectKey rows
    sentry_key = models.CharField(max_length=32, unique=True, default=new_sentry_key)
    created_at = models.DateTimeField(auto_now_add=True)
    # set when an admin deletes the project: it is gone for everyone (lists, ingest) while a job deletes its data
    # in batches (bugsink.project_deletion), and the row last
    is_deleting = models.BooleanField(default=False, editable=False)

    # The number the next new issue gets; issues are numbered per project (short ids like MYAPP-12).
    issue_counter = models.PositiveIntegerField(default=0, editable=False)

    # every event digested for this project, and their persisted PeriodCounter (digest.period_counter)
    digested_event_count = models.PositiveBigIntegerField(default=0, editable=False)
    period_counts = models.JSONField(default=dict, blank=True, editable=False)

    alert_on_new_issue = models.BooleanField(default=True)
    alert_on_regression = models.BooleanField(default=True)
    alert_on_unmute = models.BooleanField(default=True)

    # events accepted per fixed UTC minute / hour (ingest.quota); null = the QUOTA_EVENTS_PER_* setting, 0 = unlimited
    quota_events_per_minute = models.PositiveIntegerField(null=True, blank=True)
    quota_events_per_hour = models.PositiveIntegerField(null=True, blank=True)

    # retention (events.retention); null = the RETENTION_MAX_EVENTS / RETENTION_MAX_AGE_DAYS setting, 0 = no limit
    retention_max_events = models.PositiveIntegerField(null=True, blank=True)
    retention_max_age_days = models.PositiveIntegerField(null=True, blank=True)
    # digested_event_count minus this estimates the stored events without counting them (events.retention)
    evicted_event_count = models.PositiveBigIntegerField(default=0, editable=False)

    # server-side data scrubbing before an event is stored (events.scrub); on by default, as Sentry's
    scrub_defaults = models.BooleanField(
        "Use the default scrubbers",
        default=True,
        help_text="Filter passwords, secrets, tokens, API keys, cookies, sessions and card numbers.",
    )
    scrub_sensitive_fields = models.TextField(
        "Additional sensitive fields",
        blank=True,
        default="",
        help_text="One per line. Values under keys that contain one, and texts that contain one, are filtered.",
    )
    scrub_safe_fields = models.TextField(
        "Safe fields",
        blank=True,
        default="",
        help_text="One key name per line (any case): values under these keys are never filtered.",
    )
    scrub_ip_addresses = models.BooleanField(
        "Don't store IP addresses",
        default=False,
        help_text="Remove the user's and the request's IP addresses, and don't record the sender's.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(self.name)
        super().save(*args, **kwargs)

    @property
    def dsn(self) -> str:
        """The DSN SDKs are configured with: scheme://key@host[:port][/prefix]/id."""
        parts = urlsplit(settings.BASE_URL)
        netloc = parts.netloc
        return f"{parts.scheme}://{self.sentry_key}@{netloc}{parts.path.rstrip('/')}/{self.pk}"

    @property
    def short_prefix(self) -> str:
        return self.slug.upper()


class ProjectKey(models.Model):
    """A DSN key of a project besides its current one (Project.sentry_key): a key replaced by a rotation, valid until
    its grace period ends, or a further key an admin added. Revoking a key ends it at once. Ingest accepts the
    current key and every key whose valid_until is empty or still ahead (projects.keys, ingest.project_cache)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="keys")
    public_key = models.CharField(max_length=32, unique=True, default=new_sentry_key)
    label = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    valid_until = models.DateTimeField(null=True, blank=True)  # null: until revoked
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"key {self.public_key[:8]}… of {self.project}"

    def is_valid(self, now) -> bool:
        return self.valid_until is None or self.valid_until > now


SCRUB_FIELDS = ("scrub_defaults", "scrub_sensitive_fields", "scrub_safe_fields", "scrub_ip_addresses")


def unique_slug(name: str) -> str:
    base = (slugify(name) or "project")[:40]
    slug, n = base, 1
    while Project.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


class ProjectMembership(Membership):
    """In one project, directly."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="project_memberships")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="unique_membership")]

    def __str__(self) -> str:
        return f"{self.user} in {self.project} ({self.role})"


INVITATION_VALIDITY = timedelta(days=7)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class InvitationQuerySet(models.QuerySet):
    def pending(self):
        from django.utils import timezone

        return self.filter(accepted_at__isnull=True, expires_at__gt=timezone.now())


class Invitation(models.Model):
    """An email address invited into a project with a role. The link carries a random token of which only the
    SHA-256 is stored, so the database alone does not let anyone in. Valid for 7 days, and used once.

    It is bound to the invited address: a link forwarded (or leaked) to someone else does not let them in, unless
    the admin chose "anyone with this link" when inviting."""

    Role = ProjectMembership.Role

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # False (the default): only a user whose email is `email` may accept; True: whoever has the link
    anyone_with_link = models.BooleanField(
        default=False, help_text="Anyone with the link may accept it, not only a user with the invited address."
    )

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"invitation of {self.email} to {self.project} ({self.role})"

    @classmethod
    def new_token(cls) -> str:
        return secrets.token_urlsafe(32)

    @property
    def is_expired(self) -> bool:
        from django.utils import timezone

        return self.expires_at <= timezone.now()
