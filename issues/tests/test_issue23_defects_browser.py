"""Issue 23's issue-page defects in a real browser (Debian's Chromium through Playwright, against our live web
server): no id in the Contexts card is cut (at desktop and phone widths), the crash frame's locals start open and
the others' collapsed, a long value is cut with a working Show more toggle, and the release links lead to the
release's page."""

import pytest

from events.models import Event
from projects.models import ProjectMembership
from testing.browser import login
from testing.utils import exception_event

pytestmark = [pytest.mark.live, pytest.mark.slow]

TRACE_ID = "4c79f60c11214eb38604f4ae0781bfb2"
SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
WALL = "'" + "the quick brown fox jumps over the lazy dog " * 40 + "'"
FRAMES = [
    {"filename": "app/main.py", "function": "main", "lineno": 3, "in_app": True, "vars": {"argv": "['x']"}},
    {
        "filename": "app/charge.py",
        "function": "charge",
        "lineno": 12,
        "in_app": True,
        "context_line": "raise ValueError(body)",
        "vars": {"amount": "12", "body": WALL},
    },
    {"filename": "lib/http.py", "function": "send", "lineno": 40, "in_app": False, "vars": {"sock": "<socket>"}},
]


@pytest.fixture
def page(chromium_page, live_server_url, django_user_model, project):
    user = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user)
    login(chromium_page, live_server_url, "ann", "pw")
    return chromium_page


def _event(project, send_event):
    event = exception_event(frames=FRAMES, release="shop@1.2.3")
    event["contexts"] = {
        "trace": {"trace_id": TRACE_ID, "span_id": "a1b2c3d4e5f60718", "op": "http.server"},
        "app": {"build_sha": SHA256, "app_version": "1.2.3"},
    }
    assert send_event(project, event).status_code == 200
    return Event.objects.get(project=project)


def _cut_values(page) -> list[str]:
    """The Contexts card's values whose text is not all visible: wider than their box (cut or scrolled)."""
    return page.eval_on_selector_all(
        ".details-contexts .kv-value",
        "els => els.filter(e => e.scrollWidth > e.clientWidth + 1 || e.getBoundingClientRect().right >"
        " e.closest('.panel').getBoundingClientRect().right + 1).map(e => e.textContent)",
    )


@pytest.mark.parametrize("width", [1280, 390])
def test_no_id_in_the_contexts_card_is_cut(transactional_db, live_server_url, page, project, send_event, width):
    event = _event(project, send_event)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server_url}/issues/{event.issue_id}/details/")
    values = page.locator(".details-contexts .kv-value").all_inner_texts()
    assert TRACE_ID in values and SHA256 in values
    assert _cut_values(page) == []
    # the trace id reads whole on one line where the card is wide enough for it
    if width == 1280:
        box = page.locator(".details-contexts .kv-value", has_text=TRACE_ID).bounding_box()
        line = page.locator(".details-contexts .kv-value", has_text="http.server").bounding_box()
        assert box["height"] <= line["height"] + 1
    assert page.console_watch.errors == []


def test_crash_frame_locals_open_others_collapsed_and_long_values_toggle(
    transactional_db, live_server_url, page, project, send_event
):
    event = _event(project, send_event)
    page.goto(f"{live_server_url}/issues/{event.issue_id}/")
    frames = page.locator("li.frame")
    names = [frames.nth(i).locator(".frame-function").inner_text() for i in range(frames.count())]
    assert names == ["send", "charge", "main"]

    def locals_open(i):
        return frames.nth(i).locator("details.frame-vars").evaluate("d => d.open")

    # the exception was raised in `charge`, the innermost in-app frame; the library frame and `main` start collapsed
    assert [locals_open(i) for i in range(3)] == [False, True, False]
    assert page.locator("li.frame").nth(1).get_by_text("amount").is_visible()

    value = page.locator(".var-long")
    toggle = page.locator("[data-long-toggle]")
    assert toggle.inner_text() == "Show more" and toggle.get_attribute("aria-expanded") == "false"
    cut = value.bounding_box()["height"]
    assert value.evaluate("e => e.scrollHeight > e.clientHeight")  # cut to a few lines
    toggle.click()
    assert toggle.inner_text() == "Show less" and toggle.get_attribute("aria-expanded") == "true"
    assert value.bounding_box()["height"] > 2 * cut
    assert value.evaluate("e => e.scrollHeight <= e.clientHeight + 1")
    toggle.click()
    assert value.bounding_box()["height"] == cut
    assert page.console_watch.errors == []


def test_release_links_lead_to_the_release_page(transactional_db, live_server_url, page, project, send_event):
    event = _event(project, send_event)
    page.goto(f"{live_server_url}/issues/{event.issue_id}/")
    with page.expect_navigation():
        page.locator("a.release[title='First release']").click()
    assert page.locator("[data-release-facts]").is_visible()
    assert "shop@1.2.3" in page.locator("h1").inner_text()
    page.goto(f"{live_server_url}/issues/{event.issue_id}/events/")
    with page.expect_navigation():
        page.locator(".events-table a", has_text="shop@1.2.3").click()
    assert page.locator("[data-release-facts]").is_visible()
    assert page.console_watch.errors == []


