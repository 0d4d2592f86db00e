"""Quotas per data category: how many events a project, and the installation as a whole, may send per UTC minute and
hour; and, per project, how many session items, check-ins, logs and security reports.

Each category is counted and limited on its own (CATEGORIES): a project over its log quota still has its events,
sessions and check-ins accepted, and the 429 (or, for an envelope of which something else was accepted, the 200)
names only the full category in X-Sentry-Rate-Limits, so SDKs back off from that category alone.

Windows are fixed: the current minute (or hour) of the UTC clock, so a window ends at the next whole minute (hour)
and `Retry-After` says how far away that is. Limits come from the settings QUOTA_EVENTS_PER_MINUTE/_HOUR (per
project; a project's own `quota_events_per_minute`/`_hour` override them, null = the setting) and
QUOTA_INSTALLATION_EVENTS_PER_MINUTE/_HOUR (all projects together); 0 means unlimited.

The ingest view asks twice:
- `check(project, category)` before it reads the body of a request that can only hold that category (`/store/`:
  events; `/security/`: security reports): a read of the counters, no write anywhere. Over a limit: `QuotaExceeded`
  (a 429), the body unread. An envelope may hold any category, so it is read (within its size limits) first.
- `consume(project, category, amount)` once it holds items it is about to accept: counts them in every window, or,
  if that would go over a limit, counts nothing and raises `QuotaExceeded`. So only items that are accepted are
  counted; `release()` undoes a consume whose accept failed.

What a quota refused is counted too (`refused_counts`), per project, category and UTC day, in the same counter
store (no database write on a refusal), and shown on the project's pages.

Counters live in Redis when CELERY_BROKER_URL is a redis:// (rediss://) URL, so that every web process on every node
shares them (INCR + EXPIRE of all the request's keys in one pipeline); with no broker (the embedded single-process
mode) in this process's memory. If Redis cannot be reached, events are accepted uncounted (and that is logged):
the limiter being down must never lose events.
"""

import logging
import math
import threading
import time
from dataclasses import dataclass

from django.conf import settings

from ingest.errors import IngestError

logger = logging.getLogger(__name__)

MINUTE, HOUR, DAY = 60, 3600, 86400
PERIOD_NAMES = {MINUTE: "minute", HOUR: "hour"}
REASON = "quota_exceeded"

# Our quota categories, named as Sentry's data categories are (an envelope item's category: ingest.item_streams).
ERROR, SESSION, MONITOR, LOG_ITEM, SECURITY = "error", "session", "monitor", "log_item", "security"
# category -> what X-Sentry-Rate-Limits names when its quota is full (events are error and default to SDKs)
HEADER_CATEGORIES = {ERROR: "error;default", SESSION: "session", MONITOR: "monitor", LOG_ITEM: "log_item"}
HEADER_CATEGORIES[SECURITY] = "security"
NOUNS = {
    ERROR: ("event", "events"),
    SESSION: ("session item", "session items"),
    MONITOR: ("check-in", "check-ins"),
    LOG_ITEM: ("log", "logs"),
    SECURITY: ("security report", "security reports"),
}
# the per-project settings (per minute, per hour) of the categories other than events
STREAM_SETTINGS = {
    SESSION: ("QUOTA_SESSIONS_PER_MINUTE", "QUOTA_SESSIONS_PER_HOUR"),
    MONITOR: ("QUOTA_CHECK_INS_PER_MINUTE", "QUOTA_CHECK_INS_PER_HOUR"),
    LOG_ITEM: ("LOGS_QUOTA_PER_MINUTE", "QUOTA_LOGS_PER_HOUR"),
    SECURITY: ("QUOTA_SECURITY_REPORTS_PER_MINUTE", "QUOTA_SECURITY_REPORTS_PER_HOUR"),
}
CATEGORIES = (ERROR, *STREAM_SETTINGS)
REFUSED_DAYS = 7  # refusals are counted per UTC day and kept this many days

clock = time.time  # tests freeze it


