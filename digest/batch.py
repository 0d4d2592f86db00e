"""Digest: turn raw accepted events into Event rows, grouped into Issues, with all bookkeeping.

Runs in the single writer for the project (the digest worker, or inline under a lock when Celery is eager) and is
idempotent on (project, event_id): digesting the same raw event twice stores it once.

Batching: digesting one raw event also takes the project's other pending raw events (oldest first, up to
DIGEST_BATCH_SIZE) into the same transaction. Under a backlog this turns a dozen queries and a commit per event
into a few per batch; the tasks of events that were taken along find their raw file gone and return at once.
Events are handled in arrival order within a batch, with the same outcome as one by one: releases first (so "the
next release" materializes before the events that bring it are judged), then each event against the issue state
its predecessors left.

A failure is judged by asking the database, not by the exception's class (drivers report a packet too big or a
string too long as an OperationalError, as they do a lost connection). When the database did not say it was busy
(a lock timeout, a deadlock) and answers a trivial query, the failure was an event's: the batch is retried event by
event, and an event that fails on its own DIGEST_EVENT_TRIES times is moved to the store's quarantine (kept,
counted and listed for admins, never lost), so the events behind it are digested. Otherwise the database is away or
busy, and every raw event stays pending for a retry or the sweep.
"""

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, TextField, Value
from django.utils import timezone

from alerts.dispatch import alert_on_commit
from artifacts.lookup import SourceLookup
from bugsink import jobs
from digest import claims
from digest.grouping import culprit, grouping_key, hash_key, title_parts
from digest.normalize import normalize_event, trace_id_of
from digest.period_counter import PeriodCounter
from digest.registry import registry
from digest.symbolicate import symbolicate
from digest.trim import fit_event
from digest.useragent import add_user_agent_contexts
from events import items as event_items
from events.models import Event
from events.retention import evict_after_digest
from events.safe import loads_json
from events.scrub import ScrubPolicy, policy_for, scrub_event, sender_address
from ingest import item_streams, store
from ingest.raw import split_key
from issues.models import Grouping, Issue, TurningPoint
from issues.state import STATE_FIELDS, IssueStateManager
from projects.models import SCRUB_FIELDS, Project
from releases.actions import resolve_waiting_for_next_release
from releases.models import Release
from releases.ordering import ReleaseOrder, latest_version
from tags.extract import capped_event_tags, mark_not_indexed
from tags.indexing import index_tags

logger = logging.getLogger(__name__)

COUNTER_FIELDS = ["event_count", "last_seen", "period_counts", "first_release", "last_release"]
DIGEST_EVENT_TRIES = 3  # an event that fails on its own this often (with the database up) is quarantined
RETRY_PAUSE_SECONDS = 0.2  # between those tries: a lock held by another writer may be gone by then
MAX_TITLE_CHARS = 1024  # the value part of a title: an exception value or log message can be a megabyte
# Raw events of a batch are loaded this many bytes' worth at a time, counting each at MAX_EVENT_TRIM_SIZE: a batch of
# oversized events (up to 32 MiB each before trimming) is never in memory all at once.
RAW_LOAD_BUDGET = 256 * 1024 * 1024


class DatabaseUnavailable(Exception):
    """The database did not answer, or was busy: the raw events stay pending (a retry or the sweep digests them)."""


def _not_the_events_fault(error: Exception) -> bool:
    return jobs.contention(error) or not database_answers()


def _digest_retrying_contention(project_id: int, prepared: list["Prepared"]) -> int:
    """_digest_batch (one transaction) under the one contention policy (bugsink.jobs.retry_contention): tried again
    after a short pause when the database reports contention (a deadlock victim on PostgreSQL or MariaDB, a lock
    wait timeout, SQLite's busy timeout), as databases ask their clients to; then the events wait (for the next
    digest or the sweep). The digest job is declared to apply the policy itself, so nothing else retries it."""
    return jobs.retry_contention(_digest_batch, project_id, prepared)


