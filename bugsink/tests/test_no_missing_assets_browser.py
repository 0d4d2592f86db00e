"""No page loads an asset that is not there (issue 23: every admin page asked for a favicon it did not link, a 404).
A superuser walks the main pages in Debian's Chromium (through Playwright, against our live web server) and every
request a page makes, its favicon included, must succeed: no 4xx or 5xx, no failed load."""

import pytest

from events.models import Event
from projects.models import ProjectMembership
from releases.models import Release
from testing.browser import login
from testing.utils import exception_event

pytestmark = [pytest.mark.live, pytest.mark.slow]


def _pages(project, issue, release) -> list[str]:
    return [
        "/projects/",
        f"/projects/{project.pk}/issues/",
        f"/projects/{project.pk}/setup/",
        f"/projects/{project.pk}/settings/",
        f"/projects/{project.pk}/settings/members/",
        f"/projects/{project.pk}/releases/",
        f"/projects/{project.pk}/releases/id/{release.pk}/",
        f"/issues/{issue.pk}/",
        f"/issues/{issue.pk}/details/",
        f"/issues/{issue.pk}/events/",
        f"/issues/{issue.pk}/tags/",
        f"/issues/{issue.pk}/history/",
        "/accounts/preferences/",
        "/accounts/preferences/tokens/",
        "/api/0/docs/",
        "/admin/",
        "/admin/issues/issue/",
        f"/admin/issues/issue/{issue.pk}/change/",
        "/admin/projects/project/",
        "/admin/auth/user/",
        "/admin/sso/",
    ]


def test_main_pages_load_every_asset_they_ask_for(
    transactional_db, chromium_page, live_server_url, django_user_model, project, send_event
):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=admin)
    assert send_event(project, exception_event(release="1.0")).status_code == 200
    event = Event.objects.get(project=project)
    release = Release.objects.get(project=project, version="1.0")

    failed = []
    page = chromium_page
    # a request Chromium cancels (net::ERR_ABORTED) is not a missing asset: the favicon fetch of the page being left
    # is cancelled by the next navigation, and its event can arrive after that navigation began. A missing asset is
    # answered, and its 4xx is caught below; every other failure (refused, reset) still counts
    page.on(
        "requestfailed",
        lambda request: (
            None if request.failure == "net::ERR_ABORTED" else failed.append(f"{request.url} ({request.failure})")
        ),
    )
    page.on("response", lambda r: failed.append(f"{r.url} {r.status}") if r.status >= 400 else None)
    login(page, live_server_url, "root", "pw")
    for path in _pages(project, event.issue, release):
        failed.clear()
        response = page.goto(live_server_url + path)
        assert response.status == 200, path
        page.wait_for_load_state("networkidle")
        # the icon the tab shows: linked (or /favicon.ico, which Chromium asks for when a page links none), and there
        icon = page.evaluate("() => (document.querySelector('link[rel~=icon]') || {}).href || '/favicon.ico'")
        assert page.request.get(icon if "://" in icon else live_server_url + icon).status == 200, (path, icon)
        assert failed == [], (path, failed)
    # the admin links the app's icon, not none
    page.goto(live_server_url + "/admin/")
    assert page.evaluate("() => document.querySelector('link[rel~=icon]').getAttribute('href')").endswith(".svg")
