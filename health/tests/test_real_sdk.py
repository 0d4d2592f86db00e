"""End to end with the real Python sentry-sdk, each major (ingest/tests/sdks.py), against the live web server
(embedded mode: it digests on its own background thread): a healthy and a crashed session of a release show that
release 50% crash-free on its page; tracing data (2.x's transactions, 3.x's streamed spans) is answered with
X-Sentry-Rate-Limits naming its category (seen in the raw answer and in the SDK's own log, which then drops the next
one); no traceback in the server's log."""

import sys
import urllib.request
from pathlib import Path

import pytest

from health.models import DiscardCount, SessionBucket
from health.tests.conftest import envelope
from ingest.tests.sdks import PythonSdk
from ingest.tests.test_real_sdks import client_env, dsn_for, run_client
from issues.models import Issue
from projects.models import Project
from testing.utils import start_web_server, wait_until

CLIENT = Path(__file__).resolve().parent / "sdk_clients" / "health_client.py"

pytestmark = [pytest.mark.live]


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory):
    """This module's own live server (as `make run`), so that its log can be read."""
    with django_db_blocker.unblock():
        web = start_web_server(tmp_path_factory.mktemp("health-live"))
        with web:
            yield web


@pytest.fixture
def live_server_url(server):
    return server.url


@pytest.fixture
def shop(transactional_db):
    return Project.objects.create(name="Health shop")


def run_health_client(project, live_server_url, scenario, sdk: PythonSdk) -> dict:
    command = [sys.executable, str(CLIENT), dsn_for(project, live_server_url), scenario]
    result = run_client(command, client_env(**sdk.env()))
    assert result["sdk_version"] == sdk.version, result["output"]
    return result


def test_a_healthy_and_a_crashed_session_make_the_release_50_percent_crash_free(
    each_python_sdk, shop, server, live_server_url, client, django_user_model
):
    result = run_health_client(shop, live_server_url, "sessions", each_python_sdk)

    def digested():
        rows = list(SessionBucket.objects.filter(project=shop, release="shop@2.0.0"))
        done = rows and sum(r.started for r in rows) == 2 and sum(r.crashed for r in rows) == 1
        return rows if done and Issue.objects.filter(project=shop).exists() else None

    wait_until(digested, 20, message="the two sessions and the crash", details=lambda: result["output"])
    client.force_login(django_user_model.objects.create_user(username="lead", password="pw", is_superuser=True))
    html = client.get(f"/projects/{shop.pk}/releases/shop@2.0.0/").content.decode()
    assert "data-crash-free-sessions>50%<" in html, result["output"]
    listing = client.get(f"/projects/{shop.pk}/releases/").content.decode()
    assert "data-crash-free-sessions>50%<" in listing
    assert "Traceback" not in result["output"]
    assert "Traceback" not in server.output()


# what each major sends for a finished root span: 2.x a transaction, 3.x the span itself (it has no transactions)
TRACING_ITEMS = {
    "2": ("transaction", {"type": "transaction", "transaction": "raw"}),
    "3": ("span", {"items": [{"trace_id": "a" * 32, "span_id": "b" * 16, "name": "raw", "is_segment": True}]}),
}


def test_tracing_data_is_answered_with_a_rate_limit_on_its_category(each_python_sdk, shop, server, live_server_url):
    item_type, payload = TRACING_ITEMS[each_python_sdk.major]
    body = envelope([(item_type, payload)])
    request = urllib.request.Request(
        f"{live_server_url}/api/{shop.pk}/envelope/?sentry_key={shop.sentry_key}",
        data=body,
        headers={"Content-Type": "application/x-sentry-envelope"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert item_type in response.headers["X-Sentry-Rate-Limits"].split(":")[1].split(";")

    result = run_health_client(shop, live_server_url, "tracing", each_python_sdk)
    output = result["output"]
    assert "Rate-limited via x-sentry-rate-limits" in output, output

    # the SDK kept its word: it dropped the second trace's item itself and said so in its client report
    def counted():
        rows = {
            (row.source, row.category, row.reason): row.quantity for row in DiscardCount.objects.filter(project=shop)
        }
        return rows if (DiscardCount.SDK, item_type, "ratelimit_backoff") in rows else None

    rows = wait_until(counted, 20, message="the SDK's client report", details=lambda: output)
    assert rows[(DiscardCount.NOT_KEPT, item_type, item_type)] == 2  # the raw one and the SDK's first
    assert rows[(DiscardCount.SDK, item_type, "ratelimit_backoff")] == 1
    assert "Traceback" not in output
    assert "Traceback" not in server.output()
