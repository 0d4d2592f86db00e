"""Digest of structured logs: the `log` envelope items (Sentry's `application/vnd.sentry.items.log+json`, a payload
`{"items": [{timestamp, trace_id, level, body, attributes: {key: {value, type}}, severity_number}, ...]}`; early SDKs
sent one log per item, without the `items` list) become LogEntry rows.

Runs inside digest's batch transaction, the project's single writer (ingest.item_streams). The payload is the
client's: anything that is not a log is counted as dropped with its reason, never raised. The work is bounded per
call: at most MAX_LOGS_PER_ITEM logs per item (the stream also caps an item's size and the items per envelope),
MAX_ATTRIBUTES attributes per log and their sizes, and a quota per project and UTC minute (LOGS_QUOTA_PER_MINUTE,
counted in the project's LogStats row; past it, logs are counted and dropped). The writes are one bulk insert, one
update of the stats row and, when the project is over LOGS_RETENTION_MAX_ITEMS, one bounded delete of its oldest.

A log is scrubbed as the project's events are (events.scrub, its policy) before it is stored: its body and
attribute values (a logging call's parameters hold what an application logs, card numbers and tokens included);
its template as code, as events' source lines are (card numbers and URL passwords only); its release and
environment are its bookkeeping, kept as an event's are.
"""

import json
from datetime import UTC, datetime

from django.conf import settings
from django.db.models import F

from digest.normalize import trace_id
from events.safe import clean_str, loads_json, safe_int, safe_timestamp
from events.scrub import ScrubPolicy, policy_for, scrub_event
from ingest.item_streams import Stream, StreamItem
from logs.models import LogEntry, LogStats
from logs.retention import evict_over_count

MAX_LOG_ITEM_SIZE = 1024 * 1024  # one `log` envelope item (of up to MAX_LOGS_PER_ITEM logs)
MAX_LOGS_PER_ITEM = 1000
MAX_BODY_CHARS = 16 * 1024
MAX_ATTRIBUTES = 64  # per log; the SDK's own come first
MAX_ATTRIBUTE_KEY_CHARS = 128
MAX_ATTRIBUTE_VALUE_CHARS = 2048

LEVELS = ("trace", "debug", "info", "warn", "error", "fatal")
LEVEL_ALIASES = {"warning": "warn", "critical": "fatal", "err": "error", "information": "info", "notice": "info"}

TEMPLATE_ATTRIBUTE = "sentry.message.template"
PARAMETER_PREFIX = "sentry.message.parameter."
UNSCRUBBED_ATTRIBUTES = ("sentry.release", "sentry.environment")


class Dropped(Exception):
    """One log (or item) that is not kept, and why."""


