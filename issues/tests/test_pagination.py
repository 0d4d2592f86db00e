"""The keyset engine's cursors (issues.pagination): what a URL may carry and what is refused. Paging itself is
tested through the pages that use it (test_list.py, and the events tab in test_issue_page.py)."""

import uuid
from datetime import UTC, datetime

import pytest

from issues.pagination import EPOCH, Cursor, Order

BY_TIME = Order("last_seen", is_time=True)
BY_COUNT = Order("event_count")
UNIQUE = Order("digest_order", tiebreak=None, minimum=1, maximum=2**31 - 1)
PK = uuid.UUID("12345678123456781234567812345678")


@pytest.mark.parametrize(
    "cursor, order, text",
    [
        (Cursor(datetime(2026, 6, 15, 10, 30, 0, 250, tzinfo=UTC), PK), BY_TIME, f"1781519400000250.{PK.hex}"),
        (Cursor(EPOCH, PK), BY_TIME, f"0.{PK.hex}"),
        (Cursor(-3, PK), BY_COUNT, f"-3.{PK.hex}"),
        (Cursor(4), UNIQUE, "4"),
    ],
)
def test_encode_and_decode_round_trip(cursor, order, text):
    assert cursor.encode() == text
    assert Cursor.decode(text, order) == cursor


@pytest.mark.parametrize(
    "text, order",
    [
        ("", BY_COUNT),
        ("garbage", BY_COUNT),
        ("12", BY_COUNT),  # the tie-breaker is missing
        ("12.zz", BY_COUNT),
        (f"{2**62}.{PK.hex}", BY_COUNT),  # beyond any count, and near the end of the database's integers
        (f"{2**62 - 1}.{PK.hex}", BY_TIME),  # within range, but no moment is this far out
        (f"١٢.{PK.hex}", BY_COUNT),  # other scripts' digits
        ("4.abc", UNIQUE),  # a unique key has no tie-breaker
        ("0", UNIQUE),
        (str(2**31), UNIQUE),
    ],
)
def test_anything_else_is_no_cursor(text, order):
    assert Cursor.decode(text, order) is None
