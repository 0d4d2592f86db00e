"""The Releases page in a real browser (Debian's Chromium through Playwright, against our live web server): reached from
the project's issue list, and a release's issue count leads to the issue list searched for that release."""

import pytest

from projects.models import ProjectMembership
from testing.browser import login
from testing.utils import exception_event

pytestmark = [pytest.mark.live, pytest.mark.slow]


def test_from_the_project_to_a_release_and_its_issues(
    transactional_db, live_server_url, chromium_page, django_user_model, project, send_event
):
    user = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user)
    send_event(project, exception_event("KeyError", "old trouble", release="1.0"))
    send_event(project, exception_event("TypeError", "new trouble", release="2.0"))
    send_event(project, exception_event("OSError", "more trouble", release="2.0"))

    page = chromium_page
    login(page, live_server_url, "ann", "pw")
    page.goto(f"{live_server_url}/projects/{project.pk}/issues/")
    with page.expect_navigation():
        page.get_by_role("link", name="Releases", exact=True).click()
    assert page.url.endswith(f"/projects/{project.pk}/releases/")

    rows = page.locator("tr[data-release]")
    assert [rows.nth(i).get_attribute("data-release") for i in range(rows.count())] == ["2.0", "1.0"]
    newest = page.locator('tr[data-release="2.0"]')
    assert newest.locator("[data-events]").inner_text() == "2"
    assert newest.locator("[data-new-issues]").inner_text() == "2"

    with page.expect_navigation():
        newest.get_by_role("link", name="2 issues seen in 2.0").click()
    assert page.get_by_role("searchbox", name="Search issues").input_value() == "release:2.0"
    titles = page.locator("tr[data-issue-row]").all_inner_texts()
    assert len(titles) == 2
    assert any("new trouble" in t for t in titles) and any("more trouble" in t for t in titles)
    assert not any("old trouble" in t for t in titles)
