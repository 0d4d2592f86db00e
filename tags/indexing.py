"""Writing an event's tags (called by digest, inside its transaction): a bounded number of queries per event."""

from collections import OrderedDict

from django.db import connection, transaction
from django.db.models import Q

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
    queries per batch: one for the values (none when cached), one insert of event tags and one upsert of the issue
    tags' counts."""
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
    add_counts(IssueTag, ("issue", "value"), "count", [(i, v, n) for (i, v), n in increments.items()])


def insert_rows(model, fields: tuple[str, ...], rows: list[tuple]) -> None:
    """Plain INSERTs of many rows in one statement: no model instances, no RETURNING of keys nobody reads. Digest
    writes about a dozen tag rows per event; built and compiled through bulk_create they cost more CPU than all the
    rest of an event's tags together (bench/digest_bench.py). On PostgreSQL one INSERT ... SELECT FROM unnest(arrays)
    (one round trip, three parameters); elsewhere one executemany (SQLite runs it in process, MariaDB's driver makes
    it a multi-row INSERT)."""
    if rows:
        _write(model, fields, _db_rows(model, fields, rows), "")


def add_counts(model, key: tuple[str, ...], count: str, rows: list[tuple]) -> None:
    """Upsert counters in one statement per batch: rows are (*key, n); a new key is inserted with n, an existing one
    gets n added. The key must be a unique constraint of `model`. ON CONFLICT on PostgreSQL (fed by unnest) and
    SQLite (multi-row VALUES), ON DUPLICATE KEY UPDATE on MariaDB and MySQL."""
    if not rows:
        return
    fields = (*key, count)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    column = quote(model._meta.get_field(count).column)
    if connection.vendor == "mysql":
        conflict = f"ON DUPLICATE KEY UPDATE {column} = {table}.{column} + VALUES({column})"
    else:
        key_columns = ", ".join(quote(model._meta.get_field(name).column) for name in key)
        conflict = f"ON CONFLICT ({key_columns}) DO UPDATE SET {column} = {table}.{column} + excluded.{column}"
    _write(model, fields, _db_rows(model, fields, rows), conflict, many_row_statement=True)


SQLITE_ROWS_PER_STATEMENT = 300  # SQLite binds at most 32,766 parameters (999 before 3.32): a few per row


def _write(model, fields: tuple[str, ...], rows: list, conflict: str, many_row_statement: bool = False) -> None:
    quote = connection.ops.quote_name
    model_fields = [model._meta.get_field(name) for name in fields]
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(field.column) for field in model_fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # one array per column, each typed as its column
            arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in model_fields)
            columns_of_rows = [list(column_values) for column_values in zip(*rows, strict=True)]
            sql = f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays}) {conflict}"
            cursor.execute(sql, columns_of_rows)
            return
        row_placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
        if not many_row_statement:
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES {row_placeholder} {conflict}", rows)
            return
        step = SQLITE_ROWS_PER_STATEMENT
        for start in range(0, len(rows), step):
            chunk = rows[start : start + step]
            values = ", ".join([row_placeholder] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {values} {conflict}", [v for row in chunk for v in row]
            )


def _db_rows(model, fields: tuple[str, ...], rows: list[tuple]) -> list:
    """The database's form of each value (a UUID key is text on SQLite and MariaDB); integers need nothing."""
    model_fields = [model._meta.get_field(name) for name in fields]
    converters = [
        (index, (field.target_field if field.is_relation else field).get_db_prep_value)
        for index, field in enumerate(model_fields)
        if (field.target_field if field.is_relation else field).get_internal_type() == "UUIDField"
    ]
    if not converters:
        return rows
    rows = [list(row) for row in rows]
    for row in rows:
        for index, convert in converters:
            row[index] = convert(row[index], connection)
    return rows
