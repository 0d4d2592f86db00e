"""The issue list's script in a real browser (Debian's Chromium through Playwright, against our live web server):
buttons disabled until something is selected, select-all, the j/k/x/o/Enter keys, a bulk action from the mute menu."""

import pytest

from issues.models import Issue
from projects.models import ProjectMembership
from testing.browser import login
from testing.utils import make_issue

pytestmark = [pytest.mark.live, pytest.mark.slow]


@pytest.fixture
def logged_in(chromium_page, live_server_url, django_user_model, project):
    user = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    # an admin: the Delete button (disabled until a selection) is for project admins only
    ProjectMembership.objects.create(project=project, user=user, role=ProjectMembership.Role.ADMIN)
    login(chromium_page, live_server_url, "ann", "pw")
    return chromium_page


def test_selection_keyboard_and_bulk_actions(transactional_db, live_server_url, logged_in, project):
    issues = [make_issue(project, calculated_value=f"problem {n}") for n in range(3)]
    page = logged_in
    page.goto(f"{live_server_url}/projects/{project.pk}/issues/")
    rows = page.locator("tr[data-issue-row]")
    assert rows.count() == 3
    ids = [rows.nth(i).locator('input[name="issue"]').get_attribute("value") for i in range(3)]
    assert sorted(ids) == sorted(str(i.pk) for i in issues)

    resolve = page.locator('button[value="resolve"]')
    assert resolve.is_disabled() and page.locator('button[value="delete"]').is_disabled()
    assert page.locator("[data-selected-count]").inner_text() == ""

    # j/k move the highlight, x toggles the current row's checkbox
    page.keyboard.press("j")
    assert "is-current" in rows.nth(0).get_attribute("class")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("j")  # stays on the last row
    assert "is-current" in rows.nth(2).get_attribute("class")
    assert "is-current" not in rows.nth(0).get_attribute("class")
    page.keyboard.press("k")
    assert "is-current" in rows.nth(1).get_attribute("class")
    page.keyboard.press("x")
    assert rows.nth(1).locator('input[name="issue"]').is_checked()
    assert resolve.is_enabled() and page.locator("[data-selected-count]").inner_text() == "1 selected"
    assert "is-selected" in rows.nth(1).get_attribute("class")
    assert page.locator("[data-select-all]").evaluate("el => el.indeterminate")

    # select-all and back
    page.locator("[data-select-all]").check()
    assert all(rows.nth(i).locator('input[name="issue"]').is_checked() for i in range(3))
    assert page.locator("[data-selected-count]").inner_text() == "3 selected"
    page.locator("[data-select-all]").uncheck()
    assert resolve.is_disabled()

    # resolve the current row: the page comes back with a message, and the issue has left the open tab
    page.keyboard.press("x")
    with page.expect_navigation():
        resolve.click()
    assert "Resolved 1 issue." in page.locator(".messages").inner_text()
    assert page.locator("tr[data-issue-row]").count() == 2
    assert Issue.objects.get(pk=ids[1]).is_resolved

    # mute the first row until a volume condition, from the mute menu
    page.keyboard.press("j")
    page.keyboard.press("x")
    page.locator("details.il-menu summary", has_text="Mute").click()
    page.locator('input[name="volume"]').fill("7")
    page.locator('select[name="period"]').select_option("day")
    with page.expect_navigation():
        page.locator('button[value="mute_volume"]').click()
    assert "each unmutes when it has 7 events in the last day" in page.locator(".messages").inner_text()
    muted = Issue.objects.get(pk=ids[0])
    assert muted.is_muted and muted.unmute_on_volume_based_conditions == [
        {"period": "day", "nr_of_periods": 1, "volume": 7}
    ]

    # o opens the current row's issue page, and so does Enter
    page.keyboard.press("j")
    with page.expect_navigation():
        page.keyboard.press("o")
    assert page.url == f"{live_server_url}/issues/{ids[2]}/"
    page.go_back()
    page.keyboard.press("j")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{live_server_url}/issues/{ids[2]}/"

    # "/" focuses the search box, and typing there is not taken for shortcuts
    page.go_back()
    page.keyboard.press("/")
    page.keyboard.type("jx")
    assert page.locator("[data-search]").input_value() == "jx"
    assert page.locator("tr.is-current").count() == 0
