"""events.rendering: pure functions from event data to what the issue page's templates show. Anything in the data
may be missing, null or of an unexpected type; the functions must still return something renderable."""

import json
from datetime import UTC, datetime

import pytest

from events import rendering
from testing.utils import sample_files


def frame(function, in_app=True, **extra):
    return {"filename": f"{function}.py", "function": function, "in_app": in_app, **extra}


# --- values -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, "null"),
        ("text", "text"),
        (True, "true"),
        (3, "3"),
        (2.5, "2.5"),
        ({"a": [1, None]}, '{\n  "a": [\n    1,\n    null\n  ]\n}'),
        (["x"], '[\n  "x"\n]'),
    ],
)
def test_display(value, expected):
    assert rendering.display(value) == expected


def test_long_values_are_cut():
    text = rendering.display("x" * (rendering.MAX_VALUE_CHARS + 5))
    assert text.endswith("… (5 more characters)")
    assert len(text) < rendering.MAX_VALUE_CHARS + 40


def test_field_marks_multiline_values():
    assert rendering.field("k", {"a": 1})["multiline"] is True
    assert rendering.field("k", "one line")["multiline"] is False
    assert rendering.field(3, None) == {"key": "3", "value": "null", "multiline": False, "token": True, "wide": False}
    assert rendering.field("trace_id", "4c79f60c11214eb38604f4ae0781bfb2")["token"] is True
    # an id or hash longer than a short word gets the row's width (shown whole, not cut in the value column)
    assert rendering.field("trace_id", "4c79f60c11214eb38604f4ae0781bfb2")["wide"] is True
    assert rendering.field("sha256", "ab" * 32)["wide"] is True and rendering.field("v", "1.2.3")["wide"] is False
    assert rendering.field("k", "two words")["token"] is False and rendering.field("k", "x" * 500)["token"] is False


def test_as_pairs():
    assert rendering.as_pairs({"a": 1}) == [("a", 1)]
    assert rendering.as_pairs([["a", 1], ("b", 2)]) == [("a", 1), ("b", 2)]
    assert rendering.as_pairs([["a", 1], "b"]) is None
    assert rendering.as_pairs("a=1") is None


def test_to_int_and_level():
    assert [rendering.to_int(v) for v in (3, "12", 4.0, 4.5, True, None, "x")] == [3, 12, 4, None, None, None, None]
    assert [rendering.level_of(v) for v in ("WARN", "error", "critical", "loud", None, 3)] == [
        "warning",
        "error",
        "fatal",
        "",
        "",
        "",
    ]


def test_tag_query():
    assert rendering.tag_query("browser", "Chrome 120") == 'browser:"Chrome 120"'
    assert rendering.tag_query("release", "1.0") == "release:1.0"
    assert rendering.tag_query("odd key", "x") == ""
    assert rendering.tag_query("k", 'say "hi"') == ""


# --- stack traces -----------------------------------------------------------------------------------------------


def test_exceptions_raised_first_with_relations():
    data = {
        "exception": {
            "values": [
                {"type": "KeyError", "value": "'a'", "mechanism": {"exception_id": 1, "parent_id": 0}},
                {"type": "ValueError", "value": "b", "mechanism": {"handled": False, "exception_id": 0}},
            ]
        }
    }
    first, second = rendering.exceptions_view(data)
    assert (first["type"], first["raised"], first["relation"]) == ("ValueError", True, "")
    assert (second["type"], second["raised"], second["relation"]) == ("KeyError", False, "cause")
    assert first["mechanism"]["handled"] is False and second["mechanism"]["handled"] is None


def test_exception_group_members():
    data = {
        "exception": [
            {"type": "ValueError", "mechanism": {"exception_id": 2, "parent_id": 0}},
            {"type": "TypeError", "mechanism": {"exception_id": 1, "parent_id": 0}},
            {"type": "ExceptionGroup", "mechanism": {"exception_id": 0, "is_exception_group": True}},
        ]
    }
    group, *members = rendering.exceptions_view(data)
    assert group["type"] == "ExceptionGroup" and group["mechanism"]["is_exception_group"]
    assert [m["relation"] for m in members] == ["group", "group"]


