from datetime import UTC, datetime

import pytest

from ingest.normalize import normalize_event, parse_timestamp

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
