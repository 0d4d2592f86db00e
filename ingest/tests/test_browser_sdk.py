"""End to end: the real, unmodified `@sentry/browser` in a real browser (Debian's Chromium through Playwright) against
the live server; each SDK major of ingest/tests/sdks.py.

The npm package ships ES modules, not the CDN bundle, so esbuild (the version test_symbolicate.py uses) bundles it
into one script that sets `window.Sentry`, as the CDN's does. A page served from a second loopback server (another
origin, so the SDK's fetch to the ingest endpoint is a cross-origin request, as on a real site) loads it, and the
test clicks its button: the click handler fetches the cart and fails on it, and the SDK reports the unhandled
rejection with a fetch breadcrumb. The browser says it is Chrome on Windows (Playwright's `user_agent`, which is what
both navigator.userAgent and the HTTP header then say): a browser SDK sends no browser or OS context, only that
User-Agent, so the `browser` and `os` tags the test then finds through the UI (the same Chromium, logged in), the
search and /api/0/ are the ones the server derived (digest/useragent.py).
"""

import json
import os
import shutil
import subprocess
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from api.models import ApiToken, Scope
from digest.tests.test_symbolicate import ESBUILD_VERSION
from ingest.tests.test_real_sdks import dsn_for, wait_for_events
from issues.models import Issue
from projects.models import Project, ProjectMembership
from testing.browser import chromium_page, login
from testing.npm_cache import npm_package
from testing.utils import require_service

pytestmark = [pytest.mark.live]

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
ENTRY_JS = 'import * as Sentry from "@sentry/browser";\nwindow.Sentry = Sentry;\n'
SHOP_HTML = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Shop</title><script src="sentry.js"></script></head>
<body>
<button id="pay">Pay</button>
<script>
  const params = new URLSearchParams(location.search);
  Sentry.init({
    dsn: params.get("dsn"),
    release: "shop-web@3.1.0",
    environment: "ci",
    // only to tell the test which event id the SDK gave the event; the event goes out unchanged
    beforeSend(event) { window.sentEventIds = [...(window.sentEventIds || []), event.event_id]; return event; },
  });
  function renderCart(cart) {
    return cart.items.map((item) => item.sku).join(", ");
  }
  document.querySelector("#pay").addEventListener("click", () => {
    fetch("cart.json").then((response) => response.json()).then(renderCart);
  });
</script>
</body>
</html>
"""
CART_JSON = '{"total": "12.50"}'  # no `items`: renderCart fails
TIMEOUT = 60


def run(command: list, cwd: Path, env: dict | None = None) -> None:
    try:
        result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"{command[0]} did not finish within {TIMEOUT} s: {error.stderr}")
    assert result.returncode == 0, f"{command}\n--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"


@pytest.fixture(scope="session")
def shop_site(each_browser_sdk, tmp_path_factory) -> Path:
    """A folder with the shop's page, its cart and the SDK bundled for the browser (once per SDK major)."""
    node = shutil.which("node")
    require_service(bool(node), "node is needed to bundle @sentry/browser")
    esbuild = npm_package("esbuild", "esbuild", ESBUILD_VERSION) / ".bin" / "esbuild"
    site = tmp_path_factory.mktemp(f"shop-{each_browser_sdk.major}")
    (site / "entry.js").write_text(ENTRY_JS)
    (site / "index.html").write_text(SHOP_HTML)
    (site / "cart.json").write_text(CART_JSON)
    options = ["--bundle", "--format=iife", "--platform=browser", "--log-level=warning", "--outfile=sentry.js"]
    run([esbuild, "entry.js", *options], site, env={**os.environ, "NODE_PATH": str(each_browser_sdk.node_modules)})
    return site


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def shop_url(shop_site):
    """The shop, served from its own loopback origin."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(shop_site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_browser_sdk_event_is_tagged_with_the_browser_and_os_of_its_user_agent(
    each_browser_sdk, transactional_db, live_server_url, shop_url, client
):
    project = Project.objects.create(name="Shop web", slug="shop-web")
    user = get_user_model().objects.create_user("ann", "ann@example.com", "correct horse")
    ProjectMembership.objects.create(project=project, user=user)

    with chromium_page(user_agent=CHROME_WINDOWS) as page:
        page.goto(f"{shop_url}/index.html?dsn={quote(dsn_for(project, live_server_url))}")
        assert page.evaluate("() => navigator.userAgent") == CHROME_WINDOWS
        assert page.evaluate("() => Sentry.SDK_VERSION") == each_browser_sdk.version
        page.click("#pay")
        page.wait_for_function("() => (window.sentEventIds || []).length === 1")
        assert page.evaluate("() => Sentry.flush(10000)") is True
        event_ids = page.evaluate("() => window.sentEventIds")
        (event,) = wait_for_events(project, event_ids, f"the browser SDK sent {event_ids}")

        data = event.data
        assert data["platform"] == "javascript" and data["sdk"]["name"] == "sentry.javascript.browser"
        assert data["request"]["headers"]["User-Agent"] == CHROME_WINDOWS
        assert data["contexts"]["browser"] == {"name": "Chrome", "version": "120.0.0", "type": "browser"}
        assert data["contexts"]["os"] == {"name": "Windows", "version": "10", "type": "os"}
        assert data["exception"]["values"][-1]["type"] == "TypeError"
        issue = Issue.objects.get(project=project)

        # the UI, in the same browser: the issue's Tags tab, and the project's search
        login(page, live_server_url, "ann", "correct horse")
        page.goto(live_server_url + reverse("issue:tags", args=[issue.pk]))
        tags = dict(
            page.eval_on_selector_all(
                "section.tag-distribution",
                "sections => sections.map((s) => [s.querySelector('h2 .mono').textContent,"
                " [...s.querySelectorAll('th.tag-value')].map((th) => th.textContent.trim())])",
            )
        )
        assert tags["browser"] == ["Chrome 120.0.0"] and tags["browser.name"] == ["Chrome"]
        assert tags["os"] == ["Windows 10"] and tags["os.name"] == ["Windows"]

        # the fetch the click made, as a breadcrumb that reads as a request
        page.goto(live_server_url + reverse("issue:breadcrumbs", args=[issue.pk]))
        summaries = page.locator(".crumb-summary").all_inner_texts()
        assert "GET cart.json [200]" in summaries, summaries  # the URL as the page passed it to fetch

        list_url = live_server_url + reverse("issues:project", args=[project.pk])
        for query, found in (("browser:Chrome", True), ("os:Windows", True), ("browser:Firefox", False)):
            page.goto(list_url)
            page.fill("input[name=q]", query)
            with page.expect_navigation():
                page.press("input[name=q]", "Enter")
            rows = page.locator(f'input[name=issue][value="{issue.pk}"]').count()
            assert rows == (1 if found else 0), f"{query}: {page.url}"

    # /api/0/: the event's tags, and the issue search
    _, token = ApiToken.create_for(user, "read", scope=Scope.READ)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    org = settings.ORGANIZATION_SLUG
    api_event = client.get(f"/api/0/projects/{org}/shop-web/events/{event.event_id.hex}/", **auth).json()
    api_tags = {tag["key"]: tag["value"] for tag in api_event["tags"]}
    assert (api_tags["browser"], api_tags["os"]) == ("Chrome 120.0.0", "Windows 10")
    for query, expected in (("browser:Chrome", [str(issue.pk)]), ("os:Linux", [])):
        found = client.get(f"/api/0/projects/{org}/shop-web/issues/", {"query": query}, **auth).json()
        assert [row["id"] for row in found] == expected, (query, json.dumps(found)[:500])
