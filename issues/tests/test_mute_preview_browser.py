"""The mute preview in a real browser (Debian's Chromium through Playwright, against our live web server): typing a
condition into the issue page's mute dialog, and into the list's bulk mute with issues selected, shows how often it
would have unmuted, before anything is muted."""

import pytest

from events.models import Event
from projects.models import ProjectMembership
from testing.browser import login
from testing.utils import exception_event

pytestmark = [pytest.mark.live, pytest.mark.slow]


@pytest.fixture
def page(chromium_page, live_server_url, django_user_model, project):
    user = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user)
    login(chromium_page, live_server_url, "ann", "pw")
    return chromium_page


def test_dialog_shows_the_preview_as_the_condition_is_typed(
    transactional_db, live_server_url, page, project, send_event
):
    for _ in range(3):
        assert send_event(project, exception_event(value="loud")).status_code == 200
    assert send_event(project, exception_event(exc_type="KeyError", value="quiet")).status_code == 200
    issue = Event.objects.filter(project=project, issue__calculated_type="ValueError").first().issue

    page.goto(f"{live_server_url}/issues/{issue.pk}/")
    page.click("details.mute-menu > summary")
    preview = page.locator(".mute-volume [data-mute-preview-text]")
    page.select_option("#mute-period", "day")
    page.fill("#mute-volume", "2")
    page.wait_for_function(
        "el => el.textContent.includes('would be refused')", arg=preview.element_handle(), timeout=10000
    )
    # the issue's real count (3), not the threshold (2); the mute would be refused, so its button is disabled
    assert "already has 3 events in the last day, at least the 2 to unmute at" in preview.inner_text()
    submit = page.locator(".mute-volume button[type=submit]")
    assert submit.is_disabled()
    page.fill("#mute-volume", "50")
    page.wait_for_function(
        "el => el.textContent.startsWith('Would not have unmuted in the last 14 days.')",
        arg=preview.element_handle(),
        timeout=10000,
    )
    assert "daily counts" in preview.inner_text()
    assert submit.is_enabled()
    issue.refresh_from_db()
    assert not issue.is_muted  # a preview, nothing more

    page.goto(f"{live_server_url}/projects/{project.pk}/issues/")
    page.locator('input[name="issue"]').nth(0).check()
    page.locator('input[name="issue"]').nth(1).check()
    page.locator(".il-mute-panel").locator("xpath=..").locator("summary").click()
    page.fill("#il-volume", "2")
    page.select_option("#il-period", "day")
    bulk = page.locator(".il-volume [data-mute-preview-text]")
    page.wait_for_function("el => el.textContent.includes('already meets')", arg=bulk.element_handle(), timeout=10000)
    assert bulk.inner_text().startswith("None of the 2 selected issues would have unmuted in the last 14 days.")
    assert "1 already meets the condition and would be skipped." in bulk.inner_text()