def window_start(now: float, period: int) -> int:
    """The start (epoch seconds) of the fixed UTC window of `period` seconds that contains `now`."""
    return int(now // period) * period


def seconds_left(now: float, period: int) -> int:
    """Whole seconds until the window containing `now` ends, at least 1 (what Retry-After says)."""
    return max(1, math.ceil(window_start(now, period) + period - now))


@dataclass(frozen=True)
class Limit:
    scope: str  # the X-Sentry-Rate-Limits scope: "project" or "organization" (the installation)
    subject: str  # whose items are counted: "project:42" (events), "project:42:log_item", or "installation"
    period: int  # MINUTE or HOUR
    limit: int
    category: str = ERROR

    def key(self, now: float) -> str:
        return f"{self.subject}:{self.period}:{window_start(now, self.period)}"

    def describe(self) -> str:
        if self.scope == "project":
            who = " ".join(self.subject.split(":")[:2])
        else:
            who = "this installation (all projects)"
        one, many = NOUNS[self.category]
        items = one if self.limit == 1 else many
        return f"{who} accepts at most {self.limit} {items} per {PERIOD_NAMES.get(self.period, f'{self.period} s')}"


def limits_for(project, category: str = ERROR) -> list[Limit]:
    """The limits on `project`'s items of `category`; an empty list when all of them are 0 (unlimited)."""
    if category == ERROR:
        return project_limits(project)
    if category not in STREAM_SETTINGS:
        return []
    limits = []
    for period, name in zip((MINUTE, HOUR), STREAM_SETTINGS[category], strict=True):
        limit = getattr(settings, name, 0)
        if limit and limit > 0:
            limits.append(Limit("project", f"project:{project.pk}:{category}", period, limit, category))
    return limits


def project_limits(project) -> list[Limit]:
    """The limits that apply to `project`'s events; an empty list when all of them are 0 (unlimited)."""
    own = {MINUTE: project.quota_events_per_minute, HOUR: project.quota_events_per_hour}
    default = {MINUTE: settings.QUOTA_EVENTS_PER_MINUTE, HOUR: settings.QUOTA_EVENTS_PER_HOUR}
    installation = {
        MINUTE: settings.QUOTA_INSTALLATION_EVENTS_PER_MINUTE,
        HOUR: settings.QUOTA_INSTALLATION_EVENTS_PER_HOUR,
    }
    limits = []
    for period in (MINUTE, HOUR):
        limit = own[period] if own[period] is not None else default[period]
        if limit and limit > 0:
            limits.append(Limit("project", f"project:{project.pk}", period, limit))
    for period in (MINUTE, HOUR):
        if installation[period] and installation[period] > 0:
            limits.append(Limit("organization", "installation", period, installation[period]))
    return limits


class QuotaExceeded(IngestError):
    """A 429 with the headers SDKs back off on: Retry-After and X-Sentry-Rate-Limits (one entry per scope and
    category). Several of them (an envelope with more than one full category) combine with `combine`."""

    status = 429

    def __init__(self, exceeded: list[Limit], now: float):
        self.exceeded = exceeded
        self.now = now
        retry = {}  # (scope, header categories) -> seconds: the longest full window of that scope and category
        for limit in exceeded:
            key = (limit.scope, HEADER_CATEGORIES[limit.category])
            retry[key] = max(retry.get(key, 0), seconds_left(now, limit.period))
        self.retry_after = max(retry.values())
        self.rate_limits = ", ".join(
            f"{seconds}:{categories}:{scope}:{REASON}" for (scope, categories), seconds in retry.items()
        )
        reasons = "; ".join(limit.describe() for limit in exceeded)
        what = NOUNS[exceeded[0].category][0]
        super().__init__(f"{what} quota exceeded: {reasons}; retry in {self.retry_after} s")

    @classmethod
    def combine(cls, errors: list["QuotaExceeded"]) -> "QuotaExceeded":
        if len(errors) == 1:
            return errors[0]
        combined = cls([limit for error in errors for limit in error.exceeded], errors[0].now)
        combined.detail = "; ".join(error.detail for error in errors)
        return combined

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after), "X-Sentry-Rate-Limits": self.rate_limits}


# --- counters -------------------------------------------------------------------------------------------------------


