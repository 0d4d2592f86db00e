"""Stored events with hostile values render on every page (issue 8).

Each event here is written straight into the database, as an older version (before normalization was total) could
have stored it, or as anyone holding the public DSN could have sent it. One test per class of trouble; each opens
every tab of the issue page, the event's own tabs, the raw JSON, the download and the issue lists, and checks
what the page shows for the odd value.
"""

import html
import json
import uuid
from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from events import rendering, safe
from events.models import Event
from projects.models import ProjectMembership
from testing.utils import make_issue

HUGE_DIGITS = "9" * 5000  # int() of more than 4300 digits raises ValueError
TALL_DIGITS = "1" * 400  # float() of it overflows


@pytest.fixture
def logged_in(client, project, django_user_model):
    user = django_user_model.objects.create_user("member")
    ProjectMembership.objects.create(project=project, user=user)
    client.force_login(user)
    return client


def store(project, data_json: str) -> Event:
    """An Issue and one Event holding `data_json` exactly as given (no ingest, no normalize)."""
    issue = make_issue(project)
    now = timezone.now()
    return Event.objects.create(
        project=project,
        issue=issue,
        event_id=uuid.uuid4(),
        timestamp=now,
        ingested_at=now,
        digested_at=now,
        digest_order=1,
        data_json=data_json,
        calculated_type="ValueError",
        calculated_value="bad value",
    )


def event_json(**fields) -> str:
    """A plausible Python error event with `fields` merged in, as JSON text (ensure_ascii: as digest stores it)."""
    data = {
        "event_id": uuid.uuid4().hex,
        "timestamp": "2024-06-20T08:33:30Z",
        "platform": "python",
        "level": "error",
        "exception": {
            "values": [
                {
                    "type": "ValueError",
                    "value": "bad value",
                    "stacktrace": {
                        "frames": [
                            {
                                "filename": "app/views.py",
                                "function": "handle",
                                "lineno": 10,
                                "in_app": True,
                                "context_line": "    raise ValueError('bad value')",
                                "pre_context": ["def handle():"],
                                "vars": {"x": 1},
                            }
                        ]
                    },
                }
            ]
        },
        "breadcrumbs": {"values": [{"timestamp": "2024-06-20T08:33:20Z", "message": "before"}]},
    }
    data.update(fields)
    return json.dumps(data)


def frame_json(**fields) -> str:
    frame = {"filename": "app/views.py", "function": "handle", "in_app": True, "context_line": "x = 1", **fields}
    return event_json(exception={"values": [{"type": "E", "value": "v", "stacktrace": {"frames": [frame]}}]})


def page_urls(event: Event) -> dict[str, str]:
    issue, pk = event.issue_id, event.pk
    urls = {
        name: reverse(f"issue:{name}", args=[issue])
        for name in ("stacktrace", "details", "breadcrumbs", "events", "tags", "history")
    }
    for name in ("event", "event_details", "event_breadcrumbs", "event_json", "event_download"):
        urls[name] = reverse(f"issue:{name}", args=[issue, pk])
    urls["in_app"] = reverse("issue:stacktrace", args=[issue]) + "?in_app=1"
    urls["project_list"] = reverse("issues:project", args=[event.project_id])
    urls["all_list"] = reverse("issues:all")
    return urls


def strict_json(text: str):
    """json.loads that refuses NaN and Infinity, as a browser's JSON.parse does."""

    def refuse(name):
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def render_all(client, event: Event) -> dict[str, str]:
    """Every page that shows the event or its issue: each answers 200 with UTF-8; the raw JSON and the download
    are strict JSON. Returns the pages' unescaped texts by name."""
    pages = {}
    for name, url in page_urls(event).items():
        response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        text = response.content.decode("utf-8")
        if name in ("event_json", "event_download"):
            pages[name] = text
        else:
            pages[name] = html.unescape(text)
    strict_json(pages["event_json"])
    assert pages["event_download"] == pages["event_json"]
    return pages