@dataclass
class Prepared:
    """One raw event, parsed and normalized, with everything digest derives from it before touching the DB."""

    key: str
    # the JSON text the Event row stores (digest.trim.fit_event made it fit): a batch keeps this, not the parsed event,
    # whose objects take ten times the memory (~100 events are prepared before their transaction)
    data_json: str
    event_id: str
    level: str
    platform: str
    culprit: str
    transaction: str | None  # as the event has it; each column cuts it to its own length
    environment: str
    trace_id: str
    ingested_at: datetime
    timestamp: datetime
    release: str
    grouping_key: str
    grouping_key_hash: str
    # the key as the first grouping code made it (before JavaScript symbolication and base32/base64 hash masking),
    # when it differs: an issue made under it keeps receiving the event (digest.grouping._clean_filename)
    legacy_key_hash: str | None
    title: tuple[str, str]
    tags: dict
    items: list = field(default_factory=list)  # attachments and feedback that came with it (events.items)
    streams: list = field(default_factory=list)  # items of the registered streams (ingest.item_streams)


@dataclass
class PreparedItems:
    """A raw record of attachments, feedback or stream items without an event: rows of their own, attachments and
    feedback linked to the event later."""

    key: str
    event_id: str
    ingested_at: datetime
    items: list
    streams: list = field(default_factory=list)


def digest(key: str) -> int:
    """Digest the raw event `key`, and with it the project's other pending raw events. Returns how many events
    were stored. Never digests anything twice; returns 0 at once when `key` was digested already."""
    if not store.exists(key):
        return 0
    project_id = split_key(key)[0]
    keys = store.pending_keys(project_id, limit=settings.DIGEST_BATCH_SIZE)
    if key not in keys:
        keys = [*keys[: max(settings.DIGEST_BATCH_SIZE - 1, 0)], key]
    return digest_keys(project_id, keys)


def run_digest_job(key: str) -> int:
    """The digest job's work (digest.job.digest_job; `digest_job.schedule(key)` asks for it): the raw event `key`
    and every other pending raw event of its project. Events that arrive from now on need a digest of their own, so
    the project's "digest queued" flag goes first."""
    project_id = split_key(key)[0]
    if claims.digests_inline():
        # every accepted event runs this job in its own request, under the writer lock. The first request in takes
        # every pending event along; the others, their event digested meanwhile, return at once instead of each
        # starting a batch of the few events that came in since
        return digest(key)
    claims.release_digest_claim(project_id)
    return digest(key) + digest_pending(project_id)  # `key` surely, whatever else is pending; then the rest


def digest_pending(project_id: int, time_budget: float | None = None) -> int:
    """Digest the project's pending raw events, oldest first, batch after batch, until none is left or the time
    budget is spent (then a digest is scheduled for the rest, so that other projects get their turn)."""
    budget = settings.DIGEST_TIME_BUDGET_SECONDS if time_budget is None else time_budget
    start = time.monotonic()
    total = 0
    handled: set[str] = set()  # a raw file goes when its transaction commits; inside an outer one it stays
    while True:
        keys = [key for key in store.pending_keys(project_id, limit=settings.DIGEST_BATCH_SIZE) if key not in handled]
        if not keys:
            return total
        handled.update(keys)
        total += digest_keys(project_id, keys)
        if time.monotonic() - start > budget:
            remaining = store.pending_keys(project_id, limit=1)
            if remaining:
                claims.schedule_digest(remaining[0])
            return total


def database_answers() -> bool:
    """Does the database answer a trivial query (reconnecting if the failure cost us the connection)? Inside an
    outer transaction (digest inline in a test) the connection cannot be replaced: then it is asked as it is."""
    try:
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()
            if connection.connection is not None and not connection.is_usable():
                connection.close()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True
    except Exception:
        if not connection.in_atomic_block:
            connection.close()
        return False


def digest_keys(project_id: int, keys: list[str]) -> int:
    try:
        policy = _scrub_policy(project_id)
    except Exception as error:  # one primary-key read: when it fails, the database does
        raise DatabaseUnavailable(str(error)) from error
    prepared = []
    lookup = SourceLookup(project_id)  # source maps read and parsed once for the whole batch
    step = raw_load_chunk()
    for start in range(0, len(keys), step):
        chunk = keys[start : start + step]
        raws = store.load_raw_events(chunk)
        # each raw event is let go once prepared: what the batch keeps is trimmed to MAX_EVENT_SIZE
        prepared += [p for p in (_prepare(key, raws.pop(key, None), policy, lookup) for key in chunk) if p is not None]
    if not prepared:
        return 0
    try:
        return _digest_retrying_contention(project_id, prepared)
    except Exception as error:
        if _not_the_events_fault(error):
            raise DatabaseUnavailable(str(error)) from error
        if len(prepared) > 1:
            logger.warning("digest of a batch of %d events failed; digesting them one by one", len(prepared))
            return sum(_digest_alone(project_id, p) for p in prepared)
        return _digest_alone(project_id, prepared[0], tried=1)


