"""Oversized events are kept, trimmed to fit (digest.trim), instead of being refused.

The unit tests pin the order of the steps on events built for each; the property test feeds arbitrary events to the
trimmer; the HTTP tests send big events through the real envelope and store endpoints, digest them, and read the
stored event and its page.
"""

import copy
import gzip
import json
import logging
import os
import subprocess
import sys
import uuid

import hypothesis
import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest import batch, trim
from digest.normalize import normalize_event
from digest.trim import MARKER, size_of, trim_event
from events import rendering
from events.models import Event
from events.tests import test_fuzz as fuzz
from events.trimmed import describe
from ingest import store
from ingest.models import RefusedEvents
from issues.models import Issue
from projects.models import ProjectMembership
from testing.utils import auth_header, exception_event, make_envelope

MIB = 1024 * 1024


def frame(index: int, variables: dict | None = None, **extra) -> dict:
    result = {
        "filename": "shop/checkout.py",
        "abs_path": "/srv/shop/checkout.py",
        "module": "shop.checkout",
        "function": f"step_{index}",
        "lineno": 10 + index,
        "context_line": f"    return step_{index + 1}(order, depth - 1)",
        "pre_context": ["def step(order, depth):", "    if depth == 0:", "        raise ValueError('empty order')"],
        "post_context": [""],
        "in_app": True,
        **extra,
    }
    if variables is not None:
        result["vars"] = variables
    return result


def ordinary_locals(index: int, count: int = 60) -> dict:
    """What a Python frame's locals look like once the SDK has serialized them: short reprs, small containers."""
    variables = {f"item_{n}": f"'SKU-{index:05d}-{n:04d} blue cotton shirt, size M'" for n in range(count)}
    variables["order"] = {"id": str(index), "lines": [f"'line {n}'" for n in range(20)], "total": "'99.90'"}
    variables["depth"] = str(index)
    return variables


def deep_event(frames: list[dict], **extra) -> dict:
    return exception_event("ValueError", "empty order", frames=frames, event_id=uuid.uuid4().hex, **extra)


def normalized(event: dict) -> dict:
    return normalize_event(copy.deepcopy(event), event_id=uuid.uuid4().hex, received_at=1_700_000_000.0)


def crash_frame(event: dict) -> dict:
    return event["exception"]["values"][-1]["stacktrace"]["frames"][-1]


# --- the trimmer ----------------------------------------------------------------------------------------------------


def test_an_event_that_fits_is_not_touched():
    event = normalized(deep_event([frame(i, ordinary_locals(i)) for i in range(3)]))
    before = copy.deepcopy(event)
    assert trim_event(event, MIB) == before
    assert describe(event) == ""


def test_a_marker_sent_by_a_client_is_not_ours():
    event = normalized(deep_event([frame(0)], **{MARKER: {"original_size": 10**9, "frames_omitted": 5}}))
    assert MARKER not in trim_event(event, MIB)


def test_a_long_string_is_cut_with_its_length_noted():
    blob = "x" * (10 * MIB)
    frames = [frame(i, {"blob": repr(blob)} if i == 150 else ordinary_locals(i, 5)) for i in range(300)]
    event = trim_event(normalized(deep_event(frames)), MIB)
    assert size_of(event) <= MIB
    kept = event["exception"]["values"][0]["stacktrace"]["frames"]
    assert len(kept) == 300  # nothing else had to go
    cut = kept[150]["vars"]["blob"]
    assert cut.startswith("'xxxx") and len(cut) < trim.STRING_KEEP_CHARS + 100
    assert f"{len(repr(blob)):,} characters, cut to 16,384" in cut
    assert all("vars" in f for f in kept)  # every frame keeps its locals
    assert event[MARKER]["frame_variables_cut"] == 1
    note = describe(event)
    assert "1 frame variable cut to 16 KB" in note and "trimmed 10.0 MB" in note


