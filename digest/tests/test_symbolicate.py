"""JavaScript symbolication at digest, on real builds: esbuild (npm, pinned) bundles and minifies a small app with
a library from node_modules, `sentry-cli sourcemaps inject` gives it debug ids, node runs it and reports where the
error was thrown (ingest/tests/sdk_clients/stack_of.js), and the event made from that stack is digested against
the files stored as an upload stores them (artifacts.tests.uploads). The event page is rendered through the client.
"""

import html
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from artifacts import lookup as artifacts_lookup
from artifacts.models import ArtifactBundle, ReleaseFile
from artifacts.tests.uploads import debug_id_of, store_bundle, store_folder, store_release_file
from digest.batch import digest, digest_event
from events.models import Event
from issues.models import Grouping, Issue
from projects.models import Project, ProjectMembership
from testing.npm_cache import npm_package
from testing.utils import require_service, store_event

ESBUILD_VERSION = "0.28.2"
CLIENTS_DIR = Path(__file__).resolve().parents[2] / "ingest" / "tests" / "sdk_clients"  # the SDK clients of ingest
TOOL_TIMEOUT = 120

APP_JS = """import { parseOrder } from "./orders.js";

export function checkout(text) {
  const order = parseOrder(text);
  return order.total;
}
"""
ORDERS_JS = """import { requireItems } from "tiny-validate";

export function parseOrder(text) {
  const data = JSON.parse(text);
  requireItems(data);
  return { total: data.items.length };
}
"""
LIBRARY_JS = """export function requireItems(data) {
  if (!data.items) {
    throw new Error("order has no items");
  }
}
"""


# --- building, running, storing ---------------------------------------------------------------------------------


def tool_env() -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.upper().startswith("SENTRY_") and not k.lower().endswith("_proxy")
    }
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def run_tool(command: list, cwd: Path) -> str:
    try:
        result = subprocess.run(
            [str(part) for part in command],
            cwd=cwd,
            env=tool_env(),
            capture_output=True,
            text=True,
            timeout=TOOL_TIMEOUT,
        )
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"{command[0]} did not finish within {TOOL_TIMEOUT} s: {error.stderr}")
    assert result.returncode == 0, f"{command}\n--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
    return result.stdout


def sentry_cli() -> Path:
    candidate = Path(sys.executable).parent / "sentry-cli"
    found = candidate if candidate.exists() else shutil.which("sentry-cli")
    require_service(bool(found), "sentry-cli is needed (requirements-dev.txt installs it into the venv)")
    return Path(found)


@pytest.fixture(scope="session")
def esbuild() -> Path:
    return npm_package("esbuild", "esbuild", ESBUILD_VERSION) / ".bin" / "esbuild"


@pytest.fixture
def build(esbuild, tmp_path):
    """Build the app (src/app.js + src/orders.js + node_modules/tiny-validate) into <folder>/dist/app.min.js with a
    source map (a file next to it, or inline), debug ids injected unless asked not to; returns the dist folder."""

    def _build(orders: str = ORDERS_JS, folder: str = "app", sourcemap: str = "linked", inject: bool = True) -> Path:
        root = tmp_path / folder
        for path, text in {
            "src/app.js": APP_JS,
            "src/orders.js": orders,
            "node_modules/tiny-validate/index.js": LIBRARY_JS,
            "node_modules/tiny-validate/package.json": json.dumps({"name": "tiny-validate", "module": "index.js"}),
        }.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text)
        shutil.rmtree(root / "dist", ignore_errors=True)
        options = ["--bundle", "--minify", f"--sourcemap={sourcemap}", "--format=cjs", "--platform=node"]
        run_tool([esbuild, "src/app.js", *options, "--outfile=dist/app.min.js", "--log-level=warning"], root)
        if inject:
            run_tool([sentry_cli(), "sourcemaps", "inject", "dist"], root)
        return root / "dist"

    return _build


def thrown_stack(dist: Path) -> dict:
    """Run the built app under node: checkout("{}") throws; its frames as the SDK reports them."""
    node = shutil.which("node")
    require_service(bool(node), "node is needed to run the built app")
    output = run_tool([node, CLIENTS_DIR / "stack_of.js", dist / "app.min.js", "checkout", "{}"], CLIENTS_DIR)
    (line,) = [line for line in output.splitlines() if line.startswith("RESULT ")]
    return json.loads(line.removeprefix("RESULT "))


