"""The distinct counter: exact while small, within a few percent when large, mergeable, and any bytes load."""

import pytest

from health.distinct import EXACT_LIMIT, DistinctCounter, merged_count


def sketch_of(values) -> DistinctCounter:
    sketch = DistinctCounter()
    for value in values:
        sketch.add(value)
    return sketch


def test_small_counts_are_exact_and_survive_a_round_trip():
    sketch = sketch_of(["a", "b", "a", "c"])
    assert sketch.count() == 3
    assert DistinctCounter.load(sketch.dump()).count() == 3
    assert len(sketch_of(str(i) for i in range(EXACT_LIMIT)).dump()) == 1 + 8 * EXACT_LIMIT


@pytest.mark.parametrize("n", [100, 1000, 20000])
def test_large_counts_are_close(n):
    assert abs(sketch_of(f"user-{i}" for i in range(n)).count() - n) <= 0.1 * n


def test_merging_counts_the_union():
    a = sketch_of(f"u{i}" for i in range(0, 600))
    b = sketch_of(f"u{i}" for i in range(300, 900))
    small = sketch_of(["u1", "x"])
    assert abs(merged_count([a.dump(), b.dump(), small.dump()]) - 901) <= 90
    assert merged_count([small.dump(), sketch_of(["x", "y"]).dump()]) == 3


@pytest.mark.parametrize("data", [None, b"", b"junk", b"S123", b"H" + b"\x00" * 5, memoryview(b"S")])
def test_any_bytes_load_as_a_sketch(data):
    assert DistinctCounter.load(data).count() == 0
