"""A standing fuzz test (issue 8): real events with arbitrary JSON put into their fields go through the real envelope
endpoint and digest, and then every page that shows them renders.

A DSN is public, so whatever an SDK can send, anyone can send: strings with lone surrogates, NULs and format
specifiers, integers of thousands of digits, NaN and Infinity, lists where objects belong, deep nesting. For each
example the endpoint answers 200 (or 400/413 when the body itself is refused), the event is digested and stored
(nothing quarantined), and the issue's tabs, the event's tabs, its raw JSON and download, and the issue lists all
answer 200, the raw JSON being strict JSON.

Profiles (events/tests/test_fuzz.py registers them): `fuzz-default` keeps `make test` quick; CI runs
`BUGSINK_FUZZ_PROFILE=ci` (see .ci/run) with many more examples. A failure prints the example and a blob that
replays it (`@reproduce_failure`); nothing is written to a Hypothesis database.
"""

import copy
import json
import os
import tempfile
import uuid
from pathlib import Path

import hypothesis
import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from events.models import Event
from projects.models import ProjectMembership
from testing.utils import auth_header, make_issue, sample_files

# Hypothesis caches (Unicode tables, constants) go to a temporary folder, not into the work tree
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "bugsink-hypothesis")
settings.register_profile("fuzz-default", max_examples=40, deadline=None, database=None, print_blob=True)
settings.register_profile("fuzz-ci", max_examples=200, deadline=None, database=None, print_blob=True)
PROFILE = "fuzz-ci" if os.environ.get("BUGSINK_FUZZ_PROFILE") == "ci" else "fuzz-default"

HUGE_DIGITS = "7" * 5000  # beyond Python's 4300-digit int/str conversion limit


# --- the events the fuzzer starts from --------------------------------------------------------------------------

# real samples of different shapes (chains, groups, threads, minified JS, log messages, odd headers), when present
SAMPLE_NAMES = (
    "python/exception-group.json",
    "python/logging-error-with-params.json",
    "python/wsgi-request-error.json",
    "dotnet/headers-as-lists.json",
    "javascript/minified-frames.json",
    "native/segfault-threads.json",
    "java/caused-by-chain.json",
    "odd/nulls-everywhere.json",
)


def _frame(function: str, lineno: int, in_app: bool = True) -> dict:
    return {
        "filename": f"app/{function}.py",
        "abs_path": f"/srv/app/{function}.py",
        "module": f"app.{function}",
        "function": function,
        "lineno": lineno,
        "colno": 5,
        "in_app": in_app,
        "pre_context": ["def f():", "    x = 1"],
        "context_line": "    raise ValueError(x)",
        "post_context": ["", "# end"],
        "vars": {"x": 1, "items": [1, "two", None], "conf": {"debug": True}},
    }