def _level(log: dict) -> str:
    for candidate in (log.get("level"), log.get("severity_text")):
        if isinstance(candidate, str):
            level = candidate.strip().lower()[:16]
            level = LEVEL_ALIASES.get(level, level)
            if level in LEVELS:
                return level
    number = safe_int(log.get("severity_number"), minimum=1, maximum=24)
    if number is not None:  # OpenTelemetry's ranges: 1-4 trace, 5-8 debug, ... 21-24 fatal
        return LEVELS[(number - 1) // 4]
    return "info"


def _attribute_value(value):
    """An attribute's plain value: Sentry's `{"value": v, "type": t}` or a bare scalar; None if not a scalar."""
    if isinstance(value, dict):
        value = value.get("value")
    if isinstance(value, str):
        return clean_str(value[:MAX_ATTRIBUTE_VALUE_CHARS])
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**63 else str(value)
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    return None


def _attributes(raw) -> dict:
    attributes = {}
    if not isinstance(raw, dict):
        return attributes
    for key, value in raw.items():
        if len(attributes) >= MAX_ATTRIBUTES:
            break
        key = clean_str(str(key)[:MAX_ATTRIBUTE_KEY_CHARS]).strip()
        value = _attribute_value(value)
        if key and value is not None:
            attributes[key] = value
    return attributes


def _timestamp(log: dict, received_at: datetime) -> datetime:
    seconds = safe_timestamp(log.get("timestamp"))
    if seconds is None:
        nanos = safe_int(log.get("time_unix_nano"), minimum=0)
        seconds = safe_timestamp(nanos / 1e9) if nanos else None
    return datetime.fromtimestamp(seconds, UTC) if seconds is not None else received_at


def _scrubbed(body: str, attributes: dict, policy: ScrubPolicy) -> tuple[str, dict]:
    """The body and the attributes (in their order) with their secrets filtered as the project's events are."""
    values = {key: value for key, value in attributes.items() if key not in UNSCRUBBED_ATTRIBUTES}
    # the template is code: filtered as an event's source line is (card numbers and URL passwords only)
    code = {"context_line": values.pop(TEMPLATE_ATTRIBUTE, None)}
    body = scrub_event({"body": body, "attributes": values, "code": code}, policy)["body"]
    values[TEMPLATE_ATTRIBUTE] = code["context_line"]
    return body, {key: values.get(key, value) for key, value in attributes.items()}


def log_entry(project, log, received_at: datetime, policy: ScrubPolicy) -> LogEntry:
    """The LogEntry for one log of a payload, scrubbed as `policy` (the project's) says; raises Dropped for what
    is not a log."""
    if not isinstance(log, dict):
        raise Dropped("a log that is not a JSON object")
    body = log.get("body")
    if not isinstance(body, str):
        body = log.get("message") if isinstance(log.get("message"), str) else None
    if body is None:
        raise Dropped("a log without a body")
    attributes = _attributes(log.get("attributes"))
    body, attributes = _scrubbed(body[:MAX_BODY_CHARS], attributes, policy)
    template = attributes.get(TEMPLATE_ATTRIBUTE)
    severity = safe_int(log.get("severity_number"), minimum=0, maximum=255)
    release = attributes.get("sentry.release")
    environment = attributes.get("sentry.environment")
    return LogEntry(
        project=project,
        timestamp=_timestamp(log, received_at),
        received_at=received_at,
        level=_level(log),
        severity_number=severity,
        body=clean_str(body),
        template=template[:MAX_BODY_CHARS] if isinstance(template, str) else "",
        trace_id=trace_id(log.get("trace_id")),
        release=release[:250] if isinstance(release, str) else "",
        environment=environment[:64] if isinstance(environment, str) else "",
        attributes_json=json.dumps(attributes, ensure_ascii=False),
    )


def logs_of_item(item: StreamItem) -> list:
    """The logs an item carries (at most MAX_LOGS_PER_ITEM); raises Dropped for a payload that holds none."""
    if item.headers.get("dropped"):
        raise Dropped(str(item.headers["dropped"])[:200])
    try:
        payload = loads_json(item.payload)
    except (ValueError, RecursionError, UnicodeDecodeError):
        raise Dropped("a log item that is not JSON") from None
    if isinstance(payload, dict) and isinstance(payload.get("items"), list):
        return payload["items"]
    if isinstance(payload, dict):
        return [payload]  # one log per item (early SDKs)
    raise Dropped("a log item that is not a JSON object")


class _Quota:
    """LOGS_QUOTA_PER_MINUTE per project and UTC minute, counted in its LogStats row (read once per call)."""

    def __init__(self, stats: LogStats):
        self.limit = settings.LOGS_QUOTA_PER_MINUTE
        self.minute = stats.quota_minute
        self.count = stats.quota_count

    def take(self, when: datetime) -> bool:
        minute = when.replace(second=0, microsecond=0)
        if self.minute is None or minute > self.minute:
            self.minute, self.count = minute, 0
        elif minute < self.minute:
            minute = self.minute  # a late record counts in the current minute
        if self.limit and self.count >= self.limit:
            return False
        self.count += 1
        return True


def digest_logs(project, items: list[StreamItem]) -> int:
    """Store the logs of `items` (in arrival order) for `project`; returns how many were stored."""
    stats, _ = LogStats.objects.get_or_create(project=project)
    quota = _Quota(stats)
    policy = policy_for(project)
    entries: list[LogEntry] = []
    dropped = 0
    last_reason, last_drop_at = "", None

    def drop(reason: str, when: datetime, count: int = 1) -> None:
        nonlocal dropped, last_reason, last_drop_at
        dropped += count
        last_reason, last_drop_at = reason[:255], when

    for item in items:
        try:
            logs = logs_of_item(item)
        except Dropped as e:
            drop(str(e), item.ingested_at)
            continue
        if len(logs) > MAX_LOGS_PER_ITEM:
            drop(f"more than {MAX_LOGS_PER_ITEM} logs in one item", item.ingested_at, len(logs) - MAX_LOGS_PER_ITEM)
            logs = logs[:MAX_LOGS_PER_ITEM]
        for log in logs:
            if not quota.take(item.ingested_at):
                drop(f"over the quota of {quota.limit} logs per minute", item.ingested_at)
                continue
            try:
                entries.append(log_entry(project, log, item.ingested_at, policy))
            except Dropped as e:
                drop(str(e), item.ingested_at)

    LogEntry.objects.bulk_create(entries, batch_size=500)
    update = {
        "stored_count": F("stored_count") + len(entries),
        "quota_minute": quota.minute,
        "quota_count": quota.count,
    }
    if dropped:
        update.update(dropped_count=F("dropped_count") + dropped, last_drop_reason=last_reason)
        update["last_drop_at"] = last_drop_at
    LogStats.objects.filter(pk=stats.pk).update(**update)
    if entries:
        evict_over_count(project.pk, stats.stored_count + len(entries))
    return len(entries)


LOG_STREAM = Stream(item_types=("log",), max_item_size=MAX_LOG_ITEM_SIZE, digest=digest_logs, category="log_item")
