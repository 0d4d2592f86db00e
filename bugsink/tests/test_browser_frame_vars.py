"""Acceptance: a frame's local variables in a real browser show what the Python SDK meant (issue 13, point 4).

The SDK sends `items = [1, 2, 3]` as ["1", "2", "3"] (reprs inside JSON): the page must read [1, 2, 3] and 1, 2, 3,
not ["1","2","3"]; and the stack trace's "Expand all" must open the frames, their local variables and the lists and
dicts nested in them, "Collapse all" close them again.
"""

import json
import time
import uuid

import pytest

from bugsink.tests.test_browser_triage import send_envelope
from events.models import Event
from projects.models import Project, ProjectMembership
from testing.browser import login, screenshot_path
from testing.utils import sample_files

pytestmark = [pytest.mark.live, pytest.mark.slow]

SAMPLE = "checkout-gateway-timeout.json"  # frame 0 (scenario_checkout) has `order`, a dict with a list of dicts


def test_expand_all_opens_nested_locals_shown_as_reprs(
    transactional_db, live_server_url, chromium_page, django_user_model
):
    from playwright.sync_api import expect

    user = django_user_model.objects.create_user("ann", "ann@example.com", "correct horse")
    project = Project.objects.create(name="Shop", slug="shop")
    ProjectMembership.objects.create(project=project, user=user)
    path = next(p for p in sample_files() if p.parent.name == "python" and p.name == SAMPLE)
    event = json.loads(path.read_text())
    event.update(event_id=uuid.uuid4().hex, timestamp=time.time())
    frame = event["exception"]["values"][-1]["stacktrace"]["frames"][0]
    frame["vars"]["items"] = ["1", "2", "3"]  # what the Python SDK sends for items = [1, 2, 3]
    event_id = send_envelope(live_server_url, project, event)
    issue = Event.objects.get(project=project, event_id=event_id).issue

    page = chromium_page
    login(page, live_server_url, "ann", "correct horse")
    page.goto(f"{live_server_url}/issues/{issue.pk}/")
    frame_li = page.locator("li.frame").filter(has=page.locator(".frame-function", has_text="scenario_checkout"))
    local_vars = frame_li.locator("details.frame-vars")

    def value_of(name: str):
        """The value of a local of the frame itself (not a key of the same name inside one)."""
        return local_vars.locator(
            f"xpath=./dl[contains(@class, 'var-list')]/dt[normalize-space()='{name}']/following-sibling::dd[1]"
        )

    items, order = value_of("items"), value_of("order")
    trees = page.locator("details.var-tree")
    assert trees.count() >= 4  # items, order, order's items and its two lines
    assert not local_vars.evaluate("d => d.open") and not items.is_visible()

    page.get_by_role("button", name="Expand all", exact=True).click()
    assert local_vars.evaluate("d => d.open")
    assert all(trees.evaluate_all("ds => ds.map(d => d.open)")), "Expand all leaves nested values closed"
    expect(items.locator(".var-preview")).to_have_text("[1, 2, 3]")
    assert items.locator(".var-leaf").all_inner_texts() == ["1", "2", "3"]
    assert '"1"' not in items.inner_text()
    sku = order.locator("dt", has_text="sku").first.locator("xpath=following-sibling::dd[1]")
    expect(sku).to_be_visible()
    assert sku.inner_text() == "'TEA-01'"  # the repr as the SDK sent it, no JSON quotes around it
    page.screenshot(path=str(screenshot_path("frame-vars-expanded.png")), full_page=True)

    page.get_by_role("button", name="Collapse all", exact=True).click()
    assert not any(trees.evaluate_all("ds => ds.map(d => d.open)"))
    assert not local_vars.evaluate("d => d.open")
