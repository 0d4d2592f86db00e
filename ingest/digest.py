"""Digest: turn one raw accepted event into an Event row, grouped into an Issue, with all bookkeeping.

Runs in the single writer for the project (the digest worker, or inline under a lock when Celery is eager) and is
idempotent on (project, event_id): digesting the same raw event twice stores it once.
"""

import json
import logging
from datetime import UTC, datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from alerts.dispatch import alert_on_commit
from bugsink.period_counter import PeriodCounter
from bugsink.registry import registry
from events.models import Event
from ingest.grouping import culprit, grouping_key, hash_key, title_parts
from ingest.normalize import normalize_event
from ingest.store import RawEvent, delete_raw_event, load_raw_event
from issues.models import Grouping, Issue, TurningPoint
from issues.state import STATE_FIELDS, IssueStateManager, is_regression
from projects.models import Project
from releases.models import Release
from releases.ordering import project_ordered_versions
from tags.extract import event_tags
from tags.indexing import index_event_tags

logger = logging.getLogger(__name__)


def digest_event(project_id: int, event_id: str) -> Event | None:
    raw = load_raw_event(project_id, event_id)
    if raw is None:
        return None  # digested already (a re-delivered task), or never accepted
    try:
        data = json.loads(raw.payload)
    except ValueError:
        logger.error("raw event %s is not JSON; intake validates this, so the file was damaged", event_id)
        return None
    event_data = normalize_event(data, event_id=event_id, received_at=raw.received_at, remote_addr=raw.remote_addr)
    with transaction.atomic():
        transaction.on_commit(lambda: delete_raw_event(project_id, event_id))
        project = Project.objects.defer("period_counts").filter(pk=project_id).first()
        if project is None or Event.objects.filter(project_id=project_id, event_id=event_id).exists():
            return None
        return _store(project, event_data, raw)


def _persisted_counts(model, pk):
    return lambda: model.objects.values_list("period_counts", flat=True).get(pk=pk)


def _count(kind: str, pk, persisted_count: int, load, when: datetime) -> PeriodCounter:
    """Increment the registry's counter for a project or issue; the caller persists it in this transaction."""
    counter = registry.get(kind, pk, persisted_count, load)
    counter.inc(when)
    # Right after the increment: should the transaction roll back, the persisted count stays behind this one, and
    # the next digest reloads the counter from the database.
    registry.counted(kind, pk, persisted_count + 1)
    return counter


