"""Keyset pagination, for the issue list and the issue page's events tab: pages in descending order of a key (and
a tie-breaker where the key is not unique), found by seeking an index to a cursor, and counts that stop at a limit.

Nothing here counts or offsets over a whole table: page 1000 costs what page 1 costs, a count costs at most its
limit. A page answers whether there is anything newer and anything older with one indexed EXISTS at most, so the
"Newer" and "Older" links show only when they lead somewhere.
"""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db.models import Q, QuerySet

from events.safe import safe_int

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Up to this many parts (projects), a list across them merges per-part index scans (see _merged_pks); SQLite allows
# at most 500 parts in one UNION.
MAX_MERGED_PARTS = 100


@dataclass(frozen=True)
class Order:
    """Descending by `key`, then by `tiebreak` among rows with the same key (None where the key is unique).

    A cursor's key value is an integer in [minimum, maximum] in the URL; `is_time` makes it a moment (microseconds
    since the epoch). The range keeps cursors inside the database's integers (a bigger number would overflow in
    the query) and inside what the key can hold."""

    key: str
    tiebreak: str | None = "pk"
    is_time: bool = False
    minimum: int = -(2**62) + 1
    maximum: int = 2**62 - 1


@dataclass(frozen=True)
class Cursor:
    """A position in the list: the key's value and, where the key is not unique, the tie-breaker's there."""

    value: int | datetime
    pk: uuid.UUID | None = None

    def encode(self) -> str:
        value = self.value
        if isinstance(value, datetime):
            value = (value - EPOCH) // timedelta(microseconds=1)
        return f"{value}.{self.pk.hex}" if self.pk is not None else str(value)

    @classmethod
    def decode(cls, text: str, order: Order) -> "Cursor | None":
        """The cursor `encode` wrote, or None for anything else (the caller then starts at the first page)."""
        value_text, _, pk_text = (text or "").partition(".")
        number = safe_int(value_text, minimum=order.minimum, maximum=order.maximum)
        if number is None or (order.tiebreak is None) != (pk_text == ""):
            return None
        try:
            pk = uuid.UUID(hex=pk_text) if order.tiebreak is not None else None
            value = EPOCH + timedelta(microseconds=number) if order.is_time else number
        except (ValueError, OverflowError):
            return None
        return cls(value, pk)

    @classmethod
    def of(cls, row, order: Order) -> "Cursor":
        return cls(getattr(row, order.key), getattr(row, order.tiebreak) if order.tiebreak else None)


# (key, tiebreak) < (v, pk), written so that every database seeks the (..., key, tiebreak) index to v: the first
# term is a plain range on the key, the second only sorts out the ties.
def older_than(order: Order, cursor: Cursor) -> Q:
    if order.tiebreak is None:
        return Q(**{f"{order.key}__lt": cursor.value})
    return Q(**{f"{order.key}__lte": cursor.value}) & (
        Q(**{f"{order.key}__lt": cursor.value}) | Q(**{f"{order.tiebreak}__lt": cursor.pk})
    )


def newer_than(order: Order, cursor: Cursor) -> Q:
    if order.tiebreak is None:
        return Q(**{f"{order.key}__gt": cursor.value})
    return Q(**{f"{order.key}__gte": cursor.value}) & (
        Q(**{f"{order.key}__gt": cursor.value}) | Q(**{f"{order.tiebreak}__gt": cursor.pk})
    )


@dataclass(frozen=True)
class Merge:
    """A list across several parts (the projects of /issues/): each part's first rows come from its own index scan
    on `field` = value, and only those are merged (see _merged_pks). The merged rows are read back by primary key
    from `lookup` (the list's select_related and defer, without its filters)."""

    field: str
    values: list
    lookup: QuerySet


@dataclass
class Page:
    rows: list = field(default_factory=list)
    newer: Cursor | None = None  # the cursor for the "Newer" link (newer than it), None on the first page
    older: Cursor | None = None  # the cursor for the "Older" link (older than it), None on the last page


