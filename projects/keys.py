"""A project's DSN keys: rotate the current one (a new DSN; the old key keeps working for a grace period, so that
SDKs can be redeployed with the new DSN without losing events), add a further key, revoke a key (refused at once).

The current key is Project.sentry_key (the DSN shown everywhere); the others are ProjectKey rows. Every change goes
through a model save, whose signal drops ingest's cached copy of the project's keys in this process at once
(ingest.project_cache); other processes refuse a revoked key within INGEST_PROJECT_CACHE_SECONDS.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from projects.models import Project, ProjectKey, new_sentry_key

# the longest grace period a rotation may give the old key
MAX_GRACE = timedelta(days=30)


class KeyActionRefused(ValueError):
    """A key action that cannot be done; the message says why, for the admin."""


def default_grace() -> timedelta:
    return timedelta(hours=settings.KEY_ROTATION_GRACE_HOURS)


@transaction.atomic
def rotate_key(project: Project, grace: timedelta | None = None) -> ProjectKey:
    """Give the project a new current key. The old one stays valid for `grace` (the KEY_ROTATION_GRACE_HOURS
    setting when not given; zero ends it at once). Returns the old key's row."""
    grace = default_grace() if grace is None else grace
    if grace < timedelta(0) or grace > MAX_GRACE:
        raise KeyActionRefused(f"The grace period must be between 0 and {MAX_GRACE.days * 24} hours.")
    locked = Project.objects.select_for_update().get(pk=project.pk)
    now = timezone.now()
    old = ProjectKey(
        project=locked,
        public_key=locked.sentry_key,
        label="Rotated out",
        valid_until=now + grace,
        revoked_at=now if not grace else None,
    )
    old.save()
    locked.sentry_key = new_sentry_key()
    locked.save(update_fields=["sentry_key"])
    project.sentry_key = locked.sentry_key
    return old


def add_key(project: Project, label: str = "") -> ProjectKey:
    """A further key, valid until revoked."""
    key = ProjectKey(project=project, label=label.strip()[:100])
    key.save()
    return key


@transaction.atomic
def revoke_key(project: Project, key_id: int) -> ProjectKey:
    """End one of the project's other keys now. (The current key is ended by a rotation without grace.)"""
    key = ProjectKey.objects.select_for_update().filter(project=project, pk=key_id).first()
    if key is None:
        raise KeyActionRefused("No such key.")
    now = timezone.now()
    if not key.is_valid(now):
        raise KeyActionRefused("That key is no longer valid.")
    key.valid_until = now
    key.revoked_at = now
    key.save(update_fields=["valid_until", "revoked_at"])
    return key


def keys_of(project: Project) -> tuple[list[ProjectKey], list[ProjectKey]]:
    """The project's other keys: (still valid, ended), newest first; of the ended ones, the latest 20."""
    now = timezone.now()
    rows = list(ProjectKey.objects.filter(project=project).order_by("-created_at", "-id")[:200])
    valid = [key for key in rows if key.is_valid(now)]
    ended = [key for key in rows if not key.is_valid(now)][:20]
    return valid, ended