def node_event(dist: Path, *, release: str = "", debug_meta: bool = True, url_of=None, debug_id: str = "") -> dict:
    """The event @sentry/node sends for the thrown error: the bundle's frames (plus one of node's own), and the
    bundle's debug id in debug_meta. `url_of(path)` renames the bundle's file (a browser's URL)."""
    stack = thrown_stack(dist)
    bundle = dist / "app.min.js"
    filename = url_of(bundle) if url_of else str(bundle)
    frames = [
        {"filename": "node:internal/modules/cjs/loader", "function": "Module._compile", "lineno": 1521, "colno": 14}
    ]
    for frame in stack["frames"]:
        if frame["filename"] == str(bundle):
            frames.append({**frame, "filename": filename, "module": "dist:app.min", "in_app": True})
    assert len(frames) == 4, stack  # requireItems, parseOrder, checkout
    event = {
        "platform": "node",
        "exception": {
            "values": [
                {
                    "type": stack["type"],
                    "value": stack["value"],
                    "stacktrace": {"frames": frames},
                    "mechanism": {"type": "generic", "handled": True},
                }
            ]
        },
    }
    if release:
        event["release"] = release
    if debug_meta:
        image = {"type": "sourcemap", "code_file": filename, "debug_id": debug_id or debug_id_of(bundle)}
        event["debug_meta"] = {"images": [image]}
    return event


def digested(project, event: dict) -> Event:
    stored = digest_event(store_event(project, event))
    return Event.objects.get(pk=stored.pk)


def frames_of(event: Event) -> list[dict]:
    return event.data["exception"]["values"][0]["stacktrace"]["frames"]


def errors_of(event: Event) -> list[dict]:
    return event.data.get("errors") or []


@pytest.fixture
def page(client, project, django_user_model):
    user = django_user_model.objects.create_user("reader")
    ProjectMembership.objects.create(project=project, user=user)
    client.force_login(user)

    def _page(event: Event) -> str:
        response = client.get(reverse("issue:stacktrace", args=[event.issue_id]))
        assert response.status_code == 200
        return html.unescape(response.content.decode())

    return _page


# --- by debug id ------------------------------------------------------------------------------------------------


def test_frames_map_to_the_original_functions_files_lines_and_source(project, build, page):
    dist = build()
    store_folder(project, dist)
    event = digested(project, node_event(dist))

    node_internal, checkout, parse_order, require_items = frames_of(event)
    assert node_internal["filename"] == "node:internal/modules/cjs/loader"
    assert "data" not in node_internal
    root = dist.parent
    assert (checkout["function"], checkout["abs_path"], checkout["lineno"]) == (
        "checkout",
        str(root / "src/app.js"),
        4,
    )
    assert checkout["context_line"] == "  const order = parseOrder(text);"
    assert checkout["pre_context"] == [
        'import { parseOrder } from "./orders.js";',
        "",
        "export function checkout(text) {",
    ]
    assert checkout["post_context"] == ["  return order.total;", "}", ""]
    assert (parse_order["function"], parse_order["filename"], parse_order["lineno"]) == (
        "parseOrder",
        str(root / "src/orders.js"),
        5,
    )
    assert parse_order["context_line"] == "  requireItems(data);"
    assert (require_items["function"], require_items["lineno"], require_items["in_app"]) == ("requireItems", 3, False)
    assert require_items["filename"] == str(root / "node_modules/tiny-validate/index.js")
    assert require_items["context_line"] == '    throw new Error("order has no items");'
    assert checkout["in_app"] is True and "module" not in checkout

    # what the SDK sent stays with the frame
    minified = checkout["data"]["minified"]
    assert minified["filename"] == str(dist / "app.min.js")
    assert minified["lineno"] > 1 and minified["colno"] > 1 and minified["function"] != "checkout"
    assert checkout["data"]["symbolicated"] is True and checkout["data"]["resolved_with"] == "debug-id"
    assert errors_of(event) == []

    # grouping and the culprit speak of the original source
    issue = Issue.objects.get(pk=event.issue_id)
    assert issue.culprit == f"{root / 'src/orders.js'} in parseOrder"
    assert issue.title() == "Error: order has no items"
    grouping = Grouping.objects.get(issue=issue)
    assert "src/orders.js:parseOrder" in grouping.grouping_key and "app.min.js" not in grouping.grouping_key

    text = page(event)
    assert "parseOrder" in text and "src/orders.js" in text
    assert re.search(r'<details class="frame-minified">\s*<summary[^>]*>Source-mapped by debug id', text)
    assert f'{dist / "app.min.js"}</bdi> <span class="muted">in</span>' in text
    assert "Not mapped to the original source" not in text


