import json
import math
from datetime import UTC, datetime

import pytest

from digest.normalize import MAX_MESSAGE_CHARS, normalize_event
from events.safe import safe_timestamp as parse_timestamp

RECEIVED = 1_780_000_000.0


def normalize(data: dict) -> dict:
    return normalize_event(data, event_id="a" * 32, received_at=RECEIVED, remote_addr="203.0.113.9")


@pytest.mark.parametrize(
    "value, expected",
    [
        (1700000000.5, 1700000000.5),
        (1700000000, 1700000000.0),
        ("1700000000.25", 1700000000.25),
        ("2023-11-14T22:13:20Z", 1700000000.0),
        ("2023-11-14T22:13:20.500000Z", 1700000000.5),
        ("2023-11-14T22:13:20", 1700000000.0),  # raven: no zone means UTC
        ("2023-11-14T23:13:20+01:00", 1700000000.0),
        (1700000000000, 1700000000.0),  # milliseconds
    ],
)
def test_timestamps(value, expected):
    assert parse_timestamp(value) == pytest.approx(expected)


@pytest.mark.parametrize("value", [None, "", "yesterday-ish", True, [], -5, "0"])
def test_unusable_timestamps_fall_back_to_receive_time(value):
    assert normalize({"timestamp": value})["timestamp"] == RECEIVED


def test_tags_as_dict_or_pairs():
    assert normalize({"tags": {"a": 1, "b": "x"}})["tags"] == {"a": "1", "b": "x"}
    assert normalize({"tags": [["a", "1"], ["b", None], "junk"]})["tags"] == {"a": "1", "b": ""}


def test_message_as_string_dict_or_logentry():
    assert normalize({"message": "plain"})["logentry"] == {"message": "plain", "formatted": "plain"}
    assert normalize({"message": {"message": "x %s", "params": ["y"]}})["logentry"] == {
        "message": "x %s",
        "formatted": "x y",
        "params": ["y"],
    }
    assert normalize({"logentry": "as a string"})["logentry"]["formatted"] == "as a string"
    entry = normalize({"logentry": {"message": "%(who)s left", "params": {"who": "ann"}}})["logentry"]
    assert entry["formatted"] == "ann left" and entry["message"] == "%(who)s left"
    # a template that does not fit its parameters: the template followed by them
    assert normalize({"logentry": {"message": "broken %s %s", "params": ["one"]}})["logentry"]["formatted"] == (
        'broken %s %s ["one"]'
    )
    assert normalize({"logentry": {"message": "no placeholders", "params": [1]}})["logentry"]["formatted"] == (
        "no placeholders"
    )


def test_exception_as_bare_list_with_nulls_and_missing_type():
    event = normalize(
        {
            "exception": [
                None,
                {"value": "no type here", "stacktrace": {"frames": [None, {"function": "f", "post_context": [None]}]}},
            ]
        }
    )
    (exc,) = event["exception"]["values"]
    assert exc["type"] == "" and exc["value"] == "no type here"
    assert exc["stacktrace"]["frames"] == [{"function": "f", "post_context": [""]}]


def test_null_stacktrace_and_frames_are_tolerated():
    event = normalize({"exception": {"values": [{"type": "E", "stacktrace": None}, {"type": "F", "stacktrace": {}}]}})
    first, second = event["exception"]["values"]
    assert "stacktrace" not in first
    assert second["stacktrace"]["frames"] == []


def test_levels_and_platform():
    assert normalize({})["level"] == "error"
    assert normalize({"level": "WARN"})["level"] == "warning"
    assert normalize({"level": "nonsense"})["level"] == "error"
    assert normalize({})["platform"] == "other"
    assert normalize({"platform": "crystal"})["platform"] == "crystal"


def test_user_and_request_shapes():
    event = normalize(
        {
            "user": {"id": 42, "ip_address": "{{auto}}"},
            "request": {"url": "http://x/", "headers": [["Accept", "*/*"], ["bad"]]},
        }
    )
    assert event["user"] == {"id": "42", "ip_address": "203.0.113.9"}
    assert event["request"]["headers"] == {"Accept": "*/*"}


def test_fingerprint_is_strings_and_scalars_are_trimmed():
    event = normalize({"fingerprint": [1, "{{ default }}"], "release": " 1.0 ", "environment": None})
    assert event["fingerprint"] == ["1", "{{ default }}"]
    assert event["release"] == "1.0"
    assert "environment" not in event


def test_breadcrumbs_as_list_become_values():
    crumbs = [{"message": "a", "timestamp": datetime(2024, 1, 1, tzinfo=UTC).timestamp()}, None]
    assert normalize({"breadcrumbs": crumbs})["breadcrumbs"] == {"values": [crumbs[0]]}


# --- normalization is total: whatever sits in whatever field comes out storable and renderable ------------------


def all_strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from all_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from all_strings(item)


