"""Acceptance: the site works on a phone (issue 13, point 3). A 390 px wide viewport (an iPhone's) in headless
Chromium, logged in as a staff user (whose top bar also has the Admin link, the widest it gets), on every main page:
nothing is wider than the screen (no sideways scrolling of the whole page) and "Log out" is on screen.

The issue pages are those of a real event (the checkout sample: source context, local variables, breadcrumbs)
sent through the live server's envelope endpoint. A screenshot of each page goes through screenshot_path.
"""

import json
import time
import uuid

import pytest

from bugsink.tests.test_browser_triage import send_envelope
from events.models import Event
from projects.models import Project, ProjectMembership, Role
from testing.browser import login, screenshot_path
from testing.utils import sample_files

pytestmark = [pytest.mark.live, pytest.mark.slow]

PHONE = {"width": 390, "height": 844}
SAMPLE = "checkout-gateway-timeout.json"


def overflow(page) -> dict:
    """How wide the document is against the viewport, and which elements stick out past its right edge (to say
    what is too wide when the test fails)."""
    return page.evaluate(
        """() => {
          const width = window.innerWidth;
          const wide = [];
          for (const el of document.body.querySelectorAll('*')) {
            const r = el.getBoundingClientRect();
            if (r.right > width + 0.5 && el.checkVisibility() && wide.length < 5) {
              wide.push(el.tagName.toLowerCase() + '.' + el.className + ' right=' + Math.round(r.right));
            }
          }
          return {scrollWidth: document.documentElement.scrollWidth, innerWidth: width, wide: wide};
        }"""
    )


def test_main_pages_fit_a_phone(transactional_db, live_server_url, chromium_page, django_user_model):
    from playwright.sync_api import expect

    user = django_user_model.objects.create_user("ann", "ann@example.com", "correct horse", is_staff=True)
    project = Project.objects.create(name="Visual Shop on the go", slug="shop")
    ProjectMembership.objects.create(project=project, user=user, role=Role.ADMIN)
    path = next(p for p in sample_files() if p.parent.name == "python" and p.name == SAMPLE)
    event = json.loads(path.read_text())
    event.update(event_id=uuid.uuid4().hex, timestamp=time.time())
    event_id = send_envelope(live_server_url, project, event)
    issue = Event.objects.get(project=project, event_id=event_id).issue

    page = chromium_page
    page.set_viewport_size(PHONE)
    login(page, live_server_url, "ann", "correct horse")

    pages = {
        "projects": "/projects/",
        "issues": f"/projects/{project.pk}/issues/",
        "all-issues": "/issues/",
        "issue": f"/issues/{issue.pk}/",
        "issue-details": f"/issues/{issue.pk}/details/",
        "issue-breadcrumbs": f"/issues/{issue.pk}/breadcrumbs/",
        "issue-events": f"/issues/{issue.pk}/events/",
        "project-settings": f"/projects/{project.pk}/settings/",
        "preferences": "/accounts/preferences/",
    }
    for name, url in pages.items():
        response = page.goto(live_server_url + url)
        assert response is not None and response.status == 200, (name, response and response.status)
        if name == "issue":
            assert page.locator("details.frame-vars").count() > 0, "the issue page shows the event's frames"
            page.locator("details.mute-menu > summary").click()  # an open menu must fit the screen too
            expect(page.locator("details.mute-menu .dropdown-panel")).to_be_visible()
            panel = page.locator("details.mute-menu .dropdown-panel").bounding_box()
            assert panel is not None and panel["x"] >= 0 and panel["x"] + panel["width"] <= PHONE["width"], panel
        page.screenshot(path=str(screenshot_path(f"phone-{name}.png")), full_page=True)
        measured = overflow(page)
        assert measured["scrollWidth"] <= measured["innerWidth"], (name, measured)
        log_out = page.get_by_role("button", name="Log out", exact=True)
        expect(log_out).to_be_visible()
        box = log_out.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (name, box)
