"""Writing an event's tags (called by digest, inside its transaction): a bounded number of queries per event."""

from collections import OrderedDict

from django.db import transaction
from django.db.models import F, Q

from tags.models import EventTag, IssueTag, TagValue

MAX_CACHED_VALUES = 100_000


class TagValueCache:
    """(project_id, key, value) -> TagValue id, for the digest process (values repeat across events)."""

    def __init__(self):
        self._ids: OrderedDict[tuple, int] = OrderedDict()

    def ids_for(self, project_id: int, tags: dict[str, str]) -> list[int]:
        wanted = [(project_id, k, v) for k, v in tags.items()]
        found = {w: self._ids[w] for w in wanted if w in self._ids}
        missing = [w for w in wanted if w not in found]
        if missing:
            learned = self._load(project_id, missing)
            still_missing = [w for w in missing if w not in learned]
            if still_missing:
                TagValue.objects.bulk_create(
                    [TagValue(project_id=project_id, key=k, value=v) for _, k, v in still_missing],
                    ignore_conflicts=True,
                )
                learned.update(self._load(project_id, still_missing))
            found.update(learned)
            # Only what committed may be cached: ids seen inside a transaction that rolls back may not exist.
            transaction.on_commit(lambda: self._remember(learned))
        for w in found:
            if w in self._ids:
                self._ids.move_to_end(w)
        return [found[w] for w in wanted]

    def _remember(self, learned: dict) -> None:
        self._ids.update(learned)
        while len(self._ids) > MAX_CACHED_VALUES:
            self._ids.popitem(last=False)

    @staticmethod
    def _load(project_id: int, keys: list[tuple]) -> dict:
        condition = Q()
        for _, key, value in keys:
            condition |= Q(key=key, value=value)
        rows = TagValue.objects.filter(condition, project_id=project_id).values_list("pk", "key", "value")
        return {(project_id, key, value): pk for pk, key, value in rows}

    def clear(self) -> None:
        self._ids.clear()


tag_value_cache = TagValueCache()


def index_event_tags(event, tags: dict[str, str], new_issue: bool) -> None:
    if not tags:
        return
    value_ids = tag_value_cache.ids_for(event.project_id, tags)
    EventTag.objects.bulk_create([EventTag(event=event, issue_id=event.issue_id, value_id=v) for v in value_ids])
    if new_issue:
        IssueTag.objects.bulk_create([IssueTag(issue_id=event.issue_id, value_id=v, count=1) for v in value_ids])
        return
    existing = set(
        IssueTag.objects.filter(issue_id=event.issue_id, value_id__in=value_ids).values_list("value_id", flat=True)
    )
    if existing:
        IssueTag.objects.filter(issue_id=event.issue_id, value_id__in=existing).update(count=F("count") + 1)
    new = [v for v in value_ids if v not in existing]
    if new:
        IssueTag.objects.bulk_create([IssueTag(issue_id=event.issue_id, value_id=v, count=1) for v in new])
