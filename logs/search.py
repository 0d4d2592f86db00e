"""The Logs page's search: `level:error`, `trace:<id>`, `key:value` (an attribute, exactly) and free text (words or
"quoted phrases" the message must contain), all of them together; a time range; newest first, by keyset.

Attributes are stored as one JSON object of text per entry (LogEntry.attributes_json, json.dumps' `"key": value`
form), so `key:value` is found as the fragment `"key": "value"` (or `"key": 5`, `"key": true` for a value that
reads as a number or boolean). A quote inside a stored key or value is escaped (`\\"`), so a fragment never matches
across two attributes or inside another one's value.
"""

import json
import shlex
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from django.db.models import Q
from django.urls import reverse

from digest.normalize import trace_id
from events.safe import safe_int
from logs.digest import LEVEL_ALIASES, LEVELS
from logs.models import LogEntry

MAX_TERMS = 20
MAX_QUERY_CHARS = 1000
RANGES = {
    "15m": ("Last 15 minutes", 15),
    "1h": ("Last hour", 60),
    "24h": ("Last 24 hours", 1440),
    "7d": ("Last 7 days", 7 * 1440),
    "30d": ("Last 30 days", 30 * 1440),
    "all": ("Any time", None),
}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class LogQuery:
    levels: list[str] = field(default_factory=list)
    trace: str = ""
    attributes: list[tuple[str, str]] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)  # terms that could not be read, to say so on the page


def _terms(text: str) -> list[str]:
    text = text[:MAX_QUERY_CHARS]
    try:
        return shlex.split(text)[:MAX_TERMS]
    except ValueError:  # an unbalanced quote: words as they are
        return text.split()[:MAX_TERMS]


def parse_query(text: str) -> LogQuery:
    query = LogQuery()
    for term in _terms(text):
        key, sep, value = term.partition(":")
        if not sep or not key or not value or " " in key:
            query.words.append(term)
        elif key == "level":
            level = LEVEL_ALIASES.get(value.lower(), value.lower())
            (query.levels if level in LEVELS else query.invalid).append(level if level in LEVELS else term)
        elif key == "trace":
            if trace_id(value):
                query.trace = trace_id(value)
            else:
                query.invalid.append(term)
        else:
            query.attributes.append((key, value))
    return query


def _attribute_fragments(key: str, value: str) -> list[str]:
    k = json.dumps(key, ensure_ascii=False)
    values = [json.dumps(value, ensure_ascii=False)]
    number = safe_int(value)
    if number is not None:
        values.append(str(number))
    if value.lower() in ("true", "false"):
        values.append(value.lower())
    try:
        as_float = float(value)
        if as_float == as_float and abs(as_float) != float("inf"):
            values.append(json.dumps(as_float))
    except ValueError:
        pass
    return [f"{k}: {v}" for v in dict.fromkeys(values)]


def filter_logs(queryset, query: LogQuery):
    if query.levels:
        queryset = queryset.filter(level__in=query.levels)
    if query.trace:
        queryset = queryset.filter(trace_id=query.trace)
    for key, value in query.attributes:
        matches = Q()
        for fragment in _attribute_fragments(key, value):
            # the fragment ends a value: followed by a comma or the object's end
            matches |= Q(attributes_json__contains=fragment + ",") | Q(attributes_json__endswith=fragment + "}")
        queryset = queryset.filter(matches)
    for word in query.words:
        queryset = queryset.filter(body__icontains=word)
    return queryset


def time_range(name: str, now: datetime) -> datetime | None:
    """The start of the named range (RANGES), or None for any time."""
    minutes = RANGES.get(name, RANGES["all"])[1]
    return now - timedelta(minutes=minutes) if minutes else None


@dataclass(frozen=True)
class LogCursor:
    """A position in the newest-first list: (timestamp, id) of the last row shown, as `<microseconds>.<id>`."""

    timestamp: datetime
    pk: int

    def encode(self) -> str:
        return f"{(self.timestamp - EPOCH) // timedelta(microseconds=1)}.{self.pk}"

    @classmethod
    def decode(cls, text: str) -> "LogCursor | None":
        micros, _, pk = (text or "").partition(".")
        micros_value = safe_int(micros, minimum=0, maximum=2**62)
        pk_value = safe_int(pk, minimum=0, maximum=2**62)
        if micros_value is None or pk_value is None:
            return None
        try:
            return cls(EPOCH + timedelta(microseconds=micros_value), pk_value)
        except OverflowError:
            return None

    def older(self) -> Q:
        return Q(timestamp__lte=self.timestamp) & (Q(timestamp__lt=self.timestamp) | Q(id__lt=self.pk))


TRACE_COUNT_LIMIT = 1000


def trace_logs(project_id: int, trace: str) -> dict | None:
    """How many log entries share this trace (counted up to TRACE_COUNT_LIMIT, then "1000+") and the Logs page that
    lists them; None when there are none, or no trace."""
    if not trace:
        return None
    # COUNT(*) over a LIMITed subquery: a trace of a million logs costs what one of a thousand does
    count = LogEntry.objects.filter(project_id=project_id, trace_id=trace)[: TRACE_COUNT_LIMIT + 1].count()
    if not count:
        return None
    label = f"{TRACE_COUNT_LIMIT}+" if count > TRACE_COUNT_LIMIT else str(count)
    query = urlencode({"q": f"trace:{trace}", "range": "all"})
    return {"count": label, "n": count, "url": reverse("logs:project", args=[project_id]) + "?" + query}