def test_the_longest_strings_go_first_and_only_as_many_as_needed():
    event = normalized(deep_event([frame(0)], extra={"a": "a" * (MIB // 2), "b": "b" * MIB, "c": "c" * 20_000}))
    event = trim_event(event, MIB)
    assert len(event["extra"]["a"]) == MIB // 2 and len(event["extra"]["c"]) == 20_000
    assert "characters, cut to" in event["extra"]["b"]
    assert event[MARKER]["values_cut"] == 1 and "1 other long value cut to 16 KB" in describe(event)


def test_locals_of_frames_far_from_the_crash_go_first():
    frames = [frame(i, ordinary_locals(i)) for i in range(300)]  # about 4 KB of locals per frame
    event = trim_event(normalized(deep_event(frames)), 400 * 1024)
    kept = event["exception"]["values"][0]["stacktrace"]["frames"]
    assert len(kept) == 300 and size_of(event) <= 400 * 1024
    with_locals = [i for i, f in enumerate(kept) if "vars" in f]
    # the frames nearest the crash keep theirs: a contiguous run ending at the crash frame
    assert with_locals and with_locals == list(range(with_locals[0], 300)) and with_locals[0] > 150
    assert crash_frame(event)["vars"] == ordinary_locals(299)
    assert f"locals of {with_locals[0]} frames removed" in describe(event)


def test_a_cause_loses_its_locals_before_the_raised_exception():
    cause = {
        "type": "KeyError",
        "value": "'sku'",
        "stacktrace": {"frames": [frame(i, ordinary_locals(i)) for i in range(50)]},
    }
    raised = {
        "type": "ValueError",
        "value": "empty",
        "stacktrace": {"frames": [frame(i, ordinary_locals(i)) for i in range(50)]},
    }
    event = normalized({"exception": {"values": [cause, raised]}})
    event = trim_event(event, size_of(event) - 40_000)
    cause_frames, raised_frames = (e["stacktrace"]["frames"] for e in event["exception"]["values"])
    # at the same distance from the crash, the cause's frame goes first
    lost_cause = sum(1 for f in cause_frames if "vars" not in f)
    lost_raised = sum(1 for f in raised_frames if "vars" not in f)
    assert lost_cause >= lost_raised and lost_cause > 0


def test_the_middle_of_a_long_stack_is_omitted():
    frames = [frame(i) for i in range(5000)]  # about 400 bytes each, no locals: 2 MB
    event = trim_event(normalized(deep_event(frames)), MIB)
    assert size_of(event) <= MIB
    stacktrace = event["exception"]["values"][0]["stacktrace"]
    kept = stacktrace["frames"]
    start, end = stacktrace["frames_omitted"]
    assert [f["function"] for f in kept[:10]] == [f"step_{i}" for i in range(10)]  # the outermost frames stay
    assert [f["function"] for f in kept[-40:]] == [f"step_{i}" for i in range(4960, 5000)]  # so do the innermost
    assert end == 4960 and len(kept) == 5000 - (end - start)
    assert kept[start - 1]["function"] == f"step_{start - 1}" and kept[start]["function"] == "step_4960"
    assert f"{end - start:,} frames omitted" in describe(event)


def test_the_oldest_breadcrumbs_go():
    crumbs = [
        {"timestamp": 1_700_000_000 + n, "category": "query", "message": f"SELECT {n} " + "x" * 200}
        for n in range(10_000)
    ]
    event = trim_event(normalized(deep_event([frame(0, ordinary_locals(0))], breadcrumbs={"values": crumbs})), MIB)
    kept = event["breadcrumbs"]["values"]
    assert size_of(event) <= MIB and 0 < len(kept) < 10_000
    assert kept[-1]["message"].startswith("SELECT 9999 ") and kept[0]["message"].startswith(
        f"SELECT {10_000 - len(kept)} "
    )
    assert crash_frame(event)["vars"] == ordinary_locals(0)  # a crash frame's locals outlast the breadcrumbs
    assert f"{10_000 - len(kept):,} oldest breadcrumbs removed" in describe(event)


def test_extra_goes_before_contexts_and_the_exception_stays():
    extra = {f"key_{n}": "v" * 1000 for n in range(3000)}  # 3 MB of small entries: no long string to cut
    contexts = {"os": {"name": "Linux"}, "runtime": {"name": "CPython", "version": "3.11"}}
    event = trim_event(normalized(deep_event([frame(0)], extra=extra, contexts=contexts)), MIB)
    assert size_of(event) <= MIB
    assert event["contexts"] == contexts and 0 < len(event["extra"]) < 3000
    assert event["exception"]["values"][0]["type"] == "ValueError" and crash_frame(event)["function"] == "step_0"
    assert "extra entries removed" in describe(event)


def test_other_fields_go_before_the_essentials():
    event = normalized(deep_event([frame(0)], modules={f"package-{n}": "1.0.0" * 50 for n in range(20_000)}))
    event = trim_event(event, MIB)
    assert "modules" not in event and event[MARKER]["fields_dropped"] == ["modules"]
    assert "fields removed: modules" in describe(event)


def test_an_event_of_countless_small_parts_keeps_its_raised_exception():
    """Nothing long to cut and no locals, stacks or crumbs to drop: the last steps still make it fit."""
    exceptions = [{"type": f"Error{n}", "value": "v", "stacktrace": {"frames": [frame(n)]}} for n in range(20_000)]
    tags = {f"t{n}": "v" for n in range(50_000)}
    params = list(range(200_000))
    event = normalized(
        {"exception": {"values": exceptions}, "tags": tags, "logentry": {"message": "m %s", "params": params}}
    )
    event = trim_event(event, 64 * 1024)
    assert size_of(event) <= 64 * 1024
    assert event["exception"]["values"][-1]["type"] == "Error19999"
    assert event["exception"]["values"][-1]["stacktrace"]["frames"][-1]["function"] == "step_19999"
    assert "older exceptions of the chain removed" in describe(event)


def test_the_last_resort_keeps_the_raised_exception_type_and_value():
    event = normalized(
        {"exception": {"values": [{"type": "T" * 5000, "value": "V" * 5000}]}, "fingerprint": ["f" * 900] * 100}
    )
    event = trim_event(event, 2048)
    assert size_of(event) <= 2048
    assert event["exception"]["values"][-1]["type"].startswith("TTTT") and event[MARKER]["bare"] is True
    assert "only the raised exception's type and value kept" in describe(event)


# --- property: whatever comes in, what is stored fits --------------------------------------------------------------

json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
)
json_values = st.recursive(
    json_leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=6), st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=30,
)


@st.composite
def oversized_events(draw) -> dict:
    """An event of a random shape, inflated where SDKs make events big: long strings, locals, deep stacks,
    breadcrumbs, extra, unknown fields, long exception chains. A few parts are drawn and then repeated, so that
    examples are big without costing Hypothesis a draw per byte."""
    value = draw(json_values)
    chars = draw(st.sampled_from(["x", "é", "😀", "\\", '"']))

    def sized(*sizes) -> str:
        return chars * draw(st.sampled_from(sizes))

    local_text, value_text = sized(0, 10, 5000), sized(1, 200, 60_000)
    with_locals = draw(st.booleans())
    frames = [
        frame(i, {"v": local_text, "other": value} if with_locals else None)
        for i in range(draw(st.sampled_from([0, 1, 5, 80])))
    ]
    exceptions = [
        {"type": f"Error{n}" + sized(0, 3, 3000), "value": value_text, "stacktrace": {"frames": copy.deepcopy(frames)}}
        for n in range(draw(st.integers(0, 3)) * draw(st.sampled_from([1, 1, 10])))
    ]
    crumb_text = sized(0, 100)
    extra_text = sized(0, 1000)
    event = {
        "exception": {"values": exceptions},
        "breadcrumbs": {
            "values": [{"message": crumb_text, "data": value} for _ in range(draw(st.sampled_from([0, 3, 500])))]
        },
        "extra": {f"e{n}": value if n % 2 else extra_text for n in range(draw(st.sampled_from([0, 3, 200])))},
        "contexts": {f"c{n}": {"blob": sized(0, 500)} for n in range(draw(st.sampled_from([0, 50])))},
        "tags": {f"t{n}": "v" for n in range(draw(st.sampled_from([0, 5, 3000])))},
        "message": sized(0, 1, 100_000),
    }
    for key in draw(st.lists(st.text(min_size=1, max_size=20), max_size=4)):
        event[key] = draw(json_values)
    return event


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(event=oversized_events(), limit=st.sampled_from([4 * 1024, 16 * 1024, 64 * 1024]))
def test_whatever_is_trimmed_fits(event, limit):
    data = normalized(event)
    raised_type = data["exception"]["values"][-1]["type"] if data.get("exception") else None
    original_size = size_of(data)
    result = trim_event(data, limit)
    assert size_of(result) <= limit
    if raised_type is not None:
        # the raised exception survives, its type cut at worst
        assert result["exception"]["values"][-1]["type"][:8] == raised_type[:8]
    assert (MARKER in result) == (original_size > limit)
    hypothesis.event("trimmed" if MARKER in result else "fits")
    hypothesis.event(f"bare: {result.get(MARKER, {}).get('bare', False)}")


@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(event=fuzz.hostile_events(), inflated=oversized_events())
def test_whatever_is_trimmed_is_stored_within_the_limit_and_renders(member_client, project, settings, event, inflated):
    """The fuzzer's hostile events, inflated, through the real endpoint and digest with a small MAX_EVENT_SIZE: the
    stored JSON fits, and every page of the event renders."""
    settings.MAX_EVENT_SIZE = 16 * 1024
    settings.QUOTA_EVENTS_PER_MINUTE = settings.QUOTA_EVENTS_PER_HOUR = 0
    for key, value in inflated.items():
        event.setdefault(key, value)
    event_id = uuid.uuid4().hex
    response = member_client.post(
        f"/api/{project.pk}/envelope/",
        data=fuzz.envelope(event_id, fuzz.encode(event)),
        content_type="application/x-sentry-envelope",
        **auth_header(project),
    )
    if response.status_code == 400:
        return  # not JSON at all (the fuzzer writes raw numbers and bare words): nothing to store
    assert response.status_code == 200, response.content
    kept = Event.objects.get(project=project, event_id=event_id)
    assert len(kept.data_json) <= settings.MAX_EVENT_SIZE
    for name, url in fuzz.pages_of(kept).items():
        assert member_client.get(url).status_code == 200, name


# --- through the endpoints --------------------------------------------------------------------------------------


@pytest.fixture
def member_client(client, project, django_user_model):
    user = django_user_model.objects.create_user("reader")
    ProjectMembership.objects.create(project=project, user=user)
    client.force_login(user)
    return client


def post_envelope(client, project, event: dict, **extra):
    body = make_envelope(event)
    return client.post(
        f"/api/{project.pk}/envelope/",
        data=gzip.compress(body, compresslevel=1),
        content_type="application/x-sentry-envelope",
        HTTP_CONTENT_ENCODING="gzip",
        **auth_header(project),
        **extra,
    )


def stored(project, event: dict) -> Event:
    return Event.objects.get(project=project, event_id=event["event_id"])


def test_a_24_mb_event_of_ordinary_locals_in_a_deep_stack_is_kept(member_client, project, settings):
    frames = [frame(i, ordinary_locals(i, count=400)) for i in range(1100)]
    event = deep_event(frames)
    assert len(json.dumps(event)) > 24 * MIB
    response = post_envelope(member_client, project, event)
    assert response.status_code == 200, response.content
    kept = stored(project, event)
    assert len(kept.data_json) <= settings.MAX_EVENT_SIZE
    assert (kept.calculated_type, kept.calculated_value) == ("ValueError", "empty order")
    data = kept.data
    assert crash_frame(data)["function"] == "step_1099" and crash_frame(data)["vars"] == ordinary_locals(
        1099, count=400
    )
    page = member_client.get(reverse("issue:event", args=[kept.issue_id, kept.pk]))
    assert page.status_code == 200
    note = page.content.decode()
    assert "data-trim-note" in note and "locals of" in note and "frames removed" in note


def test_a_trimmed_event_is_grouped_with_its_untrimmed_siblings(member_client, project):
    small = deep_event([frame(i, ordinary_locals(i, 3)) for i in range(300)])
    big = deep_event([frame(i, {"blob": "x" * (3 * MIB)} if i == 150 else ordinary_locals(i, 3)) for i in range(300)])
    for event in (small, big):
        assert post_envelope(member_client, project, event).status_code == 200
    assert stored(project, small).issue_id == stored(project, big).issue_id
    assert Issue.objects.filter(project=project).count() == 1
    assert MARKER in stored(project, big).data and MARKER not in stored(project, small).data


def test_a_big_breadcrumbs_list_keeps_the_newest(member_client, project, settings):
    crumbs = [
        {"timestamp": 1_700_000_000 + n, "category": "http", "message": f"GET /item/{n} " + "q" * 300}
        for n in range(20_000)
    ]
    event = deep_event([frame(0, ordinary_locals(0))], breadcrumbs={"values": crumbs})
    assert post_envelope(member_client, project, event).status_code == 200
    kept = stored(project, event)
    assert len(kept.data_json) <= settings.MAX_EVENT_SIZE
    messages = [c["message"] for c in kept.data["breadcrumbs"]["values"]]
    assert messages[-1].startswith("GET /item/19999 ") and len(messages) < 20_000
    page = member_client.get(reverse("issue:event_breadcrumbs", args=[kept.issue_id, kept.pk]))
    assert page.status_code == 200 and "oldest breadcrumbs removed" in page.content.decode()


def test_an_event_whose_extra_alone_is_huge(member_client, project, settings):
    event = deep_event(
        [frame(0, ordinary_locals(0))], extra={f"row_{n}": {"id": n, "name": "n" * 200} for n in range(40_000)}
    )
    assert post_envelope(member_client, project, event).status_code == 200
    kept = stored(project, event)
    assert len(kept.data_json) <= settings.MAX_EVENT_SIZE
    assert crash_frame(kept.data)["vars"] == ordinary_locals(0)  # extra went, the locals did not
    page = member_client.get(reverse("issue:event_details", args=[kept.issue_id, kept.pk]))
    assert page.status_code == 200 and "extra entries removed" in page.content.decode()


def test_an_oversized_event_on_the_store_endpoint_is_trimmed(member_client, project, settings):
    event = deep_event([frame(0, {"blob": "b" * (2 * MIB)})])
    response = member_client.post(
        f"/api/{project.pk}/store/",
        data=gzip.compress(json.dumps(event).encode()),
        content_type="application/json",
        HTTP_CONTENT_ENCODING="gzip",
        **auth_header(project),
    )
    assert response.status_code == 200, response.content
    assert len(stored(project, event).data_json) <= settings.MAX_EVENT_SIZE


def test_the_stack_trace_page_shows_where_frames_were_omitted(member_client, project, settings):
    event = deep_event([frame(i) for i in range(5000)])
    assert post_envelope(member_client, project, event).status_code == 200
    kept = stored(project, event)
    start, end = kept.data["exception"]["values"][0]["stacktrace"]["frames_omitted"]
    page = member_client.get(reverse("issue:event", args=[kept.issue_id, kept.pk])).content.decode()
    assert f"{end - start} frames omitted here" in page
    # innermost first: the row stands between the frame after the gap and the frame before it
    row = page.index("data-frames-removed")
    assert page.rindex(f"step_{end}<", 0, row) > 0 and page.index(f"step_{start - 1}<", row) > row


def test_frames_view_places_an_omitted_range_where_the_frames_were():
    frames = [frame(i) for i in (0, 1, 7, 8)]  # 2..6 were taken out: frames_omitted [2, 7]
    entries = rendering.frames_view(frames, removed=[2, 7])["entries"]
    assert [e.get("removed") or e["frame"]["function"] for e in entries] == ["step_8", "step_7", 5, "step_1", "step_0"]
    for nonsense in (None, [2], [0, 3], [3, 2], [9, 12], ["x", 3], [True, 4]):
        entries = rendering.frames_view(frames, removed=nonsense)["entries"]
        assert all("frame" in e for e in entries), nonsense


def test_digest_loads_big_raw_events_a_few_at_a_time(project, settings, monkeypatch):
    """A backlog of oversized events is not loaded whole: digest loads RAW_LOAD_BUDGET's worth at a time, counting
    each at MAX_EVENT_TRIM_SIZE, and keeps only the trimmed events."""
    settings.MAX_EVENT_TRIM_SIZE = batch.RAW_LOAD_BUDGET // 2
    assert batch.raw_load_chunk() == 2
    keys = []
    for n in range(5):
        event = deep_event([frame(0, {"blob": f"{n}" * (2 * MIB)})])
        raw = store.RawEvent(project.pk, event["event_id"], 1_700_000_000.0 + n, "", json.dumps(event).encode())
        keys.append(store.store_raw_event(raw))
    loads = []
    load = store.load_raw_events
    monkeypatch.setattr(store, "load_raw_events", lambda chunk: loads.append(len(chunk)) or load(chunk))
    assert batch.digest_keys(project.pk, keys) == 5
    assert loads == [2, 2, 1]
    assert all(len(e.data_json) <= settings.MAX_EVENT_SIZE for e in Event.objects.filter(project=project))
    settings.MAX_EVENT_TRIM_SIZE = 4 * MIB
    assert batch.raw_load_chunk() == 64  # small events: a batch in one load


@pytest.mark.parametrize(
    "store,database,expected",
    [
        ("file", "mysql://root@127.0.0.1:3306/any", 32 * MIB),
        ("database", "postgres://postgres@127.0.0.1:5432/any", 32 * MIB),
        ("database", "mysql://root@127.0.0.1:3306/any", 12 * MIB),  # a record must fit max_allowed_packet (16 MiB)
    ],
)
def test_the_default_trim_bound_fits_the_ingest_store(store, database, expected):
    """Read by a fresh process, as a deployment would (no database connection is made)."""
    env = {
        **os.environ,
        "INGEST_STORE": store,
        "DATABASE_URL": database,
        "DJANGO_SETTINGS_MODULE": "testing.settings",
    }
    env.pop("MAX_EVENT_TRIM_SIZE", None)
    code = "from django.conf import settings; print(settings.MAX_EVENT_TRIM_SIZE)"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) == expected


# --- over the trim bound: refused, logged, counted ------------------------------------------------------------


def test_an_event_over_the_trim_bound_is_refused_logged_and_counted(member_client, project, settings, caplog):
    settings.MAX_EVENT_TRIM_SIZE = 2 * MIB
    event = deep_event([frame(0, {"blob": "z" * (3 * MIB)})])
    with caplog.at_level(logging.WARNING, logger="ingest.refusals"):
        response = post_envelope(member_client, project, event)
    assert response.status_code == 413
    assert "event exceeds 2097152 bytes" in response.json()["detail"]
    assert not Event.objects.exists()
    [record] = [r for r in caplog.records if r.name == "ingest.refusals"]
    assert f"project {project.pk}" in record.getMessage() and "at least" in record.getMessage()
    refused = RefusedEvents.objects.get(project=project)
    assert refused.count == 1 and refused.last_size > 2 * MIB and "event exceeds" in refused.last_reason

    assert post_envelope(member_client, project, event).status_code == 413
    assert RefusedEvents.objects.get(project=project).count == 2
    page = member_client.get(reverse("issues:project", args=[project.pk])).content.decode()
    assert "data-refused-events" in page and "2 events refused as too large (413)" in page
    assert "event exceeds 2097152 bytes" in page


def test_the_project_page_is_quiet_without_refusals(member_client, project):
    page = member_client.get(reverse("issues:project", args=[project.pk])).content.decode()
    assert "data-refused-events" not in page


def test_a_content_length_over_the_envelope_limit_is_counted_with_its_size(client, project, caplog):
    body = make_envelope(exception_event())
    with caplog.at_level(logging.WARNING, logger="ingest.refusals"):
        response = client.post(
            f"/api/{project.pk}/envelope/",
            data=body,
            content_type="application/x-sentry-envelope",
            CONTENT_LENGTH=str(30 * MIB),
            **auth_header(project),
        )
    assert response.status_code == 413
    assert RefusedEvents.objects.get(project=project).last_size == 30 * MIB
    assert f"at least {30 * MIB} bytes" in caplog.text


def test_a_refusal_without_a_verified_key_is_logged_not_counted(client, project, caplog):
    """The key only in the envelope header (sentry-ruby does this), and a Content-Length over the limit: refused
    before that header is read. Anyone can name a project id, so only the log says it."""
    with caplog.at_level(logging.WARNING, logger="ingest.refusals"):
        response = client.post(
            f"/api/{project.pk}/envelope/",
            data=b"{}\n",
            content_type="application/x-sentry-envelope",
            CONTENT_LENGTH=str(30 * MIB),
        )
    assert response.status_code == 413
    assert not RefusedEvents.objects.exists()
    assert f"project {project.pk}" in caplog.text and "not counted" in caplog.text
