"""The issue page's script in a real browser (Debian's Chromium through Playwright, against our live web server): the
arrow keys step through events, expand/collapse all frames, the mute menu closes on Escape, the state buttons of
the one actions form each send their action, and deleting a comment asks first."""

import pytest

from events.models import Event
from issues.state import IssueStateManager
from projects.models import ProjectMembership
from testing.browser import login
from testing.utils import exception_event

pytestmark = [pytest.mark.live, pytest.mark.slow]

FRAMES = [
    {"filename": "lib/a.py", "function": "library", "lineno": 1, "in_app": False, "context_line": "x = 1"},
    {"filename": "app/b.py", "function": "mine", "lineno": 2, "in_app": True, "context_line": "raise ValueError()"},
]


@pytest.fixture
def page(chromium_page, live_server_url, django_user_model, project):
    user = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user)
    login(chromium_page, live_server_url, "ann", "pw")
    chromium_page.user = user
    return chromium_page


def test_keyboard_frames_mute_menu_and_comment_delete(transactional_db, live_server_url, page, project, send_event):
    for _ in range(3):
        assert send_event(project, exception_event(frames=FRAMES)).status_code == 200
    events = list(Event.objects.filter(project=project).order_by("digest_order"))
    issue = events[0].issue

    page.goto(f"{live_server_url}/issues/{issue.pk}/")
    assert "Event 3 of 3" in page.locator(".event-position").inner_text()
    with page.expect_navigation():
        page.keyboard.press("ArrowLeft")
    assert page.url.endswith(f"/issues/{issue.pk}/events/{events[1].pk}/")
    with page.expect_navigation():
        page.keyboard.press("ArrowRight")
    assert page.url.endswith(f"/issues/{issue.pk}/events/{events[2].pk}/")

    frames = page.locator("details.frame-details")
    assert frames.count() == 2
    page.click("button[data-frames=close]")
    assert all(not frames.nth(i).evaluate("d => d.open") for i in range(2))
    page.click("button[data-frames=open]")
    assert all(frames.nth(i).evaluate("d => d.open") for i in range(2))

    menu = page.locator("details.mute-menu")
    page.click("details.mute-menu > summary")
    assert menu.evaluate("d => d.open")
    page.keyboard.press("Escape")
    assert not menu.evaluate("d => d.open")

    # the one-click actions share one form and still sit in one row with the mute menu; each button sends its action
    resolve = page.get_by_role("button", name="Resolve in next release")
    assert resolve.bounding_box()["y"] == page.locator("details.mute-menu > summary").bounding_box()["y"]
    with page.expect_navigation():
        resolve.click()
    assert "Resolved in the next release." in page.content()
    issue.refresh_from_db()
    assert issue.is_resolved_by_next_release
    with page.expect_navigation():
        page.get_by_role("button", name="Reopen").click()
    issue.refresh_from_db()
    assert not issue.is_resolved

    comment = IssueStateManager.add_comment(issue, page.user, "to be deleted")
    page.goto(f"{live_server_url}/issues/{issue.pk}/history/")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("form[data-confirm] button")
    assert type(comment).objects.filter(pk=comment.pk).exists()  # dismissed: nothing happened
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("form[data-confirm] button")
    assert "Comment deleted." in page.content()
    assert not type(comment).objects.filter(pk=comment.pk).exists()