def keyset_page(
    rows: QuerySet,
    order: Order,
    size: int,
    older: Cursor | None = None,
    newer: Cursor | None = None,
    merge: Merge | None = None,
) -> Page:
    """The `size` rows of `rows` older than the cursor `older`, or else the `size` rows newer than `newer`, or else
    the first `size`; in descending order, with no COUNT and no OFFSET."""
    if newer is not None:
        found = _first_rows(rows.filter(newer_than(order, newer)), order, False, size + 1, merge)
        if len(found) <= size:
            # reached the start of the list: show a full first page rather than a short one
            return keyset_page(rows, order, size, merge=merge)
        found = found[:size][::-1]
        has_older = rows.filter(older_than(order, Cursor.of(found[-1], order))).exists()
        return Page(found, newer=Cursor.of(found[0], order), older=Cursor.of(found[-1], order) if has_older else None)
    if older is not None:
        found = _first_rows(rows.filter(older_than(order, older)), order, True, size + 1, merge)
        has_newer = rows.filter(newer_than(order, Cursor.of(found[0], order) if found else older)).exists()
    else:
        found = _first_rows(rows, order, True, size + 1, merge)
        has_newer = False
    has_older = len(found) > size
    found = found[:size]
    return Page(
        found,
        newer=(Cursor.of(found[0], order) if found else older) if has_newer else None,
        older=Cursor.of(found[-1], order) if has_older else None,
    )


def _first_rows(rows: QuerySet, order: Order, descending: bool, limit: int, merge: Merge | None) -> list:
    fields = [order.key] + ([order.tiebreak] if order.tiebreak else [])
    ordering = [f"-{f}" for f in fields] if descending else fields
    if merge is None or len(merge.values) <= 1 or len(merge.values) > MAX_MERGED_PARTS:
        return list(rows.order_by(*ordering)[:limit])
    pks = _merged_pks(rows, order, ordering, limit, merge)
    # by primary key alone: with the list's filters too, the database may choose to scan those parts instead
    by_pk = merge.lookup.filter(pk__in=pks).in_bulk()
    return [by_pk[pk] for pk in pks if pk in by_pk]


def _merged_pks(rows: QuerySet, order: Order, ordering: list[str], limit: int, merge: Merge) -> list:
    """The primary keys of the first `limit` rows in `ordering` across the parts, in one query.

    `project_id IN (...) ORDER BY key LIMIT n` cannot walk one index in order: the database sorts every matching
    row of those projects. Instead, each part's first n come from its own (part, key, pk) index scan, and only
    those (n per part) are merged: SELECT ... FROM (part 1's first n UNION ALL part 2's ...). The tie-breaker must
    be the primary key.
    """
    if order.tiebreak != "pk":
        raise ValueError("a merged list breaks ties by primary key")
    parts, params = [], []
    for i, value in enumerate(merge.values):
        part = rows.filter(**{merge.field: value}).order_by(*ordering).values_list("pk", order.key)[:limit]
        sql, part_params = part.query.sql_with_params()
        parts.append(f"SELECT * FROM ({sql}) part{i}")
        params.extend(part_params)
    direction = "DESC" if ordering[0].startswith("-") else "ASC"
    sql = f"SELECT * FROM ({' UNION ALL '.join(parts)}) merged ORDER BY 2 {direction}, 1 {direction} LIMIT {limit:d}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        pk_field = rows.model._meta.pk
        return [pk_field.to_python(pk) for pk, _ in cursor.fetchall()]


def capped_count(rows: QuerySet, limit: int) -> str:
    """'123', or '1000+' when there are more than `limit`: COUNT over a LIMITed subquery stays cheap on big tables."""
    n = rows.order_by()[: limit + 1].count()
    return f"{limit}+" if n > limit else str(n)