def test_a_rebuild_with_a_changed_line_joins_the_same_issue(project, build):
    dist = build()
    store_folder(project, dist)
    first = digested(project, node_event(dist))
    first_bundle_debug_id = debug_id_of(dist / "app.min.js")

    changed = ORDERS_JS.replace(
        "  requireItems(data);\n", "  // validated here, before the total\n  requireItems(data);\n"
    )
    dist = build(orders=changed)
    assert debug_id_of(dist / "app.min.js") != first_bundle_debug_id
    store_folder(project, dist)
    second = digested(project, node_event(dist))

    assert frames_of(first)[2]["lineno"] == 5 and frames_of(second)[2]["lineno"] == 6
    assert frames_of(second)[2]["context_line"] == "  requireItems(data);"
    assert second.issue_id == first.issue_id
    assert Issue.objects.get(pk=first.issue_id).event_count == 2


def test_the_issue_of_events_sent_before_the_maps_were_uploaded_keeps_them(project, build):
    """Before the upload the event groups on minified frames; after it, on the original ones: the issue made
    before is found under the key as it was (digest.batch looks up that legacy key first) and then keeps the
    events of later builds."""
    dist = build()
    before = digested(project, node_event(dist))
    assert frames_of(before)[2]["function"] != "parseOrder"

    store_folder(project, dist)
    after = digested(project, node_event(dist))
    assert frames_of(after)[2]["function"] == "parseOrder"
    assert after.issue_id == before.issue_id

    dist = build(orders=ORDERS_JS.replace("  requireItems(data);\n", "\n  requireItems(data);\n"))
    store_folder(project, dist)
    rebuilt = digested(project, node_event(dist))
    assert rebuilt.issue_id == before.issue_id
    assert Issue.objects.get().event_count == 3


def test_a_batch_parses_each_map_once_and_asks_the_database_once_per_file(
    project, build, monkeypatch, django_assert_max_num_queries
):
    dist = build()
    store_folder(project, dist)
    parsed = []
    real_parse = artifacts_lookup.parse_sourcemap
    monkeypatch.setattr(artifacts_lookup, "parse_sourcemap", lambda data: parsed.append(len(data)) or real_parse(data))
    event = node_event(dist)
    keys = [store_event(project, event) for _ in range(12)]

    # the batch with its new issue (about 20), and for symbolication one query for the debug id: not one per frame
    with django_assert_max_num_queries(24):
        assert digest(keys[0]) == 12

    assert len(parsed) == 1
    assert Issue.objects.get().event_count == 12
    assert all(frames_of(e)[3]["function"] == "requireItems" for e in Event.objects.all())


def test_using_a_bundle_bumps_its_last_use_at_most_daily(project, build):
    dist = build()
    bundle = store_folder(project, dist)
    long_ago = timezone.now() - timedelta(days=30)
    ArtifactBundle.objects.filter(pk=bundle.pk).update(date_last_used=long_ago)

    digested(project, node_event(dist))
    bumped = ArtifactBundle.objects.get(pk=bundle.pk).date_last_used
    assert bumped > timezone.now() - timedelta(minutes=5)

    an_hour_ago = timezone.now() - timedelta(hours=1)
    ArtifactBundle.objects.filter(pk=bundle.pk).update(date_last_used=an_hour_ago)
    digested(project, node_event(dist))
    assert ArtifactBundle.objects.get(pk=bundle.pk).date_last_used == an_hour_ago


def test_using_a_release_file_bumps_its_last_use_at_most_daily(project, build):
    dist = build(inject=False)
    minified = store_release_file(project, "1.0", "~/app.min.js", (dist / "app.min.js").read_bytes())
    sourcemap = store_release_file(project, "1.0", "~/app.min.js.map", (dist / "app.min.js.map").read_bytes())
    long_ago = timezone.now() - timedelta(days=30)
    ReleaseFile.objects.update(date_last_used=long_ago)

    event = digested(project, node_event(dist, release="1.0", debug_meta=False, url_of=lambda p: "app:///app.min.js"))
    assert frames_of(event)[1]["function"] == "checkout"
    for row in (minified, sourcemap):
        assert ReleaseFile.objects.get(pk=row.pk).date_last_used > timezone.now() - timedelta(minutes=5)