# --- the `?` keyboard help --------------------------------------------------------------------------------------


def _help_is_open(page) -> bool:
    return page.locator("#keyboard-help").evaluate("d => d.open")


def test_question_mark_opens_the_keyboard_help_on_the_issue_page_and_esc_closes_it(
    transactional_db, live_server_url, page, project, send_event
):
    for _ in range(2):
        assert send_event(project, exception_event(frames=FRAMES)).status_code == 200
    issue = Event.objects.filter(project=project).first().issue
    start = f"{live_server_url}/issues/{issue.pk}/"
    page.goto(start)
    assert not _help_is_open(page)
    tab = page.locator("nav.issue-tabs a", has_text="Tags")
    tab.focus()
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    assert dialog.is_visible() and _help_is_open(page)
    assert "Previous (older) event" in dialog.inner_text() and "Next / previous issue" in dialog.inner_text()
    # the focus is in the dialog, on its Close button; the page underneath does not react to its keys
    assert page.evaluate("() => document.activeElement.hasAttribute('data-keyboard-help-close')")
    page.keyboard.press("ArrowLeft")
    assert page.url == start and _help_is_open(page)
    page.keyboard.press("Escape")
    assert not _help_is_open(page) and not dialog.is_visible()
    # the focus went back to where it was
    assert page.evaluate("() => document.activeElement.textContent.trim()").startswith("Tags")
    # the button opens it too, Close shuts it
    page.get_by_role("button", name="Keyboard shortcuts").click()
    assert _help_is_open(page)
    page.get_by_role("button", name="Close").click()
    assert not _help_is_open(page)
    # with the help shut, ← is the previous event again
    with page.expect_navigation():
        page.keyboard.press("ArrowLeft")
    assert "/events/" in page.url
    # a `?` typed into a field is text, not the help
    page.goto(f"{live_server_url}/issues/{issue.pk}/events/")
    page.locator("#events-q").type("a?b")
    assert not _help_is_open(page) and page.locator("#events-q").input_value() == "a?b"
    assert page.console_watch.errors == []


def test_question_mark_opens_the_keyboard_help_on_the_list(
    transactional_db, live_server_url, page, project, send_event
):
    assert send_event(project, exception_event(exc_type="KeyError")).status_code == 200
    assert send_event(project, exception_event(exc_type="TypeError")).status_code == 200
    page.goto(f"{live_server_url}/projects/{project.pk}/issues/")
    page.keyboard.press("?")
    assert _help_is_open(page)
    assert "j / k" in page.get_by_role("dialog").inner_text()
    page.keyboard.press("j")  # rests while the help is shown
    assert page.locator(".is-current").count() == 0
    page.keyboard.press("Escape")
    assert not _help_is_open(page)
    page.keyboard.press("j")  # and works again once it is shut
    assert page.locator(".is-current").count() == 1
    assert page.console_watch.errors == []


# --- Delete on the issue page -----------------------------------------------------------------------------------


def test_an_admin_deletes_an_issue_from_its_page(
    transactional_db, chromium_page, live_server_url, django_user_model, project, send_event
):
    from bugsink import jobs
    from issues.models import Issue
    from projects.models import Role

    boss = django_user_model.objects.create_user("boss", "boss@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=boss, role=Role.ADMIN)
    page = chromium_page
    login(page, live_server_url, "boss", "pw")
    assert send_event(project, exception_event(exc_type="KeyError", value="doomed")).status_code == 200
    assert send_event(project, exception_event(exc_type="TypeError", value="kept")).status_code == 200
    doomed = Issue.objects.get(calculated_type="KeyError")

    page.goto(f"{live_server_url}/issues/{doomed.pk}/")
    with page.expect_navigation():
        page.get_by_role("link", name="Delete…").click()
    assert page.get_by_role("heading", name=f"Delete {doomed.short_id}?").is_visible()
    # Cancel goes back to the issue, nothing deleted
    with page.expect_navigation():
        page.get_by_role("link", name="Cancel").click()
    assert page.url == f"{live_server_url}/issues/{doomed.pk}/"
    with page.expect_navigation():
        page.get_by_role("link", name="Delete…").click()
    with page.expect_navigation():
        page.get_by_role("button", name=f"Delete {doomed.short_id}").click()
    assert page.url == f"{live_server_url}/projects/{project.pk}/issues/"
    assert f"Deleting {doomed.short_id} and its events in the background." in page.locator(".messages").inner_text()
    assert jobs.wait_idle(20)
    assert list(Issue.objects.values_list("calculated_type", flat=True)) == ["TypeError"]
    assert page.console_watch.errors == []
