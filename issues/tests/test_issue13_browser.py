"""Issue 13's issue-page points in a real browser (Debian's Chromium through Playwright, against our live web server):
breadcrumbs that carry their meaning in `data` read as one line, a log message's logger shows under the title, a
mute for a while says until when, and the top bar's theme toggle switches, persists and keeps ids on one line."""

from zoneinfo import ZoneInfo

import pytest

from accounts.models import UserPreferences
from events.models import Event
from projects.models import ProjectMembership
from testing.browser import login
from testing.utils import exception_event

pytestmark = [pytest.mark.live, pytest.mark.slow]


@pytest.fixture
def page(chromium_page, live_server_url, django_user_model, project):
    user = django_user_model.objects.create_user("bea", "bea@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user)
    login(chromium_page, live_server_url, "bea", "pw")
    chromium_page.user = user
    return chromium_page


def test_breadcrumbs_show_summaries(transactional_db, live_server_url, page, project, send_event):
    crumbs = [
        {"type": "http", "category": "httplib", "data": {"method": "POST", "url": "/pay", "status_code": 502}},
        {"type": "navigation", "category": "navigation", "data": {"from": "/cart", "to": "/checkout"}},
        {"category": "query", "message": "SELECT id FROM orders"},
        {"category": "console", "data": {"arguments": ["<b>not bold</b>", 7]}},
    ]
    assert send_event(project, exception_event(breadcrumbs={"values": crumbs})).status_code == 200
    issue = Event.objects.get(project=project).issue

    page.goto(f"{live_server_url}/issues/{issue.pk}/breadcrumbs/")
    summaries = page.locator("table.breadcrumbs .crumb-summary").all_inner_texts()
    assert summaries == ["POST /pay [502]", "/cart → /checkout", "SELECT id FROM orders", "<b>not bold</b> 7"]
    assert page.locator("table.breadcrumbs b").count() == 0  # hostile markup stays text


def test_log_message_issue_shows_its_logger(transactional_db, live_server_url, page, project, send_event):
    log_event = {"platform": "python", "level": "error", "logger": "payments.gateway", "message": "card declined"}
    assert send_event(project, log_event).status_code == 200
    issue = Event.objects.get(project=project).issue

    for tab in ("", "details/", "events/", "history/"):
        page.goto(f"{live_server_url}/issues/{issue.pk}/{tab}")
        logger_line = page.locator(".issue-header .issue-logger")
        assert logger_line.is_visible()
        assert "payments.gateway" in logger_line.inner_text()
        # it sits under the title
        assert logger_line.bounding_box()["y"] > page.locator("h1.issue-title").bounding_box()["y"]


def test_mute_for_an_hour_says_until_when(transactional_db, live_server_url, page, project, send_event):
    UserPreferences.objects.update_or_create(user=page.user, defaults={"timezone": "Asia/Tokyo"})
    assert send_event(project, exception_event()).status_code == 200
    issue = Event.objects.get(project=project).issue

    page.goto(f"{live_server_url}/issues/{issue.pk}/")
    page.click("details.mute-menu > summary")
    with page.expect_navigation():
        page.locator("form.mute-for button[value='1h']").click()
    issue.refresh_from_db()
    local = issue.unmute_after.astimezone(ZoneInfo("Asia/Tokyo"))
    moment = f"{local:%-d %b %Y, %H:%M}"
    flash = page.locator(".messages .message").inner_text()
    assert flash == f"Muted until {moment} JST."
    assert page.locator(".issue-state-badge").inner_text() == f"Muted until {moment}"


def test_theme_toggle_switches_persists_and_ids_stay_on_one_line(
    transactional_db, live_server_url, page, project, send_event
):
    trace_id = "4c79f60c11214eb38604f4ae0781bfb2"
    event = exception_event(contexts={"trace": {"trace_id": trace_id, "span_id": "a" * 16, "op": "http.server"}})
    assert send_event(project, event).status_code == 200
    issue = Event.objects.get(project=project).issue

    page.set_viewport_size({"width": 700, "height": 900})
    page.goto(f"{live_server_url}/issues/{issue.pk}/details/")
    # the trace id is one line (scrolling sideways if it must), not a column of single characters
    value = page.locator("dl.event-kv dt:text-is('trace_id') + dd .kv-value")
    assert value.inner_text() == trace_id
    line_height = value.evaluate("e => parseFloat(getComputedStyle(e).lineHeight) || 20")
    assert value.bounding_box()["height"] < 1.5 * line_height

    root = page.locator("html")
    background = "getComputedStyle(document.body).backgroundColor"
    assert root.get_attribute("data-theme") == "system"
    light = page.evaluate(background)
    page.evaluate("window.notReloaded = true")
    toggle = page.locator("[data-theme-toggle]")
    with page.expect_response(lambda r: r.url.endswith("/preferences/theme/")) as saved:
        toggle.click()
    assert saved.value.status == 204
    assert page.evaluate("window.notReloaded") is True  # switched in place, no reload
    assert root.get_attribute("data-theme") == "dark" and page.evaluate(background) != light
    assert toggle.get_attribute("aria-label") == "Switch to the light theme"
    assert UserPreferences.objects.get(user=page.user).theme == "dark"

    page.reload()  # rendered dark from the first byte: the preference follows the user
    assert root.get_attribute("data-theme") == "dark"
    with page.expect_response(lambda r: r.url.endswith("/preferences/theme/")):
        page.locator("[data-theme-toggle]").click()
    assert root.get_attribute("data-theme") == "light" and page.evaluate(background) == light
    assert UserPreferences.objects.get(user=page.user).theme == "light"
