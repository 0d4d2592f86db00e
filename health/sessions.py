"""Release health from `session` and `sessions` items: digest's stream (ingest.item_streams) for them.

A single session (`session` item) is reported on several updates that share its `sid`: the first carries
`init: true`; `status` goes from "ok" to how it ended ("exited", "crashed", "abnormal"; "errored" from some SDKs) and
`errors` counts its errors. An aggregate (`sessions` item, what server SDKs send per request) says how many sessions
that started in a minute ended exited, errored, crashed or abnormal. Both are folded into the SessionBucket of the
hour the sessions started, for their release and environment (see health.models for what each column counts).

Bounds: a call's updates are summed in memory per bucket, then one statement per bucket touched; a project has at
most HEALTH_MAX_SERIES_PER_HOUR release × environment buckets per hour (sessions beyond are counted as not usable,
reason "too many releases"); sessions without a release, malformed ones and ones older than the retention are
counted as not usable too. Nothing here raises on a payload: it is the client's.
"""

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import Count

from health.discards import add_discards, clean
from health.distinct import DistinctCounter
from health.models import DiscardCount, SessionBucket
from releases.actions import ensure_release
from releases.models import Release

MAX_AGGREGATES_PER_ITEM = 1000
MAX_COUNT = 10**9  # one aggregate's count of sessions: more is a lie, and would overflow nothing but our patience
ERRORED_STATUSES = ("errored", "crashed", "abnormal")
FUTURE_SLACK = timedelta(days=1)  # a session started later than this after it reached us: its clock is off


@dataclass
class Delta:
    """What a call adds to one bucket."""

    started: int = 0
    errored: int = 0
    crashed: int = 0
    abnormal: int = 0
    errored_sessions: DistinctCounter = field(default_factory=DistinctCounter)
    crashed_sessions: DistinctCounter = field(default_factory=DistinctCounter)
    abnormal_sessions: DistinctCounter = field(default_factory=DistinctCounter)
    users: DistinctCounter = field(default_factory=DistinctCounter)
    crashed_users: DistinctCounter = field(default_factory=DistinctCounter)


class Unusable(Exception):
    pass


def parse_time(value, default: datetime) -> datetime:
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
        if isinstance(value, str) and len(value) <= 64:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        pass
    return default


def _count(value) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return min(value, MAX_COUNT)
    return 0


def _text(value, limit: int) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    return value[:limit]


class SessionFolder:
    """Sums a call's session items per (hour, release, environment)."""

    def __init__(self, oldest: datetime):
        self.oldest = oldest
        self.deltas: dict[tuple[datetime, str, str], Delta] = {}
        self.unusable: Counter = Counter()  # (day, reason) -> sessions (or updates)

    def _delta(self, attrs, started: datetime, ingested_at: datetime) -> Delta:
        if not isinstance(attrs, dict):
            raise Unusable("no release")
        release = _text(attrs.get("release"), 250)
        if not release or not release.strip():
            raise Unusable("no release")
        environment = _text(attrs.get("environment"), 64) or ""
        if started > ingested_at + FUTURE_SLACK:
            started = ingested_at
        if started < self.oldest:
            raise Unusable("too old")
        hour = started.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        return self.deltas.setdefault((hour, release, environment), Delta())

    def add_item(self, item_type: str, payload: bytes, ingested_at: datetime) -> None:
        day = ingested_at.astimezone(UTC).date()
        try:
            data = json.loads(payload)
        except (ValueError, RecursionError):
            self.unusable[(day, "invalid")] += 1
            return
        if not isinstance(data, dict):
            self.unusable[(day, "invalid")] += 1
            return
        try:
            if item_type == "sessions":
                self._add_aggregates(data, ingested_at, day)
            else:
                self._add_session(data, ingested_at)
        except Unusable as reason:
            self.unusable[(day, str(reason))] += 1

    def _add_session(self, data: dict, ingested_at: datetime) -> None:
        started = parse_time(data.get("started"), parse_time(data.get("timestamp"), ingested_at))
        delta = self._delta(data.get("attrs"), started, ingested_at)
        sid = _text(data.get("sid"), 100)
        did = _text(data.get("did"), 200)
        status = data.get("status") if isinstance(data.get("status"), str) else "ok"
        if data.get("init") is True:
            delta.started += 1
            if did:
                delta.users.add(did)
        errored = status in ERRORED_STATUSES or _count(data.get("errors")) > 0
        if sid:
            if errored:
                delta.errored_sessions.add(sid)
            if status == "crashed":
                delta.crashed_sessions.add(sid)
            if status == "abnormal":
                delta.abnormal_sessions.add(sid)
        elif status in ERRORED_STATUSES or (errored and status == "exited"):
            # no id to tell its updates apart: counted on its final update only
            delta.errored += 1
            delta.crashed += status == "crashed"
            delta.abnormal += status == "abnormal"
        if status == "crashed" and did:
            delta.crashed_users.add(did)

    def _add_aggregates(self, data: dict, ingested_at: datetime, day) -> None:
        aggregates = data.get("aggregates")
        if not isinstance(aggregates, list):
            raise Unusable("invalid")
        attrs = data.get("attrs")
        for entry in aggregates[:MAX_AGGREGATES_PER_ITEM]:
            if not isinstance(entry, dict):
                self.unusable[(day, "invalid")] += 1
                continue
            exited, errored = _count(entry.get("exited")), _count(entry.get("errored"))
            crashed, abnormal = _count(entry.get("crashed")), _count(entry.get("abnormal"))
            total = exited + errored + crashed + abnormal
            try:
                delta = self._delta(attrs, parse_time(entry.get("started"), ingested_at), ingested_at)
            except Unusable as reason:
                self.unusable[(day, str(reason))] += max(total, 1)
                continue
            delta.started += total
            delta.errored += errored + crashed + abnormal
            delta.crashed += crashed
            delta.abnormal += abnormal
            did = _text(entry.get("did"), 200)
            if did and total:
                delta.users.add(did)
                if crashed:
                    delta.crashed_users.add(did)
        if len(aggregates) > MAX_AGGREGATES_PER_ITEM:
            self.unusable[(day, f"more than {MAX_AGGREGATES_PER_ITEM} aggregates in one item")] += 1