def test_bundles_of_other_projects_are_not_used(project, build):

    dist = build()
    store_folder(Project.objects.create(name="Other", slug="other"), dist)
    event = digested(project, node_event(dist))

    assert frames_of(event)[1]["function"] != "checkout"
    assert [e["type"] for e in errors_of(event)] == ["js_no_source"]


# --- by release and file name -----------------------------------------------------------------------------------


def test_a_bundle_uploaded_with_a_release_maps_frames_by_file_name(project, build):
    dist = build(inject=False)
    store_folder(project, dist, release="shop@1.0")
    event = digested(
        project,
        node_event(dist, release="shop@1.0", debug_meta=False, url_of=lambda p: "https://shop.example/app.min.js"),
    )

    checkout = frames_of(event)[1]
    assert checkout["function"] == "checkout"
    assert checkout["abs_path"] == "https://shop.example/src/app.js"  # the map's "../src/app.js", from the map's URL
    assert checkout["data"]["resolved_with"] == "release"
    assert checkout["data"]["sourcemap"] == "https://shop.example/app.min.js.map"
    assert checkout["data"]["minified"]["filename"] == "https://shop.example/app.min.js"
    assert frames_of(event)[3]["in_app"] is False
    assert errors_of(event) == []


def test_legacy_release_files_with_a_sourcemap_header_and_a_full_url_name(project, build):
    dist = build(inject=False)
    minified = (dist / "app.min.js").read_bytes().replace(b"//# sourceMappingURL=app.min.js.map", b"")
    store_release_file(project, "2.0", "https://cdn.example/js/app.min.js", minified, {"Sourcemap": "maps/app.map"})
    store_release_file(project, "2.0", "~/js/maps/app.map", (dist / "app.min.js.map").read_bytes())
    event = digested(
        project, node_event(dist, release="2.0", debug_meta=False, url_of=lambda p: "https://cdn.example/js/app.min.js")
    )

    parse_order = frames_of(event)[2]
    assert (parse_order["function"], parse_order["lineno"]) == ("parseOrder", 5)
    assert parse_order["data"]["sourcemap"] == "https://cdn.example/js/maps/app.map"
    assert errors_of(event) == []


def test_an_inline_data_url_source_map(project, build):
    dist = build(sourcemap="inline", inject=False)
    assert b"sourceMappingURL=data:application/json;base64," in (dist / "app.min.js").read_bytes()
    store_release_file(project, "3.0", "~/app.min.js", (dist / "app.min.js").read_bytes())
    event = digested(project, node_event(dist, release="3.0", debug_meta=False, url_of=lambda p: "app:///app.min.js"))

    checkout = frames_of(event)[1]
    assert (checkout["function"], checkout["abs_path"], checkout["lineno"]) == ("checkout", "app:///src/app.js", 4)
    assert checkout["data"]["sourcemap"] == "(inline)"


def test_a_release_file_whose_map_was_not_uploaded(project, build, page):
    dist = build(inject=False)
    store_release_file(project, "4.0", "~/app.min.js", (dist / "app.min.js").read_bytes())
    event = digested(project, node_event(dist, release="4.0", debug_meta=False, url_of=lambda p: "app:///app.min.js"))

    assert frames_of(event)[1]["function"] != "checkout" and "data" not in frames_of(event)[1]
    assert errors_of(event) == [
        {
            "type": "js_missing_source",
            "data": {
                "url": "app:///app.min.js",
                "reason": "the source map app:///app.min.js.map was not uploaded for 4.0",
            },
        }
    ]
    assert "Source map not uploaded" in page(event)


# --- what cannot be mapped: frames stay as sent, the event says why --------------------------------------------------


def unchanged(event: Event, sent: dict) -> bool:
    return frames_of(event) == sent["exception"]["values"][0]["stacktrace"]["frames"]


def test_a_debug_id_nobody_uploaded(project, build, page):
    dist = build()
    sent = node_event(dist)
    event = digested(project, sent)

    assert unchanged(event, sent)
    debug_id = debug_id_of(dist / "app.min.js")
    assert errors_of(event) == [
        {
            "type": "js_no_source",
            "data": {
                "url": str(dist / "app.min.js"),
                "reason": f"no source map with debug id {debug_id} was uploaded for this project",
            },
        }
    ]
    text = page(event)
    assert "Not mapped to the original source" in text
    assert f'No source map found</strong> <bdi class="mono">{dist / "app.min.js"}</bdi>' in text
    assert debug_id in text