def all_scalars(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from all_scalars(item)
    elif isinstance(value, list):
        for item in value:
            yield from all_scalars(item)
    else:
        yield value


def assert_storable(event: dict):
    """Encodable as UTF-8 (what SQLite, PostgreSQL and MariaDB store), no NUL, bounded numbers, strict JSON."""
    for text in all_strings(event):
        text.encode("utf-8")
        assert "\x00" not in text
    for scalar in all_scalars(event):
        if isinstance(scalar, int) and not isinstance(scalar, bool):
            assert -(2**63) <= scalar < 2**63
        if isinstance(scalar, float):
            assert math.isfinite(scalar)
    json.loads(json.dumps(event, allow_nan=False))


@pytest.mark.parametrize(
    "where",
    [
        lambda v: {"extra": {"x": v}},
        lambda v: {"extra": {v: 1}},
        lambda v: {"tags": {"k": v}},
        lambda v: {"release": v},
        lambda v: {"environment": v},
        lambda v: {"message": v},
        lambda v: {"logentry": {"message": "%s", "params": [v]}},
        lambda v: {"exception": {"values": [{"type": v, "value": v}]}},
        lambda v: {
            "exception": {"values": [{"type": "E", "stacktrace": {"frames": [{"function": v, "vars": {"a": v}}]}}]}
        },
        lambda v: {"breadcrumbs": [{"message": v, "data": {"url": v}}]},
        lambda v: {"user": {"id": v, "email": v}},
        lambda v: {"request": {"headers": [[v, v]]}},
        lambda v: {"fingerprint": [v]},
        lambda v: {"contexts": {"os": {"name": v}}},
    ],
)
@pytest.mark.parametrize(
    "value",
    ["\ud800", "a\udfffb", "nul\x00here", 10**4000, -(10**300), 2**63, float("inf"), float("nan"), 1e308],
    ids=lambda value: repr(value)[:24],
)
def test_every_field_is_made_storable(where, value):
    assert_storable(normalize(where(value)))


def test_deep_nesting_is_cut():
    deep = "leaf"
    for _ in range(500):
        deep = {"d": deep}
    event = normalize({"extra": {"deep": deep}})
    assert_storable(event)
    depth, node = 0, event["extra"]["deep"]
    while isinstance(node, dict):
        node, depth = node["d"], depth + 1
    assert depth < 70 and isinstance(node, str)


@pytest.mark.parametrize(
    "value",
    ["²", "١٢", "3²", "9" * 5000, 10**4000, -1, 2**40, 1.5, "1e3", True, "", None, "inf"],
    ids=lambda value: repr(value)[:24],
)
def test_line_numbers_only_from_ascii_digits_and_in_range(value):
    frame = {"function": "f", "lineno": value, "colno": value}
    event = normalize({"exception": {"values": [{"type": "E", "stacktrace": {"frames": [frame]}}]}})
    stored = event["exception"]["values"][0]["stacktrace"]["frames"][0]
    assert "lineno" not in stored and "colno" not in stored


@pytest.mark.parametrize("value, expected", [(12, 12), ("12", 12), (" 7 ", 7), (3.0, 3), (0, 0)])
def test_good_line_numbers_are_kept_as_ints(value, expected):
    frame = {"function": "f", "lineno": value}
    event = normalize({"exception": {"values": [{"type": "E", "stacktrace": {"frames": [frame]}}]}})
    assert event["exception"]["values"][0]["stacktrace"]["frames"][0]["lineno"] == expected


@pytest.mark.parametrize("value", ["³", "9" * 400, -3, {"a": 1}], ids=lambda value: repr(value)[:24])
def test_mechanism_ids_are_small_ints_or_dropped(value):
    exc = {"type": "E", "mechanism": {"type": "chained", "exception_id": value, "parent_id": 1}}
    mechanism = normalize({"exception": {"values": [exc]}})["exception"]["values"][0]["mechanism"]
    assert "exception_id" not in mechanism and mechanism["parent_id"] == 1


@pytest.mark.parametrize(
    "value",
    [int("9" * 400), "9" * 400, 10**4000, "²", float("inf"), "Infinity", "nan", [1]],
    ids=lambda value: repr(value)[:24],
)
def test_odd_timestamps(value):
    event = normalize({"timestamp": value, "breadcrumbs": [{"message": "m", "timestamp": value}]})
    assert event["timestamp"] == RECEIVED
    assert "timestamp" not in event["breadcrumbs"]["values"][0]


@pytest.mark.parametrize(
    "template, params",
    [
        ("pad %20000000s end", ["x"]),
        ("pad %*d end", [20000000, 1]),
        ("pad %.*f end", [20000000, 1.0]),
        ("pad %.20000000f end", [1.0]),
        ("pad {:>20000000} end", ["x"]),
        ("pad {0:20000000} end", ["x"]),
        ("pad {:.20000000f} end", [1.0]),
        ("pad {:{}} end", ["x", 20000000]),
        ("{0.nope}", ["x"]),
        ("{0.__class__.__init__.__globals__}", ["x"]),
        ("{0[a]}", [[1, 2]]),
        ("%c", [10**30]),
        ("%d", [float("inf")]),
        ("%d", [1e999]),
        ("%(a)s" * 4000, {"a": "y" * 500_000}),  # one big parameter, repeated
        ("%s" * 60, ["y" * 10_000] * 60),
        ("{}" * 60, ["y" * 10_000] * 60),
    ],
    ids=lambda value: repr(value)[:24],
)
def test_message_formatting_is_bounded_and_never_fails(template, params):
    entry = normalize({"logentry": {"message": template, "params": params}})["logentry"]
    assert len(entry["formatted"]) <= MAX_MESSAGE_CHARS
    assert len(entry["message"]) <= MAX_MESSAGE_CHARS
    assert_storable(entry)


def test_a_failed_formatting_keeps_template_and_params():
    entry = normalize({"logentry": {"message": "user {0.name} failed", "params": ["ann"]}})["logentry"]
    assert entry["formatted"] == 'user {0.name} failed ["ann"]'
    assert normalize({"logentry": {"message": "n=%d", "params": [float("inf")]}})["logentry"]["formatted"] == (
        'n=%d ["Infinity"]'
    )


def test_safe_formatting_still_formats():
    entry = normalize({"logentry": {"message": "%5s|%-3d|%.2f|{}", "params": ["a", 7, 1.234]}})["logentry"]
    assert entry["formatted"] == "    a|7  |1.23|{}"
    assert normalize({"logentry": {"message": "{} and {:>4}", "params": ["x", "y"]}})["logentry"]["formatted"] == (
        "x and    y"
    )