BUILT_IN_EVENTS = [
    {
        "timestamp": "2024-06-20T08:33:30.123Z",
        "platform": "python",
        "level": "error",
        "release": "shop@1.4.2",
        "environment": "production",
        "server_name": "web-1",
        "transaction": "/checkout",
        "tags": {"region": "eu", "customer": "42"},
        "user": {"id": "7", "email": "a@example.com", "ip_address": "127.0.0.1"},
        "request": {
            "method": "POST",
            "url": "http://127.0.0.1/checkout",
            "query_string": "a=1&b=2",
            "headers": {"User-Agent": "Mozilla/5.0", "Content-Type": "application/json"},
            "cookies": "session=abc; theme=dark",
            "data": {"cart": [1, 2]},
            "env": {"REMOTE_ADDR": "127.0.0.1"},
        },
        "contexts": {
            "os": {"name": "Linux", "version": "6.1"},
            "runtime": {"name": "CPython", "version": "3.11.7"},
            "trace": {"trace_id": "a" * 32, "span_id": "b" * 16},
        },
        "extra": {"order": 1234, "flags": ["x", "y"]},
        "modules": {"django": "5.2", "requests": "2.32"},
        "sdk": {"name": "sentry.python", "version": "2.19.0", "integrations": ["django"]},
        "fingerprint": ["{{ default }}", "checkout"],
        "breadcrumbs": {
            "values": [
                {"timestamp": 1718872400.5, "category": "query", "message": "SELECT 1", "level": "info"},
                {"timestamp": "2024-06-20T08:33:29Z", "type": "http", "data": {"url": "/api", "status_code": 500}},
            ]
        },
        "exception": {
            "values": [
                {
                    "type": "KeyError",
                    "value": "'sku'",
                    "module": "builtins",
                    "mechanism": {"type": "chained", "handled": True, "exception_id": 1, "parent_id": 0},
                    "stacktrace": {"frames": [_frame("load", 12)]},
                },
                {
                    "type": "ValueError",
                    "value": "bad cart",
                    "mechanism": {"type": "django", "handled": False, "exception_id": 0},
                    "stacktrace": {"frames": [_frame("django_core", 80, in_app=False), _frame("checkout", 40)]},
                },
            ]
        },
    },
    {
        "timestamp": 1718872410,
        "platform": "javascript",
        "level": "warning",
        "logger": "console",
        "logentry": {"message": "Cart %s has %d items", "params": ["c-1", 3]},
        "contexts": {"browser": {"name": "Firefox", "version": "127.0"}, "device": {"family": "Desktop"}},
        "exception": {
            "values": [
                {
                    "type": "TypeError",
                    "value": "x is undefined",
                    "stacktrace": {
                        "frames": [
                            {
                                "abs_path": "http://127.0.0.1/static/app.min.js",
                                "function": "n",
                                "lineno": 1,
                                "colno": 3021,
                                "context_line": "var a=1;" * 400,
                                "in_app": True,
                            }
                        ]
                    },
                }
            ]
        },
    },
    {
        "timestamp": "2024-06-20T08:33:40+02:00",
        "platform": "native",
        "level": "fatal",
        "threads": {
            "values": [
                {"id": 1, "name": "main", "main": True, "stacktrace": {"frames": [_frame("main", 3)]}},
                {
                    "id": 2,
                    "name": "worker",
                    "crashed": True,
                    "current": True,
                    "state": "RUNNABLE",
                    "stacktrace": {"frames": [{"instruction_addr": "0x1000", "package": "/usr/lib/libc.so.6"}]},
                },
            ]
        },
        "exception": {
            "values": [{"type": "SIGSEGV", "value": "Segfault", "thread_id": 2, "mechanism": {"type": "signalhandler"}}]
        },
    },
    {
        "platform": "python",
        "message": {"message": "user %(name)s failed", "params": {"name": "ann"}},
        "stacktrace": {"frames": [_frame("legacy", 9)]},
        "extra": {"sys.argv": ["manage.py"]},
    },
    {
        "platform": "python",
        "level": "error",
        "exception": {
            "values": [
                {
                    "type": "ExceptionGroup",
                    "value": "2 errors",
                    "mechanism": {"type": "chained", "is_exception_group": True, "exception_id": 0},
                },
                {"type": "OSError", "value": "disk", "mechanism": {"type": "chained", "exception_id": 1}},
                {"type": "ValueError", "value": "v", "mechanism": {"type": "chained", "parent_id": 0}},
            ]
        },
    },
]


def base_events() -> list[dict]:
    by_name = {f"{p.parent.name}/{p.name}": p for p in sample_files()}
    samples = [json.loads(by_name[name].read_text()) for name in SAMPLE_NAMES if name in by_name]
    return BUILT_IN_EVENTS + [s for s in samples if isinstance(s, dict)]


BASES = base_events()


# --- hostile values ---------------------------------------------------------------------------------------------


