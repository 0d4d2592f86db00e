"""The issue's acceptance, end to end with the real tools: esbuild builds a minified bundle with a source map,
`sentry-cli sourcemaps inject` and `sentry-cli sourcemaps upload` send it to the live server, the real @sentry/node
11.12.0 throws from that bundle and reports to the live server, and the stored event shows the original functions,
files and lines; a second build with a changed line (the same functions) groups into the same issue."""

import shutil

import pytest
from django.contrib.auth import get_user_model

from api.models import ApiToken, Scope
from api.tests.cli import cli_env, run_cli
from artifacts.models import ArtifactBundle, ReleaseFile
from digest.tests.test_symbolicate import ORDERS_JS, build, esbuild, frames_of  # noqa: F401 (fixtures)
from ingest.tests.test_real_sdks import (  # noqa: F401 (node_sdk is a fixture)
    CLIENTS_DIR,
    NODE_SDK_VERSION,
    client_env,
    dsn_for,
    node_sdk,
    run_client,
    wait_for_events,
)
from issues.models import Issue
from projects.models import Project, ProjectMembership, Role

pytestmark = [pytest.mark.live]


@pytest.fixture
def shop(transactional_db, live_server_url, tmp_path):
    user = get_user_model().objects.create_user("ci", "ci@example.com", "pw")
    project = Project.objects.create(name="Shop web", slug="shop-web")
    ProjectMembership.objects.create(project=project, user=user, role=Role.ADMIN)
    _, token = ApiToken.create_for(user, "ci", scope=Scope.WRITE)
    home = tmp_path / "home"
    home.mkdir()
    return project, cli_env(home, live_server_url, token, "shop-web")


def throw_from(bundle, node_sdk, project, live_server_url, release):  # noqa: F811
    result = run_client(
        [
            shutil.which("node"),
            str(CLIENTS_DIR / "node_bundle_client.js"),
            dsn_for(project, live_server_url),
            str(bundle),
            release,
        ],
        client_env(NODE_PATH=str(node_sdk)),
    )
    assert result["sdk_version"] == NODE_SDK_VERSION
    assert result["flushed"] is True, result["output"]
    return result


def test_upload_with_sentry_cli_then_the_node_sdk_reports(shop, build, node_sdk, live_server_url):  # noqa: F811
    project, env = shop
    dist = build()
    run_cli(env, "sourcemaps", "upload", str(dist))
    assert ArtifactBundle.objects.filter(projects=project).count() == 1
    result = throw_from(dist / "app.min.js", node_sdk, project, live_server_url, "shop-web@1.0.0")
    (first,) = wait_for_events(project, result["event_ids"], result["output"])

    by_function = {frame["function"]: frame for frame in frames_of(first)}
    root = dist.parent
    checkout, parse_order, require_items = (
        by_function["checkout"],
        by_function["parseOrder"],
        by_function["requireItems"],
    )
    assert (checkout["filename"], checkout["lineno"]) == (str(root / "src/app.js"), 4)
    assert (parse_order["filename"], parse_order["lineno"]) == (str(root / "src/orders.js"), 5)
    assert parse_order["context_line"] == "  requireItems(data);"
    assert require_items["filename"] == str(root / "node_modules/tiny-validate/index.js")
    assert require_items["in_app"] is False and parse_order["in_app"] is True
    assert parse_order["data"]["resolved_with"] == "debug-id"
    assert parse_order["data"]["minified"]["filename"] == str(dist / "app.min.js")
    assert first.data.get("errors") is None, first.data.get("errors")
    issue = Issue.objects.get(pk=first.issue_id)
    assert issue.title() == "Error: order has no items"
    assert issue.culprit == f"{root / 'src/orders.js'} in parseOrder"

    # the next release: one more line above the call, rebuilt in place, uploaded with --release this time
    changed = ORDERS_JS.replace("  requireItems(data);\n", "  // the total needs items\n  requireItems(data);\n")
    dist = build(orders=changed)
    run_cli(env, "sourcemaps", "upload", "--release", "shop-web@1.0.1", str(dist))
    assert ReleaseFile.objects.filter(project=project, release="shop-web@1.0.1").count() == 2
    result = throw_from(dist / "app.min.js", node_sdk, project, live_server_url, "shop-web@1.0.1")
    (second,) = wait_for_events(project, [first.event_id.hex, *result["event_ids"]], result["output"])[1:]

    parse_order = {frame["function"]: frame for frame in frames_of(second)}["parseOrder"]
    assert (parse_order["filename"], parse_order["lineno"]) == (str(root / "src/orders.js"), 6)
    assert second.data.get("errors") is None, second.data.get("errors")
    assert second.issue_id == first.issue_id
    issue.refresh_from_db()
    assert issue.event_count == 2
    assert (first.release, second.release) == ("shop-web@1.0.0", "shop-web@1.0.1")
