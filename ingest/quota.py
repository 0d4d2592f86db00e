"""Event quotas: how many events a project, and the installation as a whole, may send per UTC minute and hour.

Windows are fixed: the current minute (or hour) of the UTC clock, so a window ends at the next whole minute (hour)
and `Retry-After` says how far away that is. Limits come from the settings QUOTA_EVENTS_PER_MINUTE/_HOUR (per
project; a project's own `quota_events_per_minute`/`_hour` override them, null = the setting) and
QUOTA_INSTALLATION_EVENTS_PER_MINUTE/_HOUR (all projects together); 0 means unlimited.

The ingest view asks twice:
- `check(project)` before it reads the body (or, when the key is only in the envelope's `dsn` header, right after
  that line): a read of the counters, no write anywhere. Over a limit: `QuotaExceeded` (a 429), the body unread.
- `consume(project)` once it holds an event it is about to accept: counts it in every window, or, if that would
  go over a limit, counts nothing and raises `QuotaExceeded`. So only events that are accepted are counted (an
  envelope without an event, or a refused request, is not); `release()` undoes a consume whose accept failed.

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

MINUTE, HOUR = 60, 3600
PERIOD_NAMES = {MINUTE: "minute", HOUR: "hour"}
# What the 429 tells SDKs to stop sending: the categories of events (Sentry's names for them).
CATEGORIES = "error;default;security"
REASON = "quota_exceeded"

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
    subject: str  # whose events are counted: "project:42" or "installation"
    period: int  # MINUTE or HOUR
    limit: int

    def key(self, now: float) -> str:
        return f"{self.subject}:{self.period}:{window_start(now, self.period)}"

    def describe(self) -> str:
        who = self.subject.replace(":", " ") if self.scope == "project" else "this installation (all projects)"
        events = "event" if self.limit == 1 else "events"
        return f"{who} accepts at most {self.limit} {events} per {PERIOD_NAMES.get(self.period, f'{self.period} s')}"


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
    """A 429 with the headers SDKs back off on: Retry-After and X-Sentry-Rate-Limits (one entry per scope)."""

    status = 429

    def __init__(self, exceeded: list[Limit], now: float):
        self.exceeded = exceeded
        self.now = now
        retry = {}  # scope -> seconds: the longest window of that scope that is full
        for limit in exceeded:
            retry[limit.scope] = max(retry.get(limit.scope, 0), seconds_left(now, limit.period))
        self.retry_after = max(retry.values())
        self.rate_limits = ", ".join(f"{seconds}:{CATEGORIES}:{scope}:{REASON}" for scope, seconds in retry.items())
        reasons = "; ".join(limit.describe() for limit in exceeded)
        super().__init__(f"event quota exceeded: {reasons}; retry in {self.retry_after} s")

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

    def add(self, limits: list[Limit], now: float) -> list[Limit]:
        with self._lock:
            if now >= self._next_prune:
                self._prune(now)
            keys = [limit.key(now) for limit in limits]
            over = [limit for limit, key in zip(limits, keys, strict=True) if self._counts.get(key, 0) >= limit.limit]
            if over:
                return over
            for limit, key in zip(limits, keys, strict=True):
                self._counts[key] = self._counts.get(key, 0) + 1
                self._ends[key] = window_start(now, limit.period) + limit.period
            return []

    def remove(self, limits: list[Limit], now: float) -> None:
        with self._lock:
            for limit in limits:
                key = limit.key(now)
                if self._counts.get(key, 0) > 0:
                    self._counts[key] -= 1

    def count(self, limit: Limit, now: float) -> int:
        with self._lock:
            return self._counts.get(limit.key(now), 0)

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

    def add(self, limits: list[Limit], now: float) -> list[Limit]:
        if self._is_down():
            return []
        try:
            counts = self._change(limits, now, +1)
        except self._errors as e:
            self._went_down(e)
            return []
        self._is_up()
        over = [limit for limit, count in zip(limits, counts, strict=True) if count > limit.limit]
        if over:
            # Lost a race for the last place in a window: take this event's counts back (it is refused).
            self.remove(limits, now)
        return over

    def remove(self, limits: list[Limit], now: float) -> None:
        if self._is_down():
            return
        try:
            self._change(limits, now, -1)
        except self._errors as e:
            self._went_down(e)

    def count(self, limit: Limit, now: float) -> int:
        return int(self.client.get(self._keys([limit], now)[0]) or 0)

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


def check(project) -> None:
    """Raise QuotaExceeded when one of the project's windows is already full; reads counters, writes nothing."""
    limits = project_limits(project)
    if not limits:
        return
    now = clock()
    over = counter().over(limits, now)
    if over:
        _refuse(over, now)


def consume(project) -> Consumed:
    """Count one event of `project`, or raise QuotaExceeded (and count nothing) when that would exceed a limit."""
    limits = project_limits(project)
    now = clock()
    if limits:
        over = counter().add(limits, now)
        if over:
            _refuse(over, now)
    return Consumed(limits, now)


def release(consumed: Consumed) -> None:
    """Take back a consume() whose event was not accepted after all."""
    if consumed.limits:
        counter().remove(consumed.limits, consumed.now)


# One warning per full window (per process), not one log line per refused request of a flood.
_logged: dict[str, float] = {}
_logged_lock = threading.Lock()


def _refuse(over: list[Limit], now: float):
    error = QuotaExceeded(over, now)
    with _logged_lock:
        for key in [key for key, end in _logged.items() if end <= now]:
            del _logged[key]
        fresh = [limit for limit in over if limit.key(now) not in _logged]
        for limit in fresh:
            _logged[limit.key(now)] = window_start(now, limit.period) + limit.period
    if fresh:
        logger.warning("%s", error.detail)
    raise error