def test_a_wrong_debug_id_falls_back_to_the_release_and_says_both(project, build):
    dist = build()
    store_folder(project, dist)
    wrong = str(uuid.uuid4())
    sent = node_event(dist, debug_id=wrong, release="9.9")
    event = digested(project, sent)

    assert unchanged(event, sent)
    (error,) = errors_of(event)
    assert error["type"] == "js_no_source"
    assert error["data"]["reason"] == f"no source map with debug id {wrong} was uploaded for this project; " + (
        f"release 9.9 has no file ~{dist / 'app.min.js'}"
    )


def test_a_broken_source_map(project, build, page):
    dist = build()
    (dist / "app.min.js.map").write_text(
        f'{{"version": 3, "debugId": "{debug_id_of(dist / "app.min.js")}", "mappings": ['
    )
    store_folder(project, dist)
    sent = node_event(dist)
    event = digested(project, sent)

    assert unchanged(event, sent)
    (error,) = errors_of(event)
    assert error["type"] == "js_invalid_source"
    assert error["data"]["reason"].startswith("the source map cannot be parsed")
    assert "Unreadable source map" in page(event)


def test_a_source_map_over_the_size_limit(project, build, settings, page):
    dist = build()
    store_folder(project, dist)
    settings.SOURCEMAP_MAX_BYTES = (dist / "app.min.js.map").stat().st_size - 1
    sent = node_event(dist)
    event = digested(project, sent)

    assert unchanged(event, sent)
    (error,) = errors_of(event)
    assert error["type"] == "js_too_large"
    assert f"larger than {settings.SOURCEMAP_MAX_BYTES} bytes" in error["data"]["reason"]
    assert "Source map too large" in page(event)


def test_a_corrupt_bundle_zip(project, build):
    dist = build()
    bundle = store_folder(project, dist)
    path = artifacts_lookup.blob_path(bundle.blob.checksum)
    path.write_bytes(path.read_bytes()[:40])  # truncated on disk
    sent = node_event(dist)
    event = digested(project, sent)

    assert unchanged(event, sent)
    assert [e["type"] for e in errors_of(event)] == ["js_invalid_source"]


def test_a_position_outside_the_map(project, build):
    dist = build()
    store_folder(project, dist)
    sent = node_event(dist)
    for frame in sent["exception"]["values"][0]["stacktrace"]["frames"][1:]:
        frame["lineno"] = 9000
    event = digested(project, sent)

    assert unchanged(event, sent)
    (error,) = errors_of(event)
    assert error["type"] == "js_invalid_sourcemap_location"
    assert error["data"]["reason"].startswith("the source map has no mapping for line 9000")


def test_frames_past_the_limit_stay_as_sent(project, build, settings):
    settings.SYMBOLICATE_MAX_FRAMES = 2
    dist = build()
    store_folder(project, dist)
    event = digested(project, node_event(dist))

    _, checkout, parse_order, require_items = frames_of(event)
    assert (checkout["function"], parse_order["function"]) == ("checkout", "parseOrder")
    assert "data" not in require_items
    assert [e["type"] for e in errors_of(event)] == ["js_too_many_frames"]


def test_hostile_debug_meta_and_frames_are_ignored(project):
    event = {
        "platform": "javascript",
        "release": "1.0",
        "debug_meta": {"images": [None, 3, {"type": "sourcemap", "code_file": ["x"], "debug_id": "nope"}, "x"]},
        "exception": {
            "values": [
                {
                    "type": "Error",
                    "value": "x",
                    "stacktrace": {
                        "frames": [
                            {"filename": "https://x.example/a.js", "lineno": "1", "colno": None},
                            {"filename": "https://x.example/a.js", "lineno": 0, "colno": 0},
                            {"filename": ["no"], "lineno": 1, "colno": 1},
                            {"abs_path": "https://x.example/a.js", "lineno": 1, "colno": 1, "data": "x"},
                        ]
                    },
                }
            ]
        },
    }
    store_bundle(project, {"other.js": b"x"}, release="1.0")
    stored = digested(project, event)
    assert stored.issue_id is not None
    assert [(e["type"], e["data"]["url"]) for e in errors_of(stored)] == [
        ("js_no_source", '["no"]'),  # normalized to text: as good a name as any, and not found
        ("js_no_source", "https://x.example/a.js"),
    ]
