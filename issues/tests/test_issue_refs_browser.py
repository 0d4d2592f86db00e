"""Issue ids and error pages in a real browser (Debian's Chromium through Playwright, against our live web server): a
short id in the address bar lands on the issue's page, an unknown one on the site's own 404 page."""

import pytest

from projects.models import ProjectMembership
from testing.browser import login
from testing.utils import make_issue

pytestmark = [pytest.mark.live, pytest.mark.slow]


def test_short_id_url_and_404_page(transactional_db, chromium_page, live_server_url, django_user_model, project):
    user = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user)
    issue = make_issue(project, calculated_value="lost the thread")
    page = chromium_page
    login(page, live_server_url, "ann", "pw")

    page.goto(f"{live_server_url}/issues/{issue.short_id.lower()}/")
    assert page.url == f"{live_server_url}/issues/{issue.pk}/"
    assert "lost the thread" in page.locator("main").inner_text()

    page.goto(f"{live_server_url}/issues/{issue.pk.hex.upper()}/")
    assert page.url == f"{live_server_url}/issues/{issue.pk}/"

    response = page.goto(f"{live_server_url}/issues/{project.short_prefix}-999/")
    assert response.status == 404
    assert page.locator("[data-error-page='404']").is_visible()
    assert page.locator("header.topbar").is_visible() and "Not Found" not in page.locator("body").inner_text()