def test_frames_innermost_first_and_crash_marker():
    stack = rendering.frames_view([frame("outer"), frame("middle", in_app=False), frame("inner")])
    functions = [e["frame"]["function"] for e in stack["entries"]]
    assert functions == ["inner", "middle", "outer"]
    assert [e["frame"]["is_crash"] for e in stack["entries"]] == [True, False, False]
    assert (stack["count"], stack["in_app_count"], stack["library_count"]) == (3, 2, 1)
    assert rendering.frames_view([frame("a")], crashed=False)["entries"][0]["frame"]["is_crash"] is False


def test_in_app_only_collapses_runs_of_library_frames():
    frames = [frame("lib1", False), frame("lib2", False), frame("mine"), frame("lib3", False), frame("top")]
    entries = rendering.frames_view(frames, in_app_only=True)["entries"]
    assert [e.get("gap") or e["frame"]["function"] for e in entries] == ["top", 1, "mine", 2]


def test_in_app_only_without_in_app_frames_shows_everything():
    entries = rendering.frames_view([frame("a", False), frame("b", False)], in_app_only=True)["entries"]
    assert [e["frame"]["function"] for e in entries] == ["b", "a"]


def test_very_deep_stacks_are_cut():
    stack = rendering.frames_view([frame(f"f{i}") for i in range(rendering.MAX_FRAMES + 7)])
    assert stack["count"] == rendering.MAX_FRAMES and stack["omitted"] == 7
    assert stack["entries"][0]["frame"]["function"] == f"f{rendering.MAX_FRAMES + 6}"


def test_context_lines_numbered_around_the_current_line():
    lines = rendering.context_lines(
        {"lineno": 10, "pre_context": ["a", "b"], "context_line": "c", "post_context": ["d", None]}
    )
    assert [(line["lineno"], line["text"], line["current"]) for line in lines] == [
        (8, "a", False),
        (9, "b", False),
        (10, "c", True),
        (11, "d", False),
        (12, "", False),
    ]


def test_context_lines_without_a_line_number_or_current_line():
    lines = rendering.context_lines({"pre_context": ["a"], "context_line": "b"})
    assert [(line["lineno"], line["current"]) for line in lines] == [(None, False), (None, True)]
    assert rendering.context_lines({"lineno": 3}) == []
    assert rendering.context_lines({"lineno": 3, "pre_context": "nonsense", "context_line": 5})[0]["text"] == "5"


def test_minified_lines_show_a_window_around_the_column():
    line = "x" * 5000 + "CRASH" + "y" * 5000
    [current] = rendering.context_lines({"lineno": 1, "colno": 5001, "context_line": line})
    assert "CRASH" in current["text"]
    assert len(current["text"]) <= rendering.MAX_LINE_CHARS + 2
    assert current["text"].startswith("…") and current["text"].endswith("…")


def test_frame_view_is_defensive():
    view = rendering.frame_view({"lineno": "12", "colno": None, "vars": "not a dict", "in_app": "yes"})
    assert view["where"] == "<unknown>" and view["lineno"] == 12 and view["vars"] == [] and view["in_app"] is False
    view = rendering.frame_view({"module": "app.views", "function": 3, "vars": {"x": {"y": 1}}})
    assert view["where"] == "app.views" and view["module"] == "" and view["function"] == "3"
    assert view["vars"] == [{"key": "x", "value": rendering.var_node({"y": 1})}]
    native = rendering.frame_view({"package": "/lib/libc.so", "instruction_addr": "0x10", "raw_function": "abort"})
    assert (native["where"], native["function"], native["address"]) == ("/lib/libc.so", "abort", "0x10")


def test_threads_crashed_then_current_then_the_rest():
    data = {
        "threads": {
            "values": [
                {"id": 1, "name": "main"},
                {"id": 2, "current": True},
                {"id": 3, "crashed": True, "stacktrace": {"frames": [frame("a"), frame("b")]}},
                None,
            ]
        }
    }
    threads = rendering.threads_view(data)
    assert [t["id"] for t in threads] == ["3", "2", "1"]
    assert [t["open"] for t in threads] == [True, False, False]
    assert threads[0]["stack"]["entries"][0]["frame"]["is_crash"] is True
    assert threads[2]["stack"]["count"] == 0


