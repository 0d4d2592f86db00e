"""What ingest needs of a project (its key, its quotas, whether to record addresses), kept in this process for a
few seconds.

Why: every ingest request read its project's row, and under load that query (mostly Django building it) was a
quarter of the web process's CPU. The columns change rarely (a key rotated in the admin, quotas edited on the
project's settings page, the project deleted).

Its keys: the current one, and the others still valid (projects.keys: a rotated-out key in its grace period, a
further key), with the moment each ends; ingest.auth checks that moment on every request, so a key whose grace
ends is refused then, cached or not. A project being deleted is no project here.

How fresh: a save or delete of a Project or of one of its keys in this process drops its entry at once, and again
when the transaction commits (a request that read the old row before the commit cannot put it back: a generation
counter forbids it). Other processes (the other web workers, another node) see the change when their entry
expires, at most INGEST_PROJECT_CACHE_SECONDS later (a revoked key is refused by then); 0 turns the cache off. A
project that does not exist is not cached: it is looked up again on every request, so a new project is reachable
at once everywhere.
"""

import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import FilteredRelation, Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from projects.models import Project, ProjectKey

clock = time.monotonic  # tests move it
MAX_ENTRIES = 10_000  # a bound on memory: past it the cache starts over


@dataclass(frozen=True)
class IngestProject:
    pk: int
    sentry_key: str
    quota_events_per_minute: int | None
    quota_events_per_hour: int | None
    scrub_ip_addresses: bool  # "don't store IP addresses": the raw event is kept without the sender's address
    # the project's other valid keys: (key, the wall-clock time.time() it ends at, or None: until revoked)
    other_keys: tuple[tuple[str, float | None], ...] = ()


FIELDS = ("pk", "sentry_key", "quota_events_per_minute", "quota_events_per_hour", "scrub_ip_addresses")

_entries: dict[int, tuple[float, IngestProject]] = {}  # project id -> (expires at, columns)
_lock = threading.Lock()
_generation = 0  # bumped by every invalidation


def get(project_id: int) -> IngestProject | None:
    """The project's ingest columns, or None when there is no such project."""
    ttl = settings.INGEST_PROJECT_CACHE_SECONDS
    entry = _entries.get(project_id)
    if entry is not None and entry[0] > clock():
        return entry[1]
    generation = _generation
    rows = _read(project_id)
    if not rows:
        forget(project_id)
        return None
    other_keys = tuple((key, until.timestamp() if until else None) for *_, key, until in rows if key is not None)
    project = IngestProject(*rows[0][: len(FIELDS)], other_keys=other_keys)
    if ttl > 0:
        with _lock:
            if generation == _generation:  # no invalidation since the read: the row is not older than one
                if len(_entries) >= MAX_ENTRIES:
                    _entries.clear()
                _entries[project_id] = (clock() + ttl, project)
    return project


def _read(project_id: int) -> list[tuple]:
    """The project's columns, each with one of its valid other keys (or none), in one query: a LEFT JOIN on the keys
    that have not ended."""
    now = timezone.now()
    valid = FilteredRelation("keys", condition=Q(keys__valid_until=None) | Q(keys__valid_until__gt=now))
    projects = Project.objects.filter(pk=project_id, is_deleting=False).annotate(valid_keys=valid)
    return list(projects.values_list(*FIELDS, "valid_keys__public_key", "valid_keys__valid_until")[:100])


def forget(project_id: int) -> None:
    global _generation
    with _lock:
        _generation += 1
        _entries.pop(project_id, None)


def clear() -> None:
    global _generation
    with _lock:
        _generation += 1
        _entries.clear()


@receiver(post_save, sender=Project, dispatch_uid="ingest.project_cache.saved")
@receiver(post_delete, sender=Project, dispatch_uid="ingest.project_cache.deleted")
def _project_changed(sender, instance, **kwargs):
    project_id = instance.pk
    forget(project_id)
    transaction.on_commit(lambda: forget(project_id), using=kwargs.get("using"))


@receiver(post_save, sender=ProjectKey, dispatch_uid="ingest.project_cache.key_saved")
@receiver(post_delete, sender=ProjectKey, dispatch_uid="ingest.project_cache.key_deleted")
def _key_changed(sender, instance, **kwargs):
    project_id = instance.__dict__.get("project_id")  # not loaded (a batch deletion's only("pk")): forget them all
    if project_id is None:
        clear()
        transaction.on_commit(clear, using=kwargs.get("using"))
        return
    forget(project_id)
    transaction.on_commit(lambda: forget(project_id), using=kwargs.get("using"))
