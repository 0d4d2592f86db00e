"""Scale-out without a shared disk, for files too (INGEST_STORE=database, so FILE_STORE=database by default): two web
nodes and a digest worker, each with a data folder (and ARTIFACTS_DIR, ATTACHMENTS_DIR, INGEST_STORE_DIR) of its
own, sharing only PostgreSQL and Redis. The real sentry-cli uploads a built app's source maps to node A; the event
that app throws, with an attachment, goes to node B; the worker symbolicates it with the map node A stored, the
attachment downloads from node A's event page, and no node wrote a file into its artifact or attachment folder.
Runs in CI against the real services; outside CI it is skipped when they are down."""

import http.cookiejar
import json
import os
import re
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from api.tests.cli import cli_env, run_cli
from digest.tests.test_symbolicate import build, esbuild, node_event  # noqa: F401 (fixtures)
from events.tests.test_items import attachment, envelope
from ingest.tests.test_scale_out import fresh_cluster_services, manage
from testing.utils import live_redis_url, start_celery_worker, start_web_server, wait_until

psycopg = pytest.importorskip("psycopg")

DATABASE = f"culvert_scale_out_files_test_{os.getpid()}"  # per test process, as ingest/tests/test_scale_out.py
BROKER_URL = live_redis_url(12)
PASSWORD = "scale-out-password"
LOG = b"2026-11-29 checkout started\n" * 200

SETUP = """
from django.contrib.auth import get_user_model
from api.models import ApiToken, Scope
from projects.models import Project, ProjectMembership, Role
user = get_user_model().objects.create_user("ops", "ops@example.com", {password!r})
project = Project.objects.get(slug="shop-web")
ProjectMembership.objects.create(project=project, user=user, role=Role.ADMIN)
print(ApiToken.create_for(user, "ci", scope=Scope.WRITE)[1])
"""


@pytest.fixture
def cluster_database():
    """A PostgreSQL database of this test's own (not the other scale-out test's), and a Redis database."""
    with fresh_cluster_services(DATABASE, BROKER_URL) as url:
        yield url


def query(database_url: str, sql: str, *params) -> list[tuple]:
    with psycopg.connect(database_url.replace("postgres://", "postgresql://")) as conn:
        return conn.execute(sql, params).fetchall()


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def logged_in(base_url: str):
    """An opener with a session on that node, logged in through its login form."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), urllib.request.ProxyHandler({})
    )
    form = opener.open(f"{base_url}/accounts/login/", timeout=30).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": "ops", "password": PASSWORD}).encode()
    response = opener.open(urllib.request.Request(f"{base_url}/accounts/login/", data=body), timeout=30)
    assert "/accounts/login/" not in response.geturl(), "logged in"
    return opener


def post_envelope(base_url: str, project_id: str, key: str, body: bytes) -> int:
    request = urllib.request.Request(
        f"{base_url}/api/{project_id}/envelope/?sentry_key={key}",
        data=body,
        headers={"Content-Type": "application/x-sentry-envelope"},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=30) as response:
        return response.status


@pytest.mark.slow
def test_source_maps_and_attachments_cross_nodes_through_the_database(cluster_database, tmp_path, build):  # noqa: F811
    shared = {
        "DATABASE_URL": cluster_database,
        "CELERY_BROKER_URL": BROKER_URL,
        "INGEST_STORE": "database",  # and so FILE_STORE=database: nothing else is set for the files
        "JOBS_NAMESPACE": f"scale-out-files-{uuid.uuid4().hex[:8]}",
    }
    folders = {name: tmp_path / name for name in ("node-a", "node-b", "worker")}
    for folder in folders.values():
        folder.mkdir()
    setup_env = {k: v for k, v in os.environ.items() if k != "FILE_STORE"}
    setup_env.update(DJANGO_SETTINGS_MODULE="testing.settings", BUGSINK_DATA_DIR=str(tmp_path / "setup"), **shared)
    manage(setup_env, "migrate", "-v0")
    dsn = urlsplit(manage(setup_env, "createproject", "Shop web", "--slug", "shop-web"))
    key, project_id = dsn.username, dsn.path.strip("/")
    token = manage(setup_env, "shell", "-c", SETUP.format(password=PASSWORD)).splitlines()[-1]

    def node_env(folder: Path) -> dict:
        return {
            **shared,
            "FILE_STORE": "",  # whatever the suite's shell had: the default that INGEST_STORE=database gives
            "INGEST_STORE_DIR": str(folder / "ingest"),
            "ARTIFACTS_DIR": str(folder / "artifacts"),
            "ATTACHMENTS_DIR": str(folder / "attachments"),
        }

    dist = build()
    event = {**node_event(dist), "event_id": uuid.uuid4().hex}
    node_a = start_web_server(folders["node-a"], extra_env=node_env(folders["node-a"]))
    node_b = start_web_server(folders["node-b"], extra_env=node_env(folders["node-b"]))
    with node_a as url_a, node_b as url_b:
        home = tmp_path / "home"
        home.mkdir()
        run_cli(cli_env(home, url_a, token, "shop-web"), "sourcemaps", "upload", str(dist))
        assert query(cluster_database, "SELECT count(*) FROM artifacts_artifactbundle")[0][0] == 1

        with start_celery_worker(folders["worker"], "digest", node_env(folders["worker"]), name="digest") as worker:
            body = envelope(event, [attachment("checkout.log", LOG, content_type="text/plain")])
            assert post_envelope(url_b, project_id, key, body) == 200

            def stored() -> list[tuple]:
                return query(
                    cluster_database,
                    "SELECT id, issue_id, data_json FROM events_event WHERE event_id = %s",
                    uuid.UUID(event["event_id"]),
                )

            ((event_pk, issue_id, data_json),) = wait_until(
                stored, 60, message="the event digested", details=worker.output
            )

        data = json.loads(data_json)
        frames = {frame.get("function"): frame for frame in data["exception"]["values"][0]["stacktrace"]["frames"]}
        parse_order = frames["parseOrder"]
        assert parse_order["filename"].endswith("src/orders.js") and parse_order["lineno"] == 5, parse_order
        assert parse_order["context_line"] == "  requireItems(data);"
        assert parse_order["data"]["resolved_with"] == "debug-id"
        assert data.get("errors") is None, data.get("errors")

        ((attachment_pk, size),) = query(
            cluster_database, "SELECT id, size FROM events_attachment WHERE event_id = %s", event_pk
        )
        assert size == len(LOG)
        url = f"{url_a}/issues/{issue_id}/events/{event_pk}/attachments/{attachment_pk}/"
        with logged_in(url_a).open(url, timeout=30) as response:
            assert response.status == 200 and response.read() == LOG
            assert response.headers["Content-Disposition"].startswith("attachment")

    keys = {key for (key,) in query(cluster_database, "SELECT key FROM blobs_blob")}
    assert any(k.startswith("artifact/") for k in keys) and f"attachment/{project_id}/" in " ".join(keys)
    for folder in folders.values():
        for sub in ("artifacts", "attachments"):
            assert files_under(folder / sub) == [], f"no file under {folder.name}/{sub}"
