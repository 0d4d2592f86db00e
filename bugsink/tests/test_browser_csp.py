"""The Content-Security-Policy in a real browser (Debian's Chromium through Playwright).

Every main page, the admin's and the Swagger UI's included, is loaded by a signed-in staff member against the live
server: each carries the policy, and the browser reports no violation of it and no console error. And the browser
helper itself (testing.browser) fails a test on a violation, shown here on pages that plant one."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from alerts.models import AlertChannel
from bugsink.csp import HEADER_VALUE
from events.models import Event, UserFeedback
from projects.models import ProjectMembership, Role
from releases.models import Deploy, Release
from testing.browser import chromium_page, login, settle
from testing.utils import exception_event

pytestmark = [pytest.mark.live, pytest.mark.slow]

# --- the helper fails a test on a violation ---------------------------------------------------------------------

HEAD = b'<!DOCTYPE html><link rel="icon" href="data:,">'  # no favicon request
CLEAN = HEAD + b"<title>clean</title><p>nothing inline</p>"
PLANTED = {
    "inline script": b"<script>document.title = 'ran'</script>",
    "style block": b"<style>p { color: red }</style>",
    "style attribute": b'<p style="color: red">x</p>',
    "event handler attribute": b"<body onload=\"document.title = 'ran'\">x</body>",
    "image from elsewhere": b'<img src="http://127.0.0.2:9/x.png" alt="">',
}


@pytest.fixture(scope="module")
def policy_server():
    """A real HTTP server on 127.0.0.1 serving pages under the site's policy: / is clean, /<name> plants one of
    PLANTED."""

    class Pages(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            name = self.path.strip("/").replace("-", " ")
            if name and name not in PLANTED:
                self.send_error(404)
                return
            body = CLEAN if not name else HEAD + b"<title>planted</title>" + PLANTED[name]
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Security-Policy", HEADER_VALUE)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_a_clean_page_passes(policy_server):
    with chromium_page() as page:
        page.goto(policy_server + "/")
        assert page.title() == "clean"
    assert page.console_watch.csp_violations == [] and page.console_watch.errors == []


@pytest.mark.parametrize("name", PLANTED)
def test_a_planted_violation_fails_the_test(policy_server, name):
    with pytest.raises(AssertionError, match="Content-Security-Policy violations") as failure:
        with chromium_page() as page:
            page.goto(f"{policy_server}/{name.replace(' ', '-')}")
            assert page.title() == "planted"  # the policy blocked the inline script
    assert "[csp-violation]" in str(failure.value)


def test_a_violation_in_a_second_page_of_the_context_counts_too(policy_server):
    with pytest.raises(AssertionError, match="Content-Security-Policy violations"):
        with chromium_page() as page:
            page.goto(policy_server + "/")
            other = page.context.new_page()
            other.goto(f"{policy_server}/style-attribute")


# --- every main page under the policy -----------------------------------------------------------------------------


@pytest.fixture
def site(transactional_db, django_user_model, project, send_event):
    """A project with an issue of two events (tags, breadcrumbs, a request, user feedback), a release with a URL,
    a deploy and a commit-less history, an alert channel; a staff member of the project."""
    user = django_user_model.objects.create_user("root", "root@example.com", "pw", is_staff=True, is_superuser=True)
    ProjectMembership.objects.create(project=project, user=user, role=Role.ADMIN)
    extra = {
        "release": "1.0",
        "environment": "production",
        "tags": {"browser": "Firefox", "region": "eu"},
        "request": {"method": "GET", "url": "https://shop.example.com/cart?x=1", "headers": {"Accept": "*/*"}},
        "breadcrumbs": {"values": [{"category": "http", "data": {"url": "https://api.example.com/", "method": "GET"}}]},
        "user": {"id": "42", "email": "user@example.com"},
        "extra": {"cart": {"items": 3}},
    }
    for value in ("bad value", "bad value again"):
        assert send_event(project, exception_event("ValueError", value, **extra)).status_code == 200
    events = list(Event.objects.filter(project=project).order_by("digest_order"))
    issue = events[0].issue
    release = Release.objects.get(project=project, version="1.0")
    Release.objects.filter(pk=release.pk).update(url="https://ci.example.com/builds/1")
    Deploy.objects.create(release=release, environment="production", name="prod", url="https://deploys.example.com/1")
    UserFeedback.objects.create(
        project=project,
        event=events[-1],
        issue=issue,
        name="Ann",
        email="ann@example.com",
        comments="The cart broke.",
        url="https://shop.example.com/cart",
        source=UserFeedback.Source.FEEDBACK,
        received_at=timezone.now(),
    )
    # paused: shown on the settings page and in the admin, never posted to (nor its name looked up)
    channel = AlertChannel.objects.create(
        project=project, name="hook", kind="slack", url="https://hooks.example.com/x", is_active=False
    )
    return {"project": project, "issue": issue, "event": events[-1], "release": release, "channel": channel}


def admin_changelists() -> list[str]:
    """The list page of every model in the admin (Django's list template has an inline <style> for some settings)."""
    return sorted(reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist") for m in admin.site._registry)


def main_pages(site) -> list[str]:
    project, issue, event, release = site["project"], site["issue"], site["event"], site["release"]
    issue_pages = [f"/issues/{issue.pk}/{tab}" for tab in ("", "details/", "breadcrumbs/", "events/", "tags/")]
    issue_pages += [f"/issues/{issue.pk}/{tab}" for tab in ("feedback/", "history/")]
    return [
        "/projects/",
        f"/projects/{project.pk}/issues/",
        "/issues/",
        *issue_pages,
        f"/issues/{issue.pk}/events/{event.pk}/",
        f"/issues/{issue.pk}/events/{event.pk}/details/",
        f"/projects/{project.pk}/releases/",
        f"/projects/{project.pk}/releases/1.0/",
        f"/projects/{project.pk}/settings/",
        f"/projects/{project.pk}/settings/alerts/",
        f"/projects/{project.pk}/settings/members/",
        f"/projects/{project.pk}/setup/",
        "/projects/teams/",
        "/accounts/preferences/",
        "/accounts/preferences/tokens/",
        "/admin/",
        *admin_changelists(),
        f"/admin/releases/release/{release.pk}/change/",
        f"/admin/alerts/alertchannel/{site['channel'].pk}/change/",
        f"/admin/events/event/{event.pk}/change/",
        "/admin/quarantine/",
    ]


def test_every_main_page_carries_the_policy_and_the_browser_reports_nothing(live_server_url, chromium_page, site):
    page = chromium_page
    response = page.goto(f"{live_server_url}/accounts/login/")
    assert response.headers["content-security-policy"] == HEADER_VALUE
    login(page, live_server_url, "root", "pw")

    for path in main_pages(site):
        response = page.goto(live_server_url + path)
        assert response.status == 200, path
        assert response.headers.get("content-security-policy") == HEADER_VALUE, path
        assert page.locator("body").inner_text().strip(), path

    # the Swagger UI: its scripts load, read the schema and draw the operations
    response = page.goto(f"{live_server_url}/api/0/docs/")
    assert response.headers["content-security-policy"] == HEADER_VALUE
    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock").count() > 10
    # and work: an operation opened, tried out and its answer shown (highlighted JSON, drawn by the page's scripts)
    # one that needs no path parameter (Execute draws nothing until they are filled in): the list of organizations
    operation = page.locator(".opblock-get").filter(
        has=page.locator('.opblock-summary-path[data-path="/api/0/organizations/"]')
    )
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == "200"
    operation.locator(".live-responses-table .highlight-code").first.wait_for()

    # a few of the pages' scripts at work: the theme toggle, the issue list's selection, the issue page's mute menu
    page.goto(f"{live_server_url}/projects/{site['project'].pk}/issues/")
    page.locator("tr[data-issue-row] input[type=checkbox]").first.check()
    with page.expect_response(lambda r: "/accounts/preferences/theme/" in r.url) as theme:
        page.locator("[data-theme-toggle]").click()
    assert theme.value.ok
    page.goto(f"{live_server_url}/issues/{site['issue'].pk}/")
    page.click("details.mute-menu > summary")

    settle(page.context)
    assert page.console_watch.csp_violations == []
    assert page.console_watch.errors == []


def test_a_signed_out_visitor_sees_login_and_reset_pages_under_the_policy(live_server_url, chromium_page, site):
    page = chromium_page
    for path in ("/accounts/login/", "/accounts/password/reset/", "/admin/login/"):
        response = page.goto(live_server_url + path)
        assert response.status == 200 and response.headers["content-security-policy"] == HEADER_VALUE, path
    settle(page.context)
    assert page.console_watch.errors == []