SKETCHES = ("errored_sessions", "crashed_sessions", "abnormal_sessions", "users", "crashed_users")
# a sketch's count adds to this column: a session counted in a sketch is not in the aggregates' counts
SKETCH_COUNTS = {"errored_sessions": "errored", "crashed_sessions": "crashed", "abnormal_sessions": "abnormal"}


def write_buckets(project, deltas: dict[tuple[datetime, str, str], Delta], unusable: Counter) -> None:
    """Fold the deltas into the project's buckets: one read of the touched buckets, then one statement per bucket."""
    if not deltas:
        return
    hours = {hour for hour, _, _ in deltas}
    series = Counter(
        dict(
            SessionBucket.objects.filter(project=project, hour__in=hours)
            .values_list("hour")
            .annotate(n=Count("id"))
            .order_by()
        )
    )
    existing = {
        (row.hour, row.release, row.environment): row
        for row in SessionBucket.objects.filter(
            project=project,
            hour__in=hours,
            release__in={release for _, release, _ in deltas},
            environment__in={environment for _, _, environment in deltas},
        )
    }
    limit = settings.HEALTH_MAX_SERIES_PER_HOUR
    new = []
    for key, delta in deltas.items():
        row = existing.get(key)
        if row is None:
            if series[key[0]] >= limit:
                unusable[(key[0].date(), "too many releases")] += delta.started or 1
                continue
            series[key[0]] += 1
            row = SessionBucket(project=project, hour=key[0], release=key[1], environment=key[2])
        changes = {
            "started": row.started + delta.started,
            "errored": row.errored + delta.errored,
            "crashed": row.crashed + delta.crashed,
            "abnormal": row.abnormal + delta.abnormal,
        }
        for name in SKETCHES:
            sketch = DistinctCounter.load(getattr(row, name))
            before = sketch.count()
            sketch.merge(getattr(delta, name))
            changes[name] = sketch.dump()
            if name in SKETCH_COUNTS:
                changes[SKETCH_COUNTS[name]] += sketch.count() - before
        if row.pk is None:
            for name, value in changes.items():
                setattr(row, name, value)
            new.append(row)
        else:
            SessionBucket.objects.filter(pk=row.pk).update(**changes)
    SessionBucket.objects.bulk_create(new)


def digest_sessions(project, items) -> None:
    """The stream's digest: every `session` and `sessions` item of a batch, in arrival order."""
    now = max((item.ingested_at for item in items), default=datetime.now(UTC))
    days = settings.HEALTH_RETENTION_DAYS  # 0: no age limit
    folder = SessionFolder(oldest=now - timedelta(days=days) if days else datetime.min.replace(tzinfo=UTC))
    for item in items:
        if item.headers.get("dropped"):
            folder.unusable[(item.ingested_at.astimezone(UTC).date(), "too large")] += 1
            continue
        folder.add_item(item.item_type, item.payload, item.ingested_at)
    write_buckets(project, folder.deltas, folder.unusable)
    add_discards(
        project,
        Counter(
            {
                (day, DiscardCount.UNUSABLE, "session", clean(reason, 64)): n
                for (day, reason), n in folder.unusable.items()
            }
        ),
    )
    ensure_releases(project, {release for _, release, _ in folder.deltas})


def ensure_releases(project, versions: set[str]) -> None:
    """A release that sessions name is a release of the project, as one an event names (releases.actions)."""
    known = set(Release.objects.filter(project=project, version__in=versions).values_list("version", flat=True))
    for version in sorted(versions - known):
        ensure_release(project, version)
