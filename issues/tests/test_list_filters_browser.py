"""The issue list's environment and release controls, its release column and its tabs, in Debian's Chromium
against the live server: choosing an environment or a release filters at once (the choice becomes a search term the
box shows), "All" takes it out, each tab lists what its `is:` term finds."""

import pytest

from issues.models import Issue
from issues.state import apply_to_issues
from projects.models import ProjectMembership
from testing.browser import login
from testing.utils import exception_event

pytestmark = [pytest.mark.live, pytest.mark.slow]


def shown(page) -> set[str]:
    return {Issue.objects.get(pk=pk).calculated_type for pk in _ids(page)}


def _ids(page) -> list[str]:
    return page.locator('tr[data-issue-row] input[name="issue"]').evaluate_all("els => els.map(e => e.value)")


def test_filter_by_environment_and_release_and_the_tabs(
    transactional_db, live_server_url, chromium_page, django_user_model, project, send_event
):
    send_event(project, exception_event("ProdError", "a", release="1.0", environment="production"))
    send_event(project, exception_event("ProdError", "a", release="1.1", environment="production"))
    send_event(project, exception_event("StagingError", "b", release="1.1", environment="staging"))
    send_event(project, exception_event("MutedError", "c", release="1.0", environment="staging"))
    send_event(project, exception_event("ResolvedError", "d", release="1.0", environment="production"))
    apply_to_issues(Issue.objects.filter(calculated_type="MutedError").select_related("project"), "mute")
    apply_to_issues(Issue.objects.filter(calculated_type="ResolvedError").select_related("project"), "resolve")
    user = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user)
    page = chromium_page
    login(page, live_server_url, "ann", "pw")
    page.goto(f"{live_server_url}/projects/{project.pk}/issues/")
    assert shown(page) == {"ProdError", "StagingError"}  # the Unresolved tab: neither resolved nor muted

    # the release column: last release, and the first when it differs, linked to the release's page
    prod_row = page.locator("tr[data-issue-row]", has_text="ProdError")
    assert prod_row.locator(".il-col-release a[data-release]").first.inner_text() == "1.1"
    assert "first 1.0" in prod_row.locator(".il-col-release").inner_text()

    # choosing an environment filters at once (no button: the script submits), and the search box shows the term
    assert page.locator("[data-filter-submit]").is_hidden()
    with page.expect_navigation():
        page.locator('select[data-filter="environment"]').select_option("staging")
    assert shown(page) == {"StagingError"}
    assert page.locator("input[data-search]").input_value() == "environment:staging"
    # a release on top: both terms hold
    with page.expect_navigation():
        page.locator('select[data-filter="release"]').select_option("1.0")
    assert page.locator("input[data-search]").input_value() == "environment:staging release:1.0"
    assert shown(page) == set()  # MutedError is staging and 1.0, but muted: not in the Unresolved tab
    with page.expect_navigation():
        page.locator("nav.il-tabs a[data-tab=muted]").click()
    assert shown(page) == {"MutedError"}
    # "All" takes the environment out again, keeping the tab and the release
    with page.expect_navigation():
        page.locator('select[data-filter="environment"]').select_option("")
    assert page.locator("input[data-search]").input_value() == "release:1.0"
    assert page.locator("nav.il-tabs a[aria-current=page]").get_attribute("data-tab") == "muted"

    # each tab lists exactly what its is: term finds (searched in the All tab)
    for tab in ("unresolved", "muted", "resolved"):
        page.goto(f"{live_server_url}/projects/{project.pk}/issues/?tab={tab}")
        by_tab = _ids(page)
        assert (
            page.locator(f"nav.il-tabs a[data-tab={tab}]").get_attribute("title") == f"The same as searching is:{tab}"
        )
        page.goto(f"{live_server_url}/projects/{project.pk}/issues/?tab=all")
        page.locator("input[data-search]").fill(f"is:{tab}")
        with page.expect_navigation():
            page.locator("input[data-search]").press("Enter")
        assert _ids(page) == by_tab and by_tab, tab

    # the release link leads to the release's page
    page.goto(f"{live_server_url}/projects/{project.pk}/issues/")
    with page.expect_navigation():
        page.locator("tr[data-issue-row]", has_text="ProdError").locator("a[data-release]").first.click()
    assert "/releases/id/" in page.url and "1.1" in page.locator("h1").inner_text()
    assert page.console_watch.errors == []