@pytest.mark.parametrize(
    "data, expected",
    [
        ({"logentry": {"message": "hi %s", "formatted": "hi bob", "params": ["bob"]}}, ("hi bob", "hi %s", 1)),
        ({"logentry": {"message": "hi %(n)s", "params": {"n": "x", "m": 2}}}, ("hi %(n)s", "", 2)),
        ({"logentry": "plain"}, ("plain", "", 0)),
        ({"message": "just a string"}, ("just a string", "", 0)),
        ({"message": {"message": "m %s", "params": "p"}}, ("m %s", "", 1)),
        ({"message": 42}, ("42", "", 0)),
    ],
)
def test_message_view(data, expected):
    message = rendering.message_view(data)
    assert (message["formatted"], message["template"], len(message["params"])) == expected


def test_no_message():
    assert rendering.message_view({}) is None
    assert rendering.message_view({"logentry": {"params": [1]}, "message": None}) is None


def test_stacktrace_view_summary():
    data = {
        "exception": {"values": [{"type": "E", "stacktrace": {"frames": [frame("a"), frame("b", False)]}}]},
        "stacktrace": {"frames": [frame("legacy")]},
    }
    view = rendering.stacktrace_view(data)
    assert view["has_in_app"] and view["has_library"] and view["frame_count"] == 3
    assert view["stacktrace"]["entries"][0]["frame"]["function"] == "legacy"
    assert rendering.stacktrace_view(None)["exceptions"] == []


# --- details, breadcrumbs ---------------------------------------------------------------------------------------


def sections_by_id(data) -> dict:
    return {s["id"]: s for s in rendering.details_view(data)["sections"]}


def values(fields) -> dict:
    return {f["key"]: f["value"] for f in fields}


def test_details_request_in_odd_shapes():
    request = {
        "method": "get",
        "url": "http://x/y",
        "query_string": {"a": "1"},
        "headers": [["Accept", "text/html"], ["X-Num", 3]],
        "cookies": [["sid", "1"]],
        "data": "raw body",
        "weird": ["kept"],
    }
    section = sections_by_id({"request": request})["request"]
    assert values(section["fields"])["URL"] == "GET http://x/y"
    assert values(section["fields"])["Query string"] == "a=1"
    assert values(section["fields"])["Body"] == "raw body"
    assert "weird" in values(section["fields"])
    groups = {g["title"]: values(g["fields"]) for g in section["groups"]}
    assert groups["Headers"] == {"Accept": "text/html", "X-Num": "3"}
    assert groups["Cookies"] == {"sid": "1"}
    assert "request" not in sections_by_id({"request": None})
    assert values(sections_by_id({"request": "GET /"})["request"]["fields"]) == {"request": "GET /"}


def test_details_contexts_known_first_and_odd_ones_kept():
    contexts = {"zeta": {"a": 1}, "os": {"name": "Linux", "type": "os"}, "browser": {"version": "1", "name": "X"}}
    contexts["none"] = None
    contexts["scalar"] = "just text"
    groups = sections_by_id({"contexts": contexts})["contexts"]["groups"]
    assert [g["title"] for g in groups] == ["Browser", "OS", "Scalar", "Zeta"]
    assert [f["key"] for f in groups[0]["fields"]] == ["name", "version"]
    assert "contexts" not in sections_by_id({"contexts": ["not", "a", "dict"]})