class RawNumber:
    """A JSON number written as given: ones Python's json.dumps cannot write (5000 digits, 1e999)."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return f"RawNumber({self.text[:20]!r}{'…' if len(self.text) > 20 else ''})"


FORMAT_STRINGS = ["%s %*d %c %(x)s %", "{0.nope} {0[a]} {} {x!r:>{y}}", "%.99999999f %n %9999999999d", "%%s {{}}"]
SPECIAL_STRINGS = [
    "\ud800",
    "a\udfffb\ud83d",
    "\x00",
    "nul\x00inside",
    "²",
    "٣",
    "１２",
    "1e999",
    "NaN",
    "-Infinity",
    "",
    " ",
    "\u202e\u200b",
    "<script>alert(1)</script>",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    *FORMAT_STRINGS,
]
LONG_STRINGS = [("9", 400), ("7", 5000), ("x", 100_000)]  # (character, length): built when drawn, short to print
SPECIAL_NUMBERS = [
    RawNumber(HUGE_DIGITS),
    RawNumber("-" + HUGE_DIGITS),
    RawNumber("1e999"),
    RawNumber("-1e999"),
    10**400,
    -(10**400),
    2**63,
    -(2**63) - 1,
    1e308,
    -1e308,
    5e-324,
    float("nan"),
    float("inf"),
    float("-inf"),
    -0.0,
]


def _nested(depth: int, leaf):
    value = leaf
    for i in range(depth):
        value = [value] if i % 2 else {"d": value}
    return value


texts = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=30),
    st.text(st.characters(categories=["Cs", "Cc"]), min_size=1, max_size=5),  # lone surrogates, controls, NUL
    st.sampled_from(SPECIAL_STRINGS),
    st.sampled_from(LONG_STRINGS).map(lambda spec: spec[0] * spec[1]),
)
numbers = st.one_of(st.integers(), st.floats(), st.sampled_from(SPECIAL_NUMBERS))
leaves = st.one_of(st.none(), st.booleans(), numbers, texts)
json_values = st.one_of(
    st.recursive(
        leaves,
        lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(texts, children, max_size=4)),
        max_leaves=12,
    ),
    st.builds(_nested, st.sampled_from([50, 150]), leaves),
)

# places the fuzzer always knows about (created when the event lacks them); indexes 0 create list entries
FRAME = ("exception", "values", 0, "stacktrace", "frames", 0)
KNOWN_PATHS = [
    (key,)
    for key in (
        "timestamp",
        "received",
        "level",
        "platform",
        "release",
        "environment",
        "transaction",
        "server_name",
        "tags",
        "user",
        "request",
        "contexts",
        "extra",
        "breadcrumbs",
        "exception",
        "threads",
        "logentry",
        "message",
        "fingerprint",
        "sdk",
        "modules",
        "stacktrace",
    )
] + [
    ("tags", "browser"),
    ("user", "id"),
    ("user", "email"),
    ("request", "url"),
    ("request", "headers"),
    ("request", "cookies"),
    ("request", "query_string"),
    ("request", "data"),
    ("contexts", "os"),
    ("contexts", "browser", "version"),
    ("contexts", "device", "model"),
    ("extra", "value"),
    ("breadcrumbs", "values"),
    ("breadcrumbs", "values", 0),
    ("breadcrumbs", "values", 0, "timestamp"),
    ("breadcrumbs", "values", 0, "message"),
    ("breadcrumbs", "values", 0, "data"),
    ("breadcrumbs", "values", 0, "level"),
    ("exception", "values"),
    ("exception", "values", 0),
    ("exception", "values", 0, "type"),
    ("exception", "values", 0, "value"),
    ("exception", "values", 0, "mechanism"),
    ("exception", "values", 0, "mechanism", "exception_id"),
    ("exception", "values", 0, "mechanism", "parent_id"),
    ("exception", "values", 0, "mechanism", "handled"),
    ("exception", "values", 0, "stacktrace"),
    ("exception", "values", 0, "stacktrace", "frames"),
    FRAME,
    FRAME + ("lineno",),
    FRAME + ("colno",),
    FRAME + ("vars",),
    FRAME + ("vars", "local"),
    FRAME + ("pre_context",),
    FRAME + ("post_context",),
    FRAME + ("context_line",),
    FRAME + ("filename",),
    FRAME + ("function",),
    FRAME + ("in_app",),
    ("threads", "values", 0, "id"),
    ("threads", "values", 0, "stacktrace", "frames", 0, "lineno"),
    ("logentry", "message"),
    ("logentry", "params"),
    ("logentry", "formatted"),
    ("message", "params"),
    ("sdk", "packages"),
    ("sdk", "integrations"),
    ("fingerprint", 0),
]


def paths_of(value, prefix=()) -> list[tuple]:
    """Every path into the event (dict keys, list indexes), containers and leaves alike."""
    paths = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            paths += paths_of(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            paths += paths_of(item, prefix + (index,))
    return paths


def set_path(event: dict, path: tuple, value) -> None:
    """Put `value` at `path`, making the containers on the way (a dict for a key, a list for an index)."""
    container = event
    for position, step in enumerate(path):
        last = position == len(path) - 1
        following = None if last else path[position + 1]
        fresh = [] if isinstance(following, int) else {}
        if isinstance(step, int):
            if not isinstance(container, list):
                return  # only reached through a path of our own whose parent we just made a list: cannot happen
            if step >= len(container):
                container.append(fresh)
                step = len(container) - 1
            if last:
                container[step] = value
                return
            if not isinstance(container[step], type(fresh)):
                container[step] = fresh
            container = container[step]
        else:
            if last:
                container[step] = value
                return
            if not isinstance(container.get(step), type(fresh)):
                container[step] = fresh
            container = container[step]


@st.composite
def hostile_events(draw) -> dict:
    event = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        how = draw(st.sampled_from(["replace", "known", "insert", "logentry"]))
        if how == "replace":
            path = draw(st.sampled_from(paths_of(event) or [("extra",)]))
            set_path(event, path, draw(json_values))
        elif how == "known":
            set_path(event, draw(st.sampled_from(KNOWN_PATHS)), draw(json_values))
        elif how == "insert":
            dicts = [p for p in paths_of(event) if isinstance(_at(event, p), dict)] or [()]
            target = _at(event, draw(st.sampled_from(dicts)))
            target[draw(texts)] = draw(json_values)
        else:
            event["logentry"] = {
                "message": draw(st.one_of(st.sampled_from(FORMAT_STRINGS), texts)),
                "params": draw(json_values),
            }
    return event


def _at(event, path):
    for step in path:
        event = event[step]
    return event


# --- sending and rendering --------------------------------------------------------------------------------------


def encode(event: dict) -> bytes:
    """The event as JSON, the way a sloppy SDK might write it: lone surrogates as \\ud800 escapes, NaN and
    Infinity as bare words, and RawNumbers as their digits."""
    raws: list[str] = []

    def prepare(value):
        if isinstance(value, RawNumber):
            raws.append(value.text)
            return f"\x01raw{len(raws) - 1}\x01"
        if isinstance(value, dict):
            return {k: prepare(v) for k, v in value.items()}
        if isinstance(value, list):
            return [prepare(v) for v in value]
        return value

    text = json.dumps(prepare(event))
    for index, raw in enumerate(raws):
        text = text.replace(json.dumps(f"\x01raw{index}\x01"), raw)
    return text.encode()


def envelope(event_id: str, payload: bytes) -> bytes:
    header = json.dumps({"event_id": event_id}).encode()
    item = json.dumps({"type": "event", "length": len(payload)}).encode()
    return b"\n".join([header, item, payload]) + b"\n"


def quarantined() -> list[str]:
    """The quarantined raw events with their reasons (ingest.store)."""
    root = Path(django_settings.INGEST_STORE_DIR) / "quarantine"
    if not root.exists():
        return []
    return [f"{p.name}: {p.read_text(errors='replace')[:2000]}" for p in root.rglob("*") if p.is_file()]


def strict_json(text: str):
    def refuse(name):
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def pages_of(event: Event) -> dict[str, str]:
    issue, pk = event.issue_id, event.pk
    urls = {
        name: reverse(f"issue:{name}", args=[issue])
        for name in ("stacktrace", "details", "breadcrumbs", "events", "tags", "history")
    }
    urls["in_app"] = urls["stacktrace"] + "?in_app=1"
    for name in ("event", "event_details", "event_breadcrumbs", "event_json", "event_download"):
        urls[name] = reverse(f"issue:{name}", args=[issue, pk])
    urls["project_list"] = reverse("issues:project", args=[event.project_id])
    urls["all_list"] = reverse("issues:all")
    return urls


@pytest.fixture
def fuzz_client(client, project, django_user_model, settings):
    settings.QUOTA_EVENTS_PER_MINUTE = 0  # hundreds of events a minute are the point here
    settings.QUOTA_EVENTS_PER_HOUR = 0
    user = django_user_model.objects.create_user("fuzzer")
    ProjectMembership.objects.create(project=project, user=user)
    client.force_login(user)
    return client


@settings(
    settings.get_profile(PROFILE),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(event=hostile_events())
def test_any_event_is_stored_and_renders_everywhere(fuzz_client, project, event):
    event_id = uuid.uuid4().hex
    response = fuzz_client.post(
        f"/api/{project.pk}/envelope/",
        data=envelope(event_id, encode(event)),
        content_type="application/x-sentry-envelope",
        **auth_header(project),
    )
    hypothesis.event(f"ingest answered {response.status_code}")  # shown by pytest --hypothesis-show-statistics
    if response.status_code in (400, 413):
        return  # the body itself is refused (not JSON, too large): nothing is stored, nothing to render
    assert response.status_code == 200, response.content
    assert quarantined() == [], "digest gave up on the event"
    stored = Event.objects.get(project=project, event_id=event_id)
    for name, url in pages_of(stored).items():
        page = fuzz_client.get(url)
        assert page.status_code == 200, (name, page.status_code)
        text = page.content.decode("utf-8")
        if name in ("event_json", "event_download"):
            strict_json(text)


@settings(
    settings.get_profile(PROFILE),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(event=hostile_events())
def test_any_event_stored_without_normalizing_renders_everywhere(fuzz_client, project, event):
    """The same events written straight into Event.data_json, as a version whose normalization was not total could
    have stored them: the pages' own defences (events.safe) are all that stands between them and a 500."""
    issue = make_issue(project)
    now = timezone.now()
    stored = Event.objects.create(
        project=project,
        issue=issue,
        event_id=uuid.uuid4(),
        timestamp=now,
        ingested_at=now,
        digested_at=now,
        digest_order=1,
        data_json=encode(event).decode(),
    )
    for name, url in pages_of(stored).items():
        page = fuzz_client.get(url)
        assert page.status_code == 200, (name, page.status_code)
        text = page.content.decode("utf-8")
        if name in ("event_json", "event_download"):
            strict_json(text)


def test_the_fuzzer_starts_from_the_repository_samples():
    found = {f"{p.parent.name}/{p.name}" for p in sample_files()}
    assert found, "no event samples: see bugsink/tests/samples"
    assert set(SAMPLE_NAMES) <= found, f"renamed or missing samples: {set(SAMPLE_NAMES) - found}"
    assert len(BASES) == len(BUILT_IN_EVENTS) + len(SAMPLE_NAMES)
