"""The period-counter registry: one PeriodCounter per project and per issue, kept in the digest process.

The digest process is the single writer of a project's issues, so it can keep counters in memory between events.
The persisted copy (the `period_counts` column on Issue and Project, written in the same transaction as each
event) is the source of truth: a counter is loaded from it on first use after a start ("warm start": nothing is
replayed from the Event table, so counts survive restarts and the eviction of old events), and again whenever the
cached copy might be stale (another process digested in between, or a transaction rolled back).
"""

from collections import OrderedDict

from digest.period_counter import PeriodCounter

MAX_CACHED = 10_000


class PeriodCounterRegistry:
    def __init__(self, max_cached: int = MAX_CACHED):
        self.max_cached = max_cached
        # key -> (the persisted event count the cached counter corresponds to, counter)
        self._counters: OrderedDict[tuple[str, object], tuple[int, PeriodCounter]] = OrderedDict()

    def get(self, kind: str, pk, persisted_count: int, load) -> PeriodCounter:
        """The counter for (kind, pk); `persisted_count` is the event count the DB row has now, `load()` returns
        the persisted counts dict (called only on a miss or a stale entry)."""
        key = (kind, pk)
        entry = self._counters.get(key)
        if entry is not None and entry[0] == persisted_count:
            self._counters.move_to_end(key)
            return entry[1]
        counter = PeriodCounter.from_dict(load())
        self._counters[key] = (persisted_count, counter)
        if len(self._counters) > self.max_cached:
            self._counters.popitem(last=False)
        return counter

    def counted(self, kind: str, pk, new_persisted_count: int) -> None:
        """The counter for (kind, pk) now corresponds to `new_persisted_count` events (after an increment)."""
        key = (kind, pk)
        if key in self._counters:
            self._counters[key] = (new_persisted_count, self._counters[key][1])

    def clear(self) -> None:
        self._counters.clear()


# process-wide; only digest uses it
registry = PeriodCounterRegistry()
