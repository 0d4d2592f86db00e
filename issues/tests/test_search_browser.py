"""The search box in a real browser (Debian's Chromium through Playwright, against our live web server): the syntax help
opens next to the box, a term the parser cannot use is named on the page, is:/has: terms and issue ids search."""

import pytest

from issues.state import IssueStateManager
from projects.models import ProjectMembership
from testing.browser import login
from testing.utils import make_issue

pytestmark = [pytest.mark.live, pytest.mark.slow]


@pytest.fixture
def logged_in(chromium_page, live_server_url, django_user_model, project):
    user = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user, role=ProjectMembership.Role.MEMBER)
    login(chromium_page, live_server_url, "ann", "pw")
    return chromium_page


def search(page, text: str) -> None:
    page.locator("input[data-search]").fill(text)
    with page.expect_navigation():
        page.locator("input[data-search]").press("Enter")


def test_search_help_notices_states_and_ids(transactional_db, live_server_url, logged_in, project):
    open_issue = make_issue(project, calculated_value="still broken")
    resolved = make_issue(project, calculated_value="fixed long ago")
    IssueStateManager.resolve(resolved)
    resolved.save()
    page = logged_in
    page.goto(f"{live_server_url}/projects/{project.pk}/issues/?tab=all")

    help_body = page.locator("[data-search-help] .il-search-help-body")
    assert not help_body.is_visible()
    page.locator("[data-search-help] summary").click()
    assert help_body.is_visible() and "is:unresolved" in help_body.inner_text()

    search(page, "is:resolved")
    assert page.locator("tr[data-issue-row]").count() == 1
    assert "fixed long ago" in page.locator("tr[data-issue-row]").inner_text()

    search(page, "level: is:sleeping")
    notice = page.locator("[data-search-notice]").inner_text()
    assert "level:" in notice and "is:sleeping" in notice
    assert page.locator("tr[data-issue-row]").count() == 2

    search(page, "nothing like this")
    assert "No issues match nothing like this" in page.locator(".panel.empty").inner_text()

    search(page, open_issue.short_id.lower())
    rows = page.locator("tr[data-issue-row]")
    assert rows.count() == 1 and "still broken" in rows.inner_text()
