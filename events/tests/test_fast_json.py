"""Digest's fast JSON paths (orjson) read and write what the stdlib paths would: events.safe.loads_json gives the
same values as the stdlib reader with its hooks, whatever the document, and digest.trim.fit_event's fast text reads
back as the same event and never changes what is trimmed."""

import copy
import json
import math
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest import trim
from digest.batch import digest_event
from digest.normalize import normalize_event
from events import safe
from projects.models import Project
from testing.utils import exception_event, store_event


def stdlib_loads(text):
    return json.loads(text, parse_int=safe._parse_int, parse_float=safe._parse_float, parse_constant=str)


def same(a, b) -> bool:
    """Equal, types included (1 is not 1.0 nor True), NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


EDGE_DOCUMENTS = [
    b"[9223372036854775807, -9223372036854775808, 18446744073709551615]",  # the 64-bit limits orjson holds
    b"[9223372036854775808, -9223372036854775809, 18446744073709551616]",  # just beyond: orjson would make floats
    b'{"big": 123456789012345678901234567890, "bigger": -' + b"9" * 500 + b"}",  # beyond 20 digits: their text
    b"[1e999, -1e999, 1e-999, 1.5e308, 12345678901234567890.5]",  # out of range floats: their text
    b"[NaN, Infinity, -Infinity]",  # not JSON, but Python SDKs' json.dumps writes them
    b'{"a": 1, "a": 2, "b": {"z": 1, "y": 2}}',  # duplicate keys (the last wins), key order
    b'["\\ud800", "\\udfff x", "\\ud83d\\ude00", "\\u0000"]',  # lone surrogates, a pair, NUL
    '{"ünïcödé": "日本語 🎉", "e": "\\u00e9"}'.encode(),
    b'\xef\xbb\xbf{"bom": true}',  # a UTF-8 byte-order mark (the stdlib reader accepts it in bytes)
    b'{"order_id": "12345678901234567890123", "n": 1}',  # a long digit run inside a string: stdlib path, same value
    b"[0, -0, 0.0, -0.0, 1.0, 1e5, 1E-5, 0.1, 5e-324, 2.2250738585072014e-308]",
    b" \n[true, false, null] \t",
]


@pytest.mark.parametrize("document", EDGE_DOCUMENTS)
def test_loads_json_reads_edge_cases_as_the_stdlib_reader_does(document):
    expected = stdlib_loads(document)
    assert same(safe.loads_json(document), expected)
    assert same(safe.loads_json(bytearray(document)), expected)
    if not document.startswith(b"\xef\xbb\xbf"):  # a str with a BOM is refused by both
        assert same(safe.loads_json(document.decode("utf-8", "surrogatepass")), expected)


def test_loads_json_keeps_big_integers_exact():
    assert safe.loads_json(b"[18446744073709551616]") == [18446744073709551616]
    assert type(safe.loads_json(b"[18446744073709551616]")[0]) is int
    assert safe.loads_json(b'{"x": -9223372036854775809}') == {"x": -9223372036854775809}
    assert safe.loads_json(b"[123456789012345678901]") == ["123456789012345678901"]
    assert safe.loads_json(b"[1e999, NaN]") == ["1e999", "NaN"]


@pytest.mark.parametrize("document", [b"", b"[1,]", b'{"a": 1}x', b"{'a': 1}", b'"a\x01b"', b"\xff\xfe", b"[" * 5000])
def test_loads_json_refuses_what_is_not_json_as_before(document):
    with pytest.raises((ValueError, RecursionError)):
        stdlib_loads(document)
    with pytest.raises((ValueError, RecursionError)):
        safe.loads_json(document)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_loads_json_agrees_with_the_stdlib_reader(value):
    document = json.dumps(value).encode("utf-8", "surrogatepass")
    assert same(safe.loads_json(document), stdlib_loads(document))


# --- fit_event's fast text -------------------------------------------------------------------------------------


def normalized(event: dict) -> dict:
    return normalize_event(copy.deepcopy(event), event_id=uuid.uuid4().hex, received_at=1_700_000_000.0)


def sample_event(more: dict | None = None, **fields) -> dict:
    extra = {"float": 1e16, "small": 1e-7, "neg": -0.0, "int": 2**63 - 1, "text": 'quote " and \\ and \n'}
    return exception_event("ValueError", "bad value", extra={**extra, **(more or {})}, tags={"a": "b"}, **fields)


def test_the_fast_text_reads_back_as_the_same_event_in_the_same_order():
    event = normalized(sample_event())
    expected = json.dumps(event)
    fitted, text = trim.fit_event(copy.deepcopy(event), 1024 * 1024, sanitized=True)
    assert text != expected  # orjson's compact form was taken
    assert same(json.loads(text), json.loads(expected))
    assert list(json.loads(text)) == list(event)
    assert same(fitted, event)
    assert len(expected) <= 2 * len(text)


def test_non_ascii_events_are_stored_as_before():
    event = normalized(sample_event(message="naïve café 日本 🎉"))
    fitted, text = trim.fit_event(copy.deepcopy(event), 1024 * 1024, sanitized=True)
    assert text == json.dumps(event)  # ensure_ascii, exactly as before


def test_an_event_near_the_limit_takes_the_exact_path():
    event = normalized(sample_event({"padding": "x" * 6000}))
    size = len(json.dumps(event))
    fitted, text = trim.fit_event(copy.deepcopy(event), size, sanitized=True)  # fits exactly: not trimmed
    assert text == json.dumps(event) and trim.MARKER not in fitted
    fitted, text = trim.fit_event(copy.deepcopy(event), size - 1, sanitized=True)  # one byte over: trimmed
    assert trim.MARKER in fitted and len(text) <= size - 1


def test_an_unsanitized_event_is_never_written_by_orjson():
    event = {"value": float("nan"), "big": 2**70}
    fitted, text = trim.fit_event(event, 1024 * 1024)
    assert text == json.dumps(event)  # NaN stays NaN (orjson would write null), the big int stays exact


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(st.text(max_size=10), json_values, max_size=8),
    st.integers(min_value=2048, max_value=12_000),
)
def test_the_fast_path_trims_exactly_as_the_exact_path(extra, limit):
    event = normalized(sample_event({"generated": extra}))
    fast_data, fast_text = trim.fit_event(copy.deepcopy(event), limit, sanitized=True)
    exact_data, exact_text = trim.fit_event(copy.deepcopy(event), limit)
    assert json.loads(fast_text) == json.loads(exact_text) or same(json.loads(fast_text), json.loads(exact_text))
    assert fast_data == exact_data or same(fast_data, exact_data)
    assert len(exact_text) <= limit


# --- through digest --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_digest_keeps_every_awkward_value():
    project = Project.objects.create(name="fast-json")
    event = exception_event(
        "ValueError",
        "naïve 🎉",
        extra={"u64": 2**64 - 1, "beyond": 2**64, "huge": 10**30, "nan": float("nan"), "inf": float("inf")},
    )
    stored = digest_event(store_event(project, event))
    data = json.loads(stored.data_json)
    extra = data["extra"]
    assert extra["beyond"] == str(2**64) and extra["huge"] == "1" + "0" * 30
    assert extra["u64"] == str(2**64 - 1)  # beyond the databases' bigint: text (events.safe.sanitize)
    assert extra["nan"] == "NaN" and extra["inf"] == "Infinity"
    assert data["exception"]["values"][0]["value"] == "naïve 🎉"

    plain = digest_event(store_event(project, exception_event("ValueError", "plain", extra={"n": 2**63 - 1})))
    assert json.loads(plain.data_json)["extra"]["n"] == 2**63 - 1


@pytest.mark.django_db
def test_a_batch_stores_each_events_text_exactly():
    # on PostgreSQL a batch is inserted as multi-row VALUES (digest.batch._insert_events), not UNNEST of arrays
    from digest.batch import digest_keys
    from events.models import Event

    project = Project.objects.create(name="fast-json-batch")
    texts = ['quote " backslash \\ brace { comma , NULL', "naïve 🎉 \\u0000", '{"a": [1, 2]}']
    keys = [store_event(project, exception_event("ValueError", text, extra={"t": text})) for text in texts]
    assert digest_keys(project.pk, keys) == 3
    stored = {json.loads(e.data_json)["extra"]["t"]: e for e in Event.objects.filter(project=project)}
    assert set(stored) == set(texts)
    for text, event in stored.items():
        assert json.loads(event.data_json)["exception"]["values"][0]["value"] == text