# --- numbers ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("odd", ["²", "٣", "１２", " 12x", "1e3", "-", True, 4.5, None, [1], {"n": 1}])
def test_line_and_column_numbers_that_are_not_numbers_are_not_shown(logged_in, project, odd):
    event = store(project, frame_json(lineno=odd, colno=odd, pre_context=["a", "b"], post_context=["c"]))
    pages = render_all(logged_in, event)
    assert "x = 1" in pages["stacktrace"]
    assert "at line" not in pages["stacktrace"]
    assert 'class="lineno" aria-hidden="true"' in pages["stacktrace"]


def test_a_5000_digit_line_number_is_not_shown(logged_in, project):
    text = frame_json(lineno=1, colno=2).replace('"lineno": 1', f'"lineno": {HUGE_DIGITS}')
    text = text.replace('"colno": 2', f'"colno": -{HUGE_DIGITS}')
    pages = render_all(logged_in, store(project, text))
    assert "at line" not in pages["stacktrace"]
    raw = strict_json(pages["event_json"])
    frame = raw["exception"]["values"][0]["stacktrace"]["frames"][0]
    assert frame["lineno"] == HUGE_DIGITS, "kept as its text, digit for digit"


def test_plain_line_numbers_still_show(logged_in, project):
    pages = render_all(logged_in, store(project, frame_json(lineno="12", colno=7.0)))
    assert 'at line</span> <span class="frame-lineno mono">12:7<' in pages["stacktrace"]


@pytest.mark.parametrize("odd", ['"³"', HUGE_DIGITS, "1e999", "NaN", '"1٢"'], ids=lambda odd: odd[:12])
def test_odd_mechanism_ids(logged_in, project, odd):
    exception = {
        "values": [
            {"type": "Group", "value": "g", "mechanism": {"type": "chained", "exception_id": 1, "parent_id": 2}},
            {"type": "Member", "value": "m", "mechanism": {"type": "chained", "exception_id": 3, "parent_id": 4}},
        ]
    }
    text = event_json(exception=exception)
    for n in "1234":
        text = text.replace(f'"exception_id": {n}', f'"exception_id": {odd}').replace(
            f'"parent_id": {n}', f'"parent_id": {odd}'
        )
    pages = render_all(logged_in, store(project, text))
    assert "Member" in pages["stacktrace"] and "Group" in pages["stacktrace"]
    assert 'title="Exception id' not in pages["stacktrace"]


# --- moments ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "odd",
    [TALL_DIGITS, f'"{TALL_DIGITS}"', f"-{TALL_DIGITS}", "1e999", "-1e999", "NaN", "Infinity", '"²"', '"9999-99-99"'],
    ids=lambda odd: odd[:12],
)
def test_odd_breadcrumb_and_event_timestamps(logged_in, project, odd):
    text = event_json(
        timestamp="@T@",
        received="@T@",
        breadcrumbs=[{"timestamp": "@T@", "message": "odd moment"}, {"timestamp": 1718872400.5, "message": "fine"}],
    )
    text = text.replace('"@T@"', odd)
    pages = render_all(logged_in, store(project, text))
    assert "odd moment" in pages["breadcrumbs"] and "fine" in pages["breadcrumbs"]
    assert pages["breadcrumbs"].count('<td class="crumb-time"><time datetime=') == 1  # the fine one


def test_timestamps_in_milliseconds_and_iso_still_show(logged_in, project):
    text = event_json(breadcrumbs=[{"timestamp": 1718872400500, "message": "ms"}, {"timestamp": "2024-06-20T08:33:20"}])
    pages = render_all(logged_in, store(project, text))
    assert pages["breadcrumbs"].count('<td class="crumb-time"><time datetime="2024-06-20T08:33:20') == 2


# --- text -------------------------------------------------------------------------------------------------------