def test_details_sdk_user_extra_modules_other():
    data = {
        "event_id": "abc",
        "timestamp": 1718870000.0,
        "release": "1.0",
        "fingerprint": ["{{ default }}", 3],
        "sdk": {
            "name": "s",
            "version": "1",
            "integrations": ["a", 2],
            "packages": [{"name": "p", "version": "9"}, "q"],
        },
        "user": {"id": 5, "email": "e@x"},
        "extra": {"n": None},
        "modules": {"b": "1", "A": "2"},
        "something_new": {"x": 1},
        "empty_thing": {},
    }
    sections = sections_by_id(data)
    event = values(sections["event"]["fields"])
    assert event["Event ID"] == "abc" and event["Release"] == "1.0" and event["Fingerprint"] == "{{ default }}, 3"
    occurred = next(f for f in sections["event"]["fields"] if f["key"] == "Occurred")
    assert occurred["time"] == datetime.fromtimestamp(1718870000, UTC)
    assert values(sections["sdk"]["fields"]) == {
        "Name": "s",
        "Version": "1",
        "Integrations": "a, 2",
        "Packages": "p 9\nq",
    }
    assert values(sections["user"]["fields"]) == {"id": "5", "email": "e@x"}
    assert values(sections["extra"]["fields"]) == {"n": "null"}
    assert [f["key"] for f in sections["modules"]["fields"]] == ["A", "b"] and sections["modules"]["collapsed"]
    assert values(sections["other"]["fields"]) == {"something_new": '{\n  "x": 1\n}'}


def test_details_of_nothing():
    view = rendering.details_view({})
    assert view["sections"] == [] and view["message"] is None
    assert rendering.details_view("not a dict")["sections"] == []


def test_breadcrumbs_view():
    event_time = datetime(2024, 6, 20, 8, 33, 30, tzinfo=UTC)
    data = {
        "breadcrumbs": [
            {"timestamp": "2024-06-20T08:33:20Z", "category": "q", "message": "SELECT", "level": "warn"},
            {"timestamp": "nonsense", "data": {"k": "v" * 200}, "level": 5},
            None,
            "not a crumb",
        ]
    }
    first, second = rendering.breadcrumbs_view(data, event_time)
    assert first["time"] == datetime(2024, 6, 20, 8, 33, 20, tzinfo=UTC) and first["offset"] == "-10.0s"
    assert first["level"] == "warning" and first["category"] == "q" and first["message"] == "SELECT"
    assert second["time"] is None and second["offset"] == "" and second["level"] == "" and second["level_text"] == "5"
    assert second["data_multiline"] is True
    assert rendering.breadcrumbs_view({"breadcrumbs": {"values": "x"}}) == []
    assert rendering.breadcrumbs_view(None) == []


# --- every sample, straight from disk (not normalized): nothing raises -----------------------------------------