def _store(project: Project, event_data: dict, raw: RawEvent) -> Event:
    ingested_at = datetime.fromtimestamp(raw.received_at, UTC)
    timestamp = datetime.fromtimestamp(event_data["timestamp"], UTC)
    release = _column(event_data.get("release"), 250)

    ordered_versions = None
    if release:
        _, created = Release.objects.get_or_create(
            project=project, version=release, defaults={"date_released": ingested_at}
        )
        if created:
            ordered_versions = project_ordered_versions(project)
            if ordered_versions[-1] == release:
                _materialize_next_release(project, release, ingested_at)

    key = _column(grouping_key(event_data))
    key_hash = hash_key(key)
    title = title_parts(event_data)
    grouping = (
        Grouping.objects.select_related("issue")
        .defer("issue__period_counts")
        .filter(project=project, grouping_key_hash=key_hash)
        .first()
    )
    project_counter = _count(
        "project", project.pk, project.digested_event_count, _persisted_counts(Project, project.pk), ingested_at
    )
    project_update = {"digested_event_count": F("digested_event_count") + 1, "period_counts": project_counter.to_dict()}

    if grouping is None:
        Project.objects.filter(pk=project.pk).update(issue_counter=F("issue_counter") + 1, **project_update)
        issue = _create_issue(project, event_data, ingested_at, title, release)
        grouping = Grouping.objects.create(project=project, grouping_key=key, grouping_key_hash=key_hash, issue=issue)
        event = _create_event(project, issue, grouping, event_data, timestamp, ingested_at, release, title)
        index_event_tags(event, event_tags(event_data), new_issue=True)
        IssueStateManager._turning_point(issue, TurningPoint.Kind.FIRST_SEEN, event=event, when=ingested_at)
        alert_on_commit("new_issue", issue)
        return event

    Project.objects.filter(pk=project.pk).update(**project_update)
    issue = grouping.issue
    issue.project = project
    counter = _count("issue", issue.pk, issue.event_count, _persisted_counts(Issue, issue.pk), ingested_at)
    issue.period_counts = counter.to_dict()
    if issue.is_resolved and release and issue.fixed_at and ordered_versions is None:
        ordered_versions = project_ordered_versions(project)
    regressed = is_regression(issue, release, ordered_versions or [])
    unmute_reason = IssueStateManager.unmute_reason(issue, counter, ingested_at)

    issue.event_count += 1
    issue.last_seen = max(issue.last_seen, ingested_at)
    update_fields = ["event_count", "last_seen", "period_counts"]
    if release and release not in issue.events_at:
        issue.events_at = [*issue.events_at, release]
        update_fields.append("events_at")
    event = _create_event(project, issue, grouping, event_data, timestamp, ingested_at, release, title)
    index_event_tags(event, event_tags(event_data), new_issue=False)
    if regressed:
        IssueStateManager.regress(issue, event=event, when=ingested_at, release=release)
        alert_on_commit("regression", issue, event_id=event_data["event_id"])
    elif unmute_reason:
        IssueStateManager.unmute(issue, event=event, reason=unmute_reason, when=ingested_at)
        alert_on_commit("unmute", issue, reason=unmute_reason)
    if regressed or unmute_reason:
        update_fields += STATE_FIELDS
    issue.save(update_fields=update_fields)
    return event


def _create_issue(project, event_data, ingested_at, title, release) -> Issue:
    calculated_type, calculated_value = title
    number = Project.objects.values_list("issue_counter", flat=True).get(pk=project.pk)
    issue = Issue(
        project=project,
        number=number,
        calculated_type=_column(calculated_type, 255),
        calculated_value=_column(calculated_value),
        culprit=_column(culprit(event_data), 255),
        transaction=_column(event_data.get("transaction"), 255),
        level=event_data["level"],
        platform=_column(event_data["platform"], 64),
        first_seen=ingested_at,
        last_seen=ingested_at,
        event_count=1,
        events_at=[release] if release else [],
    )
    issue.period_counts = _count("issue", issue.pk, 0, dict, ingested_at).to_dict()  # a new issue starts at zero
    issue.save(force_insert=True)
    return issue


def _column(value, max_length: int | None = None) -> str:
    """A string fit for a text column: PostgreSQL refuses NUL characters, and columns have a maximum length."""
    text = (value or "").replace("\x00", "\ufffd")
    return text[:max_length] if max_length else text


def _create_event(project, issue, grouping, event_data, timestamp, ingested_at, release, title) -> Event:
    calculated_type, calculated_value = title
    return Event.objects.create(
        project=project,
        issue=issue,
        grouping=grouping,
        event_id=event_data["event_id"],
        timestamp=timestamp,
        ingested_at=ingested_at,
        digested_at=timezone.now(),
        digest_order=issue.event_count,
        data_json=json.dumps(event_data),
        calculated_type=_column(calculated_type, 255),
        calculated_value=_column(calculated_value),
        level=event_data["level"],
        platform=_column(event_data["platform"], 64),
        release=release,
        environment=_column(event_data.get("environment"), 64),
        transaction=_column(event_data.get("transaction"), 200),
    )


def _materialize_next_release(project: Project, version: str, when: datetime) -> None:
    """The first event of a newer release: issues resolved "in the next release" are now fixed in this one."""
    for issue in Issue.objects.filter(project=project, is_resolved=True, is_resolved_by_next_release=True):
        IssueStateManager.materialize_next_release(issue, version, when=when)
        issue.save(update_fields=["is_resolved_by_next_release", "fixed_at"])