def test_lone_surrogates_everywhere(logged_in, project):
    lone = "a\ud800b\udfffc"
    text = event_json(
        extra={lone: lone, "nested": {"list": [lone]}},
        tags={lone: lone},
        user={"id": lone},
        message=lone,
        logentry={"message": lone, "params": [lone]},
        contexts={lone: {"name": lone}},
        exception={
            "values": [
                {
                    "type": lone,
                    "value": lone,
                    "mechanism": {"type": lone, "description": lone},
                    "stacktrace": {"frames": [{"filename": lone, "function": lone, "vars": {lone: lone}}]},
                }
            ]
        },
        breadcrumbs=[{"message": lone, "category": lone, "data": {lone: lone}}],
    )
    assert "\\ud800" in text  # stored escaped, as json.dumps writes it; json.loads brings the surrogate back
    pages = render_all(logged_in, store(project, text))
    for name in ("stacktrace", "details", "breadcrumbs"):
        assert "a\ufffdb\ufffdc" in pages[name], name
    raw = strict_json(pages["event_json"])
    assert raw["extra"]["a\ufffdb\ufffdc"] == "a\ufffdb\ufffdc"


def test_nul_and_control_characters_survive(logged_in, project):
    text = event_json(extra={"nul": "a\x00b", "bell": "\x07"})
    pages = render_all(logged_in, store(project, text))
    extra = strict_json(pages["event_json"])["extra"]
    assert extra["nul"] == "a\ufffdb", "NUL shown as digest stores it today (events.safe.clean_str)"
    assert extra["bell"] == "\x07"


def test_huge_values_are_cut_on_the_page_but_kept_in_the_download(logged_in, project):
    long = "y" * 300_000
    pages = render_all(logged_in, store(project, event_json(extra={"long": long}, transaction=long)))
    assert "more characters)" in pages["details"]
    assert long not in pages["details"]
    assert strict_json(pages["event_download"])["extra"]["long"] == long


# --- JSON numbers and shapes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "odd", ["NaN", "Infinity", "-Infinity", "1e999", "-1e999", HUGE_DIGITS, f"-{HUGE_DIGITS}"], ids=lambda odd: odd[:12]
)
def test_non_finite_and_huge_numbers_in_data(logged_in, project, odd):
    text = event_json(extra={"n": "@N@", "list": ["@N@"]}, contexts={"device": {"memory_size": "@N@"}})
    text = text.replace('"@N@"', odd)
    frame = '"vars": {"x": 1}'
    text = text.replace(frame, f'"vars": {{"x": {odd}}}')
    pages = render_all(logged_in, store(project, text))
    raw = strict_json(pages["event_json"])
    assert isinstance(raw["extra"]["n"], str)  # kept as text: there is no JSON number for it
    assert "Extra" in pages["details"] and "Local variables" in pages["stacktrace"]


def test_wrong_shapes_everywhere(logged_in, project):
    text = event_json(
        exception={"values": [None, "x", {"type": ["a"], "value": {"b": 1}, "stacktrace": {"frames": {"x": 1}}}]},
        threads={"values": [{"id": {"x": 1}, "stacktrace": {"frames": [None, {"vars": [1, 2]}]}}]},
        breadcrumbs={"values": {"not": "a list"}},
        request=["GET", "/"],
        contexts=[1, 2],
        tags=[["k", "v"], "odd"],
        user="someone",
        sdk="x",
        modules=["a"],
        fingerprint={"x": 1},
        logentry={"message": {"m": 1}, "params": "p"},
        level=["error"],
    )
    render_all(logged_in, store(project, text))


def test_deeply_nested_values(logged_in, project):
    deep_inside = "[" * 150 + "]" * 150  # deeper than events.safe.MAX_DEPTH: shown as a marker
    text = event_json(extra={"deep": "@D@"}).replace('"@D@"', deep_inside)
    pages = render_all(logged_in, store(project, text))
    assert "nested more than" in pages["details"]


def test_nesting_beyond_the_json_reader(logged_in, project):
    """So deep that json.loads gives up (RecursionError): the pages show nothing of it, the raw view shows the
    stored text."""
    text = event_json(extra={"deep": "@D@"}).replace('"@D@"', "[" * 100_000 + "]" * 100_000)
    pages = render_all_but_strict(logged_in, store(project, text))
    assert pages["event_json"] == text