@pytest.mark.parametrize("path", sample_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_raw_samples_render_without_errors(path):
    data = json.loads(path.read_text())
    for in_app_only in (False, True):
        rendering.stacktrace_view(data, in_app_only=in_app_only)
    rendering.details_view(data)
    rendering.breadcrumbs_view(data, datetime.now(UTC))
    json.loads(rendering.pretty_json(data))


def test_breadcrumb_summaries():
    """Crumbs that carry their meaning in `data` read as one line, like "POST /pay [502]" (issue 13, point 5)."""
    crumbs = [
        {"type": "http", "category": "httplib", "data": {"method": "post", "url": "/pay", "status_code": 502}},
        {"category": "fetch", "data": {"url": "https://x.test/a", "status_code": "200", "reason": "OK"}},
        # sentry-sdk 3.x names the same fields after OpenTelemetry
        {
            "type": "http",
            "category": "httplib",
            "data": {"http.request.method": "GET", "url.full": "https://x.test/h", "http.response.status_code": 200},
        },
        {"category": "httplib", "data": {"http.method": "put", "url.full": "/b", "http.response.status_code": None}},
        {"type": "navigation", "data": {"from": "/a", "to": "/b"}},
        {"category": "navigation", "data": {"to": "/only-to"}},
        {"category": "query", "message": "SELECT *\n  FROM t"},
        {"category": "db.sql.query", "data": {"query": "UPDATE t SET x=1"}},
        {"category": "console", "data": {"arguments": ["hello", 3, {"k": 1}], "logger": "console"}},
        {"category": "django.request", "message": "a log line"},
        {"category": "ui.click", "data": {"x": 1}},
    ]
    views = rendering.breadcrumbs_view({"breadcrumbs": {"values": crumbs}})
    assert [view["summary"] for view in views] == [
        "POST /pay [502]",
        "https://x.test/a [200 OK]",
        "GET https://x.test/h [200]",
        "PUT /b",
        "/a → /b",
        "? → /only-to",
        "SELECT * FROM t",
        "UPDATE t SET x=1",
        'hello 3 {"k":1}',
        "a log line",
        "",
    ]
    assert [view["message_apart"] for view in views] == [False] * 11


def test_breadcrumbs_of_a_captured_sentry_sdk_3_event_read_as_what_happened():
    """The web request error sentry-sdk 3.0.1 sent (bin/capture_samples.py): its HTTP crumb in 3.x's keys reads as
    the request, not as data to unfold; log and query crumbs by their message."""
    path = next(p for p in sample_files() if p.parent.name == "python-sdk3" and p.name == "web-checkout-15-frames.json")
    crumbs = rendering.breadcrumbs_view(json.loads(path.read_text()))
    assert [crumb["summary"] for crumb in crumbs] == [
        'SELECT "cart_items".* FROM "cart_items" WHERE "cart_items"."cart_id" = %s',
        "placing order 1042 for customer u-1842",
        "GET https://payments.example.net/payments/v2/charges/ch_1042 [200]",
        "payment provider answered 200 (70 bytes)",
    ]


def test_breadcrumb_summaries_of_hostile_data():
    """Whatever a DSN holder puts in a crumb, the summary is one bounded line and nothing raises."""
    hostile = [
        {"type": "http", "data": {"method": ["x"], "url": {"a": "\ud800"}, "status_code": 1e999}},
        {"type": "http", "data": "not a dict", "message": "GET /m"},
        {"type": ["http"], "category": {"c": 1}, "data": {"from": None, "to": None}},
        {"type": "navigation", "data": {"from": "\x00", "to": "x" * 100_000}},
        {"category": "query", "data": {"query": 12}},
        {"category": "console", "data": {"arguments": "not a list", "message": ["m"]}},
        {"category": "console", "data": {"arguments": [None] * 10_000}},
        {"type": "http", "message": "GET " + "y" * 1000, "data": {"url": "/u"}},
    ]
    views = rendering.breadcrumbs_view({"breadcrumbs": hostile})
    assert len(views) == len(hostile)
    for view in views:
        assert len(view["summary"]) <= rendering.MAX_SUMMARY_CHARS and "\n" not in view["summary"]
        view["summary"].encode("utf-8")
    assert views[1]["summary"] == "GET /m"
    assert views[3]["summary"].endswith("…")
    assert views[4]["summary"] == "12"
    assert views[7]["summary"] == "/u" and views[7]["message_apart"] is True


def test_event_logger():
    """The issue header's logger line (issue 13, point 6): one bounded line, '' when none, never raises."""
    assert rendering.event_logger({"logger": "payments.gateway"}) == "payments.gateway"
    assert rendering.event_logger({"logger": "a\nb"}) == "a b"
    assert rendering.event_logger({}) == "" and rendering.event_logger(None) == ""
    assert rendering.event_logger({"logger": "x" * 10_000}).endswith("…")
    assert len(rendering.event_logger({"logger": "x" * 10_000})) == rendering.MAX_LOGGER_CHARS
    rendering.event_logger({"logger": {"a": "\ud800"}}).encode("utf-8")


# --- local variables as the SDK meant them -------------------------------------------------------------------------


def test_python_reprs_are_shown_verbatim_not_json_quoted():
    """The Python SDK sends `items = [1, 2, 3]` as ["1", "2", "3"] and a str as its repr: the list reads [1, 2, 3],
    its leaves 1, 2, 3 and the string 'abc', never ["1","2","3"] or "'abc'" with JSON quotes around it."""
    [items, name, nothing] = rendering.vars_view({"items": ["1", "2", "3"], "name": "'abc'", "nothing": "None"})
    assert items["key"] == "items"
    assert items["value"]["kind"] == "list" and items["value"]["preview"] == "[1, 2, 3]"
    assert items["value"]["count"] == 3 and items["value"]["more"] == 0
    assert [c["key"] for c in items["value"]["children"]] == ["0", "1", "2"]
    assert [c["value"] for c in items["value"]["children"]] == [{"text": "1"}, {"text": "2"}, {"text": "3"}]
    assert name["value"] == {"text": "'abc'"}
    assert nothing["value"] == {"text": "None"}


def test_nested_dicts_and_lists_from_a_captured_python_event_are_trees_of_reprs():
    path = next(p for p in sample_files() if p.parent.name == "python" and p.name == "checkout-gateway-timeout.json")
    sample = json.loads(path.read_text())
    frames = sample["exception"]["values"][-1]["stacktrace"]["frames"]
    order = next(v for v in rendering.vars_view(frames[0]["vars"]) if v["key"] == "order")["value"]
    assert order["kind"] == "dict"
    assert order["preview"].startswith("{id: 1042, items: [{sku: 'TEA-01', qty: 2}")
    assert order["preview"].endswith("total: '129.90'}")
    children = {c["key"]: c["value"] for c in order["children"]}
    assert children["id"] == {"text": "1042"} and children["total"] == {"text": "'129.90'"}
    first_line = children["items"]["children"][0]["value"]
    assert first_line["kind"] == "dict" and first_line["children"][0] == {"key": "sku", "value": {"text": "'TEA-01'"}}


def test_json_scalars_of_other_sdks_are_shown_as_json():
    [flag, count, missing] = rendering.vars_view({"flag": True, "count": 3, "missing": None})
    assert (flag["value"], count["value"], missing["value"]) == ({"text": "true"}, {"text": "3"}, {"text": "null"})
    assert rendering.var_node({"a": [None, False]})["preview"] == "{a: [null, false]}"


def test_var_trees_are_bounded():
    deep: list = ["'bottom'"]
    for _ in range(rendering.MAX_VAR_DEPTH + 5):
        deep = [deep]
    node, depth = rendering.var_node(deep), 0
    while "kind" in node:
        node, depth = node["children"][0]["value"], depth + 1
    assert depth == rendering.MAX_VAR_DEPTH and node["text"].startswith("[[")  # the rest as one line of JSON
    wide = rendering.var_node([str(n) for n in range(rendering.MAX_VAR_ITEMS + 7)])
    assert (
        len(wide["children"]) == rendering.MAX_VAR_ITEMS
        and wide["more"] == 7
        and wide["count"] == len(wide["children"]) + 7
    )
    assert len(wide["preview"]) <= rendering.MAX_PREVIEW_CHARS + 1 and wide["preview"].endswith("…]")
    assert rendering.vars_view(["not", "a", "dict"]) == []


# --- issue 23: the crash frame's locals open, long values cut with a toggle ---------------------------------------


def _frame(function, in_app=True, **extra):
    return {"function": function, "filename": f"app/{function}.py", "lineno": 1, "in_app": in_app, **extra}


def test_locals_open_for_the_in_app_frame_the_exception_was_raised_in_only():
    # outermost first, as stored: the innermost frame is a library's, the exception was raised in `charge`
    frames = [
        _frame("main", vars={"a": "1"}),
        _frame("charge", vars={"amount": "12"}),
        _frame("send", in_app=False, vars={"sock": "<socket>"}),
    ]
    views = {e["frame"]["function"]: e["frame"] for e in rendering.frames_view(frames)["entries"]}
    assert views["charge"]["vars_open"] and views["charge"]["open"]
    assert not views["main"]["vars_open"] and not views["send"]["vars_open"]
    assert views["send"]["is_crash"]  # the innermost frame is still where it crashed
    # no in-app frame at all: the innermost frame's locals
    only_library = [_frame("a", in_app=False, vars={"x": "1"}), _frame("b", in_app=False, vars={"y": "2"})]
    views = {e["frame"]["function"]: e["frame"] for e in rendering.frames_view(only_library)["entries"]}
    assert views["b"]["vars_open"] and not views["a"]["vars_open"]
    # a cause's stack (crashed=False) opens none
    views = [e["frame"] for e in rendering.frames_view(frames, crashed=False)["entries"]]
    assert not any(v["vars_open"] for v in views)


def test_a_long_string_is_marked_long_a_short_one_not():
    assert rendering.var_node("'short'") == {"text": "'short'"}
    wall = "'" + "lorem ipsum " * 100 + "'"
    assert rendering.var_node(wall) == {"text": wall, "long": True}
    lines = "\n".join(str(n) for n in range(rendering.LONG_VALUE_LINES + 1))
    assert rendering.var_node(lines)["long"] is True