def raw_load_chunk() -> int:
    """How many raw events digest loads at a time: 8 with the default MAX_EVENT_TRIM_SIZE (32 MiB), a whole batch
    (one query on the database store) when MAX_EVENT_TRIM_SIZE is a few MiB."""
    return max(1, RAW_LOAD_BUDGET // max(settings.MAX_EVENT_TRIM_SIZE, settings.MAX_EVENT_SIZE, 1))


def _digest_alone(project_id: int, p: Prepared, tried: int = 0) -> int:
    """One event in its own transaction, tried up to DIGEST_EVENT_TRIES times in all; then quarantined."""
    while True:
        try:
            return _digest_retrying_contention(project_id, [p])
        except Exception as error:
            if _not_the_events_fault(error):
                raise DatabaseUnavailable(str(error)) from error
            tried += 1
            if tried >= DIGEST_EVENT_TRIES:
                logger.exception("digest of raw event %s failed %d times; moved to quarantine", p.key, tried)
                if isinstance(p, Prepared):  # kept scrubbed, as it would have been stored
                    store.replace_payload(p.key, p.data_json.encode())
                store.quarantine_raw_event(p.key, reason=f"digest failed {tried} times: {error!r}")
                return 0
            time.sleep(RETRY_PAUSE_SECONDS * tried)


def digest_event(key: str) -> Event | None:
    """Digest exactly one raw event (no batching); returns its Event, or None when it was not stored anew."""
    if digest_keys(split_key(key)[0], [key]) == 0:
        return None
    event_id = key.rpartition("-")[2]
    return Event.objects.filter(project_id=split_key(key)[0], event_id=event_id).first()


def _scrub_policy(project_id: int) -> ScrubPolicy:
    """The project's data scrubbing settings (events.scrub), read once per batch; a deleted project's events are
    not stored, so its defaults do."""
    project = Project.objects.only(*SCRUB_FIELDS).filter(pk=project_id).first()
    return policy_for(project) if project is not None else ScrubPolicy()


def _prepare(
    key: str, raw: store.RawEvent | None, policy: ScrubPolicy, lookup: SourceLookup
) -> Prepared | PreparedItems | None:
    if raw is None:
        return None  # digested meanwhile
    try:
        items = event_items.write_files(raw.project_id, raw.items)
        ingested_at = datetime.fromtimestamp(raw.received_at, UTC)
        streams = [
            item_streams.StreamItem(item.headers.get("type", ""), item.payload, ingested_at, item.headers)
            for item in raw.items
            if item_streams.stream_for(item.headers.get("type", ""))
        ]
        if not raw.payload:
            return PreparedItems(key=key, event_id=raw.event_id, ingested_at=ingested_at, items=items, streams=streams)
        remote_addr = sender_address(raw.remote_addr, policy.scrub_ip_addresses)
        data = normalize_event(
            loads_json(raw.payload), event_id=raw.event_id, received_at=raw.received_at, remote_addr=remote_addr
        )
        return _prepared_event(key, data, ingested_at, items, streams, policy, lookup)
    except Exception as error:
        logger.exception("raw event %s cannot be read; moved to the ingest store's quarantine", key)
        store.quarantine_raw_event(key, reason=f"cannot be read: {error!r}")
        return None


def _prepared_event(
    key: str, data: dict, ingested_at: datetime, items: list, streams: list, policy: ScrubPolicy, lookup: SourceLookup
) -> Prepared:
    """A normalized event, symbolicated, scrubbed, grouped, titled, tagged and trimmed: everything digest derives
    from it before touching the database."""
    legacy_key = _column(grouping_key(data, legacy=True))
    symbolicate(data, lookup)  # before grouping and titles: they are about the source people wrote
    scrub_event(data, policy)  # before anything is derived from the event or stored (grouping, title, tags)
    add_user_agent_contexts(data)  # after scrubbing: a User-Agent the project filters tells nothing
    grouping = _column(grouping_key(data))
    tags, not_indexed = capped_event_tags(data, settings.MAX_EVENT_TAGS)
    mark_not_indexed(data, not_indexed, settings.MAX_EVENT_TAGS)
    title = title_parts(data)
    timestamp = datetime.fromtimestamp(data["timestamp"], UTC)
    release = _column(data.get("release"), 250)
    # trimmed last: an oversized event groups, and is titled and tagged, as its untrimmed siblings are
    # normalize_event sanitized it, and nothing since adds a float or an integer (fit_event's fast path)
    stored, data_json = fit_event(data, settings.MAX_EVENT_SIZE, sanitized=True)
    return Prepared(
        key=key,
        data_json=data_json,
        # the columns the issue and the event take from the stored (trimmed) event
        event_id=stored["event_id"],
        level=stored["level"],
        platform=_column(stored["platform"], 64),
        culprit=_column(culprit(stored), 255),
        transaction=stored.get("transaction"),
        environment=_column(stored.get("environment"), 64),
        trace_id=trace_id_of(stored),
        ingested_at=ingested_at,
        timestamp=timestamp,
        release=release,
        grouping_key=grouping,
        grouping_key_hash=hash_key(grouping),
        legacy_key_hash=hash_key(legacy_key) if legacy_key != grouping else None,
        title=title,
        tags=tags,
        items=items,
        streams=streams,
    )


def _column(value, max_length: int | None = None) -> str:
    """A string fit for a text column: PostgreSQL refuses NUL characters, and columns have a maximum length."""
    text = (value or "").replace("\x00", "\ufffd")
    return text[:max_length] if max_length else text


def _count(kind: str, pk, persisted_count: int, load, when: datetime) -> PeriodCounter:
    """Increment the registry's counter for a project or issue; the caller persists it in this transaction."""
    counter = registry.get(kind, pk, persisted_count, load)
    counter.inc(when)
    # Right after the increment: should the transaction roll back, the persisted count stays behind this one, and
    # the next digest reloads the counter from the database.
    registry.counted(kind, pk, persisted_count + 1)
    return counter


def _persisted_counts(model, pk):
    return lambda: model.objects.values_list("period_counts", flat=True).get(pk=pk)


def _digest_batch(project_id: int, prepared: list[Prepared | PreparedItems]) -> int:
    with transaction.atomic():
        keys = [p.key for p in prepared]
        store.forget_digested(keys)
        project = Project.objects.defer("period_counts").filter(pk=project_id).first()
        if project is None:
            return 0  # the project was deleted: its raw events go with it
        for loose in (p for p in prepared if isinstance(p, PreparedItems)):
            event_items.save_items(project, loose.key, loose.event_id, loose.items, loose.ingested_at)
        # every raw record is read once (it is forgotten in this transaction), so its stream items are handed over
        # once, whether or not its event turns out to be a repeat
        item_streams.digest_stream_items(project, (item for p in prepared for item in p.streams))
        return _digest_events(project, [p for p in prepared if isinstance(p, Prepared)])


def digest_generated_events(project: Project, events: list[dict], received_at: datetime) -> int:
    """Events this server makes itself (a cron monitor's failure: monitors.checkins), grouped, counted, stored and
    alerted on exactly as an SDK's are, inside the caller's transaction. The caller must be the project's single
    writer (a stream's digest, or a single-writer job); `project` is the one it holds, kept up to date here. Each
    event needs an `event_id`; digesting one twice stores it once."""
    policy, lookup = policy_for(project), SourceLookup(project.pk)
    prepared = []
    for data in events:
        normalized = normalize_event(data, event_id=data["event_id"], received_at=received_at.timestamp())
        prepared.append(
            _prepared_event(f"generated-{data['event_id']}", normalized, received_at, [], [], policy, lookup)
        )
    with transaction.atomic():
        return _digest_events(project, prepared)


def _digest_events(project: Project, prepared: list[Prepared]) -> int:
    """The events of a batch (or generated ones) into issues, in arrival order; the caller holds the transaction."""
    # idempotence: drop events stored before (a re-delivered task) and repeats within the batch
    known = {
        uuid.hex
        for uuid in Event.objects.filter(project=project, event_id__in=[p.event_id for p in prepared]).values_list(
            "event_id", flat=True
        )
    }
    batch, seen = [], set()
    for p in prepared:
        if p.event_id not in known and p.event_id not in seen:
            seen.add(p.event_id)
            batch.append(p)
    if not batch:
        return 0

    turning_points: list[tuple[int | None, TurningPoint]] = []  # (index of the triggering event, unsaved)
    order = ReleaseOrder(project.pk)
    _record_releases(project, batch, turning_points, order)
    groupings = {
        g.grouping_key_hash: g
        for g in Grouping.objects.select_related("issue")
        .defer("issue__period_counts")
        .filter(
            project=project,
            grouping_key_hash__in={p.grouping_key_hash for p in batch}
            | {p.legacy_key_hash for p in batch if p.legacy_key_hash},
        )
    }
    shared: dict[int, Issue] = {}  # one object per issue, however many keys lead to it: counters add up
    for g in groupings.values():
        g.issue = shared.setdefault(g.issue_id, g.issue)

    touched: dict = {}  # issue pk -> (issue, state changed); new issues are saved at creation
    events: list[Event] = []
    for index, p in enumerate(batch):
        project_counter = _count(
            "project",
            project.pk,
            project.digested_event_count + index,
            _persisted_counts(Project, project.pk),
            p.ingested_at,
        )
        grouping = _existing_grouping(project, groupings, p)
        deferred: list[TurningPoint] = []
        state_changed = False
        if grouping is None:
            issue = _create_issue(project, p)
            grouping = Grouping.objects.create(
                project=project, grouping_key=p.grouping_key, grouping_key_hash=p.grouping_key_hash, issue=issue
            )
            groupings[p.grouping_key_hash] = grouping
            IssueStateManager.first_seen(issue, when=p.ingested_at, defer=deferred)
            alert_on_commit("new_issue", issue)
        else:
            issue = grouping.issue
            issue.project = project
            counter = _count("issue", issue.pk, issue.event_count, _persisted_counts(Issue, issue.pk), p.ingested_at)
            issue.period_counts = counter.to_dict()
            # the issue's state as the events before this one left it decides (IssueStateManager.on_event)
            outcome = IssueStateManager.on_event(
                issue, counter, p.release, order, p.ingested_at, event_id=p.event_id, defer=deferred
            )
            issue.event_count += 1
            issue.last_seen = max(issue.last_seen, p.ingested_at)
            _seen_in_release(issue, p.release, order)
            if outcome is not None:
                alert_on_commit(outcome.alert, issue, **outcome.alert_context)
                state_changed = True
            previous = touched.get(issue.pk)
            touched[issue.pk] = (issue, state_changed or (previous is not None and previous[1]))
        turning_points += [(index, tp) for tp in deferred]
        events.append(_event(project, issue, grouping, p))

    _insert_events(events)
    for event, p in zip(events, batch, strict=True):
        event_items.save_items(project, p.key, p.event_id, p.items, p.ingested_at, event=event)
    event_items.link_pending(project, events)
    for index, turning_point in turning_points:
        if index is not None:
            turning_point.triggering_event = events[index]
    TurningPoint.objects.bulk_create([tp for _, tp in turning_points])
    index_tags(project.pk, [(event, p.tags) for event, p in zip(events, batch, strict=True)])
    for issue, state_changed in touched.values():
        issue.save(update_fields=COUNTER_FIELDS + (STATE_FIELDS if state_changed else []))
    Project.objects.filter(pk=project.pk).update(
        digested_event_count=F("digested_event_count") + len(batch), period_counts=project_counter.to_dict()
    )
    # retention: no query unless the project is over its max events (events.retention)
    digested = project.digested_event_count + len(batch)
    project.digested_event_count = digested  # a stream that generated events hands the same object on
    transaction.on_commit(lambda: evict_after_digest(project, digested))
    return len(batch)


def _insert_events(events: list[Event]) -> None:
    """Event.objects.bulk_create, but on PostgreSQL without Django's UNNEST form: that sends each column as one array,
    and psycopg writes a text array in Python, escaping every quote of each event's JSON through a regular expression
    (about 1.4 ms of CPU per 10 KB event, more than all the rest of digest). A data_json given as an expression makes
    Django write the plain multi-row VALUES form, whose text parameters libpq escapes."""
    if connection.vendor != "postgresql" or len(events) < 2:
        Event.objects.bulk_create(events)
        return
    texts = [event.data_json for event in events]
    for event, text in zip(events, texts, strict=True):
        event.data_json = Value(text, output_field=TextField())
    try:
        Event.objects.bulk_create(events)
    finally:
        for event, text in zip(events, texts, strict=True):
            event.data_json = text


def _existing_grouping(project: Project, groupings: dict, p: Prepared) -> Grouping | None:
    """The grouping the event joins: under its legacy key first (the issue that events like it went to before the
    key changed), then under its key. Found under the legacy key only, the key is added for the same issue, so
    that events made the new way alone (a new build) find it too."""
    legacy = groupings.get(p.legacy_key_hash) if p.legacy_key_hash else None
    current = groupings.get(p.grouping_key_hash)
    if legacy is None:
        return current
    if current is None:
        current = Grouping.objects.create(
            project=project, grouping_key=p.grouping_key, grouping_key_hash=p.grouping_key_hash, issue=legacy.issue
        )
        groupings[p.grouping_key_hash] = current
        return current
    return legacy


def _record_releases(project: Project, batch: list[Prepared], turning_points: list, order: ReleaseOrder) -> None:
    """Create the Release rows the batch brings, in arrival order; a new release that is the project's latest
    materializes "resolved in the next release". A few queries per new release, whatever the number of releases."""
    wanted = list(dict.fromkeys(p.release for p in batch if p.release))
    if not wanted:
        return
    order.learn(wanted)
    for p in batch:
        if not p.release or order.knows(p.release):
            continue
        release = Release.objects.create(project=project, version=p.release, date_released=p.ingested_at)
        order.added(release)
        if latest_version(project) == release.version:
            deferred: list[TurningPoint] = []
            resolve_waiting_for_next_release(project, p.release, when=p.ingested_at, defer=deferred)
            turning_points += [(None, tp) for tp in deferred]


def _seen_in_release(issue: Issue, release: str, order: ReleaseOrder) -> None:
    """Keep the issue's first release, and its last one: the newest in the project's order it was seen in."""
    if not release:
        return
    if not issue.first_release:
        issue.first_release = release
    if issue.last_release != release and (not issue.last_release or order.is_at_or_after(release, issue.last_release)):
        issue.last_release = release


def _create_issue(project: Project, p: Prepared) -> Issue:
    Project.objects.filter(pk=project.pk).update(issue_counter=F("issue_counter") + 1)
    number = Project.objects.values_list("issue_counter", flat=True).get(pk=project.pk)
    calculated_type, calculated_value = p.title
    issue = Issue(
        project=project,
        number=number,
        calculated_type=_column(calculated_type, 255),
        calculated_value=_column(calculated_value, MAX_TITLE_CHARS),
        culprit=p.culprit,
        transaction=_column(p.transaction, 255),
        level=p.level,
        platform=p.platform,
        first_seen=p.ingested_at,
        last_seen=p.ingested_at,
        event_count=1,
        first_release=p.release,
        last_release=p.release,
    )
    issue.period_counts = _count("issue", issue.pk, 0, dict, p.ingested_at).to_dict()  # a new issue starts at zero
    issue.save(force_insert=True)
    return issue


def _event(project: Project, issue: Issue, grouping: Grouping, p: Prepared) -> Event:
    calculated_type, calculated_value = p.title
    return Event(
        project=project,
        issue=issue,
        grouping=grouping,
        event_id=p.event_id,
        timestamp=p.timestamp,
        ingested_at=p.ingested_at,
        digested_at=timezone.now(),
        digest_order=issue.event_count,
        data_json=p.data_json,
        calculated_type=_column(calculated_type, 255),
        calculated_value=_column(calculated_value, MAX_TITLE_CHARS),
        level=p.level,
        platform=p.platform,
        release=p.release,
        environment=p.environment,
        transaction=_column(p.transaction, 200),
        trace_id=p.trace_id,
    )