def render_all_but_strict(client, event):
    for name, url in page_urls(event).items():
        response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
    return {"event_json": client.get(page_urls(event)["event_json"]).content.decode()}


@pytest.mark.parametrize("stored", ["", "null", "[1, 2]", '"text"', "not json", "{", "NaN"])
def test_stored_text_that_is_no_event(logged_in, project, stored):
    event = store(project, stored)
    for name, url in page_urls(event).items():
        assert logged_in.get(url).status_code == 200, name


# --- the conversions themselves ---------------------------------------------------------------------------------


def test_safe_int():
    assert [safe.safe_int(v) for v in (3, "12", " -4 ", 4.0, "+5")] == [3, 12, -4, 4, 5]
    for odd in ("²", "٣", "１", "1.5", "", "1e3", 4.5, float("inf"), float("nan"), True, None, [1], 10**5000, "9" * 30):
        assert safe.safe_int(odd) is None, odd
    assert safe.safe_int(5, minimum=0, maximum=4) is None


def test_safe_float_and_timestamps():
    assert safe.safe_float("1.5e3") == 1500.0 and safe.safe_float(2) == 2.0
    for odd in ("1e999", "nan", "inf", float("nan"), 10**400, "1" * 400, "²", True):
        assert safe.safe_float(odd) is None, odd
    assert safe.safe_datetime(1718872400) == datetime(2024, 6, 20, 8, 33, 20, tzinfo=UTC)
    assert safe.safe_datetime(1718872400000) == datetime(2024, 6, 20, 8, 33, 20, tzinfo=UTC)
    assert safe.safe_datetime("2024-06-20T08:33:20Z") == datetime(2024, 6, 20, 8, 33, 20, tzinfo=UTC)
    for odd in (10**400, -(10**400), float("inf"), "1e999", "0", "9999-12-31T23:59:59-12:00", "x" * 1000, {}):
        assert safe.safe_datetime(odd) is None, odd


def test_safe_text():
    assert safe.safe_text("a\ud800") == "a\ufffd"
    assert safe.safe_text(10**5000).endswith("(an integer of about 5001 digits)")
    assert safe.safe_text(-(10**5000)).startswith("-1000")
    assert safe.safe_text(float("nan")) == "NaN" and safe.safe_text(float("-inf")) == "-Infinity"
    assert safe.safe_text({"k\udc00": [float("inf"), 10**5000]}).startswith('{"k\ufffd":["Infinity","1000')
    assert len(safe.safe_text("z" * 100_000)) < safe.MAX_TEXT_CHARS + 40
    for value in ("a\ud800", 10**5000, {"\udfff": "\ud800"}, object()):
        safe.safe_text(value).encode("utf-8")


def test_rendering_functions_take_unsanitized_data():
    """The rendering functions are total on their own, not only on what load_event_json hands them."""
    lone = "\ud800"
    data = {
        "exception": {"values": [{"type": lone, "value": 10**5000, "stacktrace": {"frames": [{"lineno": 10**5000}]}}]},
        "extra": {"nan": float("nan"), "big": 10**5000, lone: lone},
        "breadcrumbs": [{"timestamp": 10**400}, {"timestamp": float("inf")}],
    }
    views = [rendering.stacktrace_view(data), rendering.details_view(data), rendering.breadcrumbs_view(data)]
    for text in strings_in(views):
        text.encode("utf-8")
    assert any("\ufffd" in text for text in strings_in(views))
    strict_json(rendering.pretty_json(data))
    assert [c["time"] for c in rendering.breadcrumbs_view(data)] == [None, None]


def strings_in(value):
    """Every string in a view (what a template could print), keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings_in(key)
            yield from strings_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_in(item)


@pytest.mark.parametrize("cursor", ["99999999999999999999", "9" * 5000, "²", "-1", "1.5", "0x10"])
def test_odd_page_cursors_on_the_events_tab(logged_in, project, cursor):
    event = store(project, event_json())
    for direction in ("before", "after"):
        response = logged_in.get(page_urls(event)["events"], {direction: cursor})
        assert response.status_code == 200, (direction, response.status_code)
