"""Writing an event's tags (called by digest, inside its transaction): a bounded number of queries per event."""

from collections import OrderedDict

from django.db import connection, transaction
from django.db.models import F, Q

from tags.models import EventTag, IssueTag, TagValue

MAX_CACHED_VALUES = 100_000
LOAD_CHUNK = 200


class TagValueCache:
    """(project_id, key, value) -> TagValue id, for the digest process (values repeat across events)."""

    def __init__(self):
        self._ids: OrderedDict[tuple, int] = OrderedDict()

    def ids_for_pairs(self, project_id: int, pairs: list[tuple[str, str]]) -> list[int]:
        wanted = [(project_id, k, v) for k, v in pairs]
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
                for w in still_missing:
                    if w not in learned:
                        # the database's collation holds this value equal to one it has (MariaDB's default one
                        # ignores case and trailing spaces: 'Linux' is 'linux'): that row is this value's
                        learned[w] = TagValue.objects.values_list("pk", flat=True).get(
                            project_id=project_id, key=w[1], value=w[2]
                        )
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
        found = {}
        for start in range(0, len(keys), LOAD_CHUNK):  # bounded OR-chains (SQLite limits expression depth)
            condition = Q()
            for _, key, value in keys[start : start + LOAD_CHUNK]:
                condition |= Q(key=key, value=value)
            rows = TagValue.objects.filter(condition, project_id=project_id).values_list("pk", "key", "value")
            found.update({(project_id, key, value): pk for pk, key, value in rows})
        return found

    def clear(self) -> None:
        self._ids.clear()


tag_value_cache = TagValueCache()


def index_tags(project_id: int, items: list[tuple]) -> None:
    """Index the tags of a batch of saved events of one project: [(event, {key: value}), ...]. A bounded number of
    queries per batch: one for the values (none when cached), one insert of event tags, and for the issue tags one
    select, one update per distinct increment and one insert."""
    items = [(event, tags) for event, tags in items if tags]
    if not items:
        return
    wanted = list(dict.fromkeys(pair for _, tags in items for pair in tags.items()))
    ids = dict(zip(wanted, tag_value_cache.ids_for_pairs(project_id, wanted), strict=True))
    event_tags = []
    increments: dict[tuple, int] = {}
    for event, tags in items:
        for pair in tags.items():
            value_id = ids[pair]
            event_tags.append((event.pk, event.issue_id, value_id))
            increments[(event.issue_id, value_id)] = increments.get((event.issue_id, value_id), 0) + 1
    insert_rows(EventTag, ("event", "issue", "value"), event_tags)
    issue_ids = {issue_id for issue_id, _ in increments}
    value_ids = {value_id for _, value_id in increments}
    existing = {
        (issue_id, value_id): pk
        for pk, issue_id, value_id in IssueTag.objects.filter(
            issue_id__in=issue_ids, value_id__in=value_ids
        ).values_list("pk", "issue_id", "value_id")
    }
    by_increment: dict[int, list[int]] = {}
    for pair, n in increments.items():
        if pair in existing:
            by_increment.setdefault(n, []).append(existing[pair])
    for n, pks in by_increment.items():
        IssueTag.objects.filter(pk__in=pks).update(count=F("count") + n)
    insert_rows(
        IssueTag,
        ("issue", "value", "count"),
        [(i, v, n) for (i, v), n in increments.items() if (i, v) not in existing],
    )


def insert_rows(model, fields: tuple[str, ...], rows: list[tuple]) -> None:
    """Plain INSERTs of many rows in one executemany: no model instances, no RETURNING of keys nobody reads. Digest
    writes about a dozen tag rows per event; built and compiled through bulk_create they cost more CPU than all the
    rest of an event's tags together (bench/digest_bench.py)."""
    if not rows:
        return
    quote = connection.ops.quote_name
    model_fields = [model._meta.get_field(name) for name in fields]
    columns = ", ".join(quote(field.column) for field in model_fields)
    placeholders = ", ".join(["%s"] * len(fields))
    # the database's form of each value (a UUID key is text on SQLite and MariaDB); integers need nothing
    converters = [
        (index, (field.target_field if field.is_relation else field).get_db_prep_value)
        for index, field in enumerate(model_fields)
        if (field.target_field if field.is_relation else field).get_internal_type() == "UUIDField"
    ]
    if converters:
        rows = [list(row) for row in rows]
        for row in rows:
            for index, convert in converters:
                row[index] = convert(row[index], connection)
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})", rows)