class InProcessCounter:
    """Counts in this process's memory (the embedded single-process mode); windows that have ended are dropped."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._ends: dict[str, float] = {}  # key -> end of its window
        self._next_prune = 0.0

    def over(self, limits: list[Limit], now: float) -> list[Limit]:
        with self._lock:
            return [limit for limit in limits if self._counts.get(limit.key(now), 0) >= limit.limit]

    def add(self, limits: list[Limit], now: float, amount: int = 1) -> list[Limit]:
        with self._lock:
            if now >= self._next_prune:
                self._prune(now)
            keys = [limit.key(now) for limit in limits]
            over = [
                limit
                for limit, key in zip(limits, keys, strict=True)
                if self._counts.get(key, 0) + amount > limit.limit
            ]
            if over:
                return over
            for limit, key in zip(limits, keys, strict=True):
                self._counts[key] = self._counts.get(key, 0) + amount
                self._ends[key] = window_start(now, limit.period) + limit.period
            return []

    def remove(self, limits: list[Limit], now: float, amount: int = 1) -> None:
        with self._lock:
            for limit in limits:
                key = limit.key(now)
                self._counts[key] = max(0, self._counts.get(key, 0) - amount)

    def count(self, limit: Limit, now: float) -> int:
        with self._lock:
            return self._counts.get(limit.key(now), 0)

    def add_refused(self, key: str, amount: int, expires: float) -> None:
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + amount
            self._ends[key] = expires

    def get_many(self, keys: list[str]) -> list[int]:
        with self._lock:
            return [self._counts.get(key, 0) for key in keys]

    def _prune(self, now: float) -> None:
        for key in [key for key, end in self._ends.items() if end <= now]:
            del self._ends[key]
            self._counts.pop(key, None)
        self._next_prune = window_start(now, MINUTE) + MINUTE


class RedisCounter:
    """Counts in Redis, shared by every process that uses the same Redis. Keys expire a minute after their window.

    Unreachable Redis: the operation counts as "not over" (the event is accepted), the outage is logged once, and
    Redis is left alone for RETRY_SECONDS before it is tried again, so a dead Redis costs ingest nothing."""

    PREFIX = "bugsink:quota:"
    TIMEOUT = 0.5  # seconds, connect and each command
    RETRY_SECONDS = 5.0

    def __init__(self, url: str):
        import redis

        self._errors = (redis.RedisError, OSError)
        self.client = redis.Redis.from_url(url, socket_connect_timeout=self.TIMEOUT, socket_timeout=self.TIMEOUT)
        self._down_until = 0.0  # monotonic
        self._down_lock = threading.Lock()

    def _keys(self, limits: list[Limit], now: float) -> list[str]:
        return [self.PREFIX + limit.key(now) for limit in limits]

    def _ttl(self, limit: Limit, now: float) -> int:
        return seconds_left(now, limit.period) + 60

    def over(self, limits: list[Limit], now: float) -> list[Limit]:
        if self._is_down():
            return []
        try:
            values = self.client.mget(self._keys(limits, now))
        except self._errors as e:
            self._went_down(e)
            return []
        self._is_up()
        return [limit for limit, value in zip(limits, values, strict=True) if int(value or 0) >= limit.limit]

    def add(self, limits: list[Limit], now: float, amount: int = 1) -> list[Limit]:
        if self._is_down():
            return []
        try:
            counts = self._change(limits, now, amount)
        except self._errors as e:
            self._went_down(e)
            return []
        self._is_up()
        over = [limit for limit, count in zip(limits, counts, strict=True) if count > limit.limit]
        if over:
            # Over a limit, or lost a race for the last places in a window: take these counts back (refused).
            self.remove(limits, now, amount)
        return over

    def remove(self, limits: list[Limit], now: float, amount: int = 1) -> None:
        if self._is_down():
            return
        try:
            self._change(limits, now, -amount)
        except self._errors as e:
            self._went_down(e)

    def count(self, limit: Limit, now: float) -> int:
        return int(self.client.get(self._keys([limit], now)[0]) or 0)

    def add_refused(self, key: str, amount: int, expires: float) -> None:
        if self._is_down():
            return
        try:
            pipe = self.client.pipeline(transaction=True)
            pipe.incrby(self.PREFIX + key, amount)
            pipe.expireat(self.PREFIX + key, int(expires))
            pipe.execute()
        except self._errors as e:
            self._went_down(e)

    def get_many(self, keys: list[str]) -> list[int]:
        if self._is_down():
            return [0] * len(keys)
        try:
            return [int(value or 0) for value in self.client.mget([self.PREFIX + key for key in keys])]
        except self._errors as e:
            self._went_down(e)
            return [0] * len(keys)

    def _change(self, limits: list[Limit], now: float, delta: int) -> list[int]:
        """INCRBY + EXPIRE of every key in one MULTI/EXEC pipeline (one round trip); the new counts."""
        pipe = self.client.pipeline(transaction=True)
        for limit, key in zip(limits, self._keys(limits, now), strict=True):
            pipe.incrby(key, delta)
            pipe.expire(key, self._ttl(limit, now))
        return pipe.execute()[0::2]

    def _is_down(self) -> bool:
        return self._down_until > time.monotonic()

    def _went_down(self, error: Exception) -> None:
        with self._down_lock:
            first = self._down_until == 0.0
            self._down_until = time.monotonic() + self.RETRY_SECONDS
        if first:
            logger.warning("quota counting is off: Redis is unreachable (%s); events are accepted uncounted", error)

    def _is_up(self) -> None:
        if self._down_until:
            with self._down_lock:
                if self._down_until:
                    self._down_until = 0.0
                    logger.warning("quota counting is back on: Redis is reachable again")


_counters: dict[str, object] = {}
_counters_lock = threading.Lock()


def redis_url() -> str:
    """The Redis the counters live in: the Celery broker's, when it is Redis; "" means count in-process."""
    url = settings.CELERY_BROKER_URL or ""
    return url if url.startswith(("redis://", "rediss://")) else ""


def counter() -> InProcessCounter | RedisCounter:
    url = redis_url()
    found = _counters.get(url)
    if found is None:
        with _counters_lock:
            found = _counters.get(url)
            if found is None:
                found = _counters[url] = RedisCounter(url) if url else InProcessCounter()
    return found


def reset() -> None:
    """Forget all counters of this process (tests)."""
    with _counters_lock:
        _counters.clear()
    with _logged_lock:
        _logged.clear()


# --- what the ingest view calls -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Consumed:
    limits: list[Limit]
    now: float
    amount: int = 1


def check(project, category: str = ERROR) -> None:
    """Raise QuotaExceeded when one of the project's windows of `category` is already full; reads counters only."""
    limits = limits_for(project, category)
    if not limits:
        return
    now = clock()
    over = counter().over(limits, now)
    if over:
        _refuse(project, over, now, 1)


def consume(project, category: str = ERROR, amount: int = 1) -> Consumed:
    """Count `amount` items of `category` of `project`, or raise QuotaExceeded (and count nothing) when that would
    exceed a limit."""
    limits = limits_for(project, category)
    now = clock()
    if limits and amount > 0:
        over = counter().add(limits, now, amount)
        if over:
            _refuse(project, over, now, amount)
    return Consumed(limits, now, amount)


def release(consumed: Consumed) -> None:
    """Take back a consume() whose items were not accepted after all."""
    if consumed.limits and consumed.amount > 0:
        counter().remove(consumed.limits, consumed.now, consumed.amount)


def _refused_key(project_id: int, category: str, day_start: int) -> str:
    return f"refused:project:{project_id}:{category}:{day_start}"


def count_refused(project_id: int, category: str, amount: int, now: float) -> None:
    """Count `amount` items of `category` a quota refused (per UTC day, kept REFUSED_DAYS days)."""
    day = window_start(now, DAY)
    counter().add_refused(_refused_key(project_id, category, day), amount, day + (REFUSED_DAYS + 1) * DAY)


def refused_counts(project_id: int) -> dict[str, int]:
    """Items refused by a quota in the last REFUSED_DAYS UTC days (today included), per category that had any."""
    today = window_start(clock(), DAY)
    keys = [
        (category, _refused_key(project_id, category, today - back * DAY))
        for category in CATEGORIES
        for back in range(REFUSED_DAYS)
    ]
    totals: dict[str, int] = {}
    for (category, _), value in zip(keys, counter().get_many([key for _, key in keys]), strict=True):
        if value:
            totals[category] = totals.get(category, 0) + value
    return totals


# One warning per full window (per process), not one log line per refused request of a flood.
_logged: dict[str, float] = {}
_logged_lock = threading.Lock()


def _refuse(project, over: list[Limit], now: float, amount: int):
    error = QuotaExceeded(over, now)
    count_refused(project.pk, over[0].category, amount, now)
    with _logged_lock:
        for key in [key for key, end in _logged.items() if end <= now]:
            del _logged[key]
        fresh = [limit for limit in over if limit.key(now) not in _logged]
        for limit in fresh:
            _logged[limit.key(now)] = window_start(now, limit.period) + limit.period
    if fresh:
        logger.warning("%s", error.detail)
    raise error
