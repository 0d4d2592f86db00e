"""Acceptance: one triage session, end to end, in a real browser (headless Debian Chromium through Playwright)
against our live web server.

Setup (before the browser opens): a user who is a member of a project, and issues made of real event samples
(bugsink/tests/samples) sent through the server's real envelope endpoint over HTTP, with releases 1.0.0/2.0.0 and
levels error/warning, and four events for one of them. From then on only the browser acts, as a person would:

log in through the form; open the project from the project list; search `release:1.0.0 level:error`; resolve
three issues at once; mute one until it gets loud (100 events in the last hour); open an issue and page through
its events; open a frame's local variables; comment on the history tab; copy the DSN from the setup page into the
clipboard. Screenshots of the issue list and the issue page (light and dark) go to $BUGSINK_SCREENSHOT_DIR
(default: bugsink-screenshots in the system's temporary folder).
"""

import json
import struct
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from events.models import Event
from projects.models import Project, ProjectMembership
from testing.browser import login, screenshot_path
from testing.utils import auth_header, make_envelope, sample_files

pytestmark = [pytest.mark.live, pytest.mark.slow]


# name: (sample, release, level, number of events)
ISSUES = {
    "checkout": ("python/checkout-gateway-timeout.json", "1.0.0", "error", 4),  # source context, local variables
    "arithmetic": ("java/arithmetic-divide-by-zero.json", "1.0.0", "error", 1),
    "node": ("node/type-error-undefined-property.json", "1.0.0", "error", 1),
    "go": ("go/http-handler-error.json", "1.0.0", "warning", 1),
    "http": ("python/wsgi-request-error.json", "2.0.0", "error", 1),
    "dotnet": ("dotnet/divide-by-zero.json", "2.0.0", "warning", 1),
    "contexts": ("react-native/undefined-is-not-a-function.json", "2.0.0", "error", 2),  # device, os, app
}
CHECKOUT_FRAME = "submit_order"  # the checkout sample's frame 1, with the locals retry_count and last_status
SEARCH = "release:1.0.0 level:error"
FOUND = {"checkout", "arithmetic", "node"}
RESOLVED = {"arithmetic", "go", "dotnet"}
MUTED = "http"
MUTE_CONDITION = "100 events in the last hour"
COMMENT = "Payment gateway times out under load; Ann is on it (see the retry_count local)."

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# --- setup: real samples through the real endpoint --------------------------------------------------------------


def send_envelope(base_url: str, project: Project, event: dict) -> str:
    """POST one event as an envelope to the live server, as an SDK does; the event id it answers with."""
    request = urllib.request.Request(
        f"{base_url}/api/{project.pk}/envelope/",
        data=make_envelope(event),
        method="POST",
        headers={
            "Content-Type": "application/x-sentry-envelope",
            "X-Sentry-Auth": auth_header(project)["HTTP_X_SENTRY_AUTH"],
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        return json.loads(response.read())["id"]


def sample_event(path: Path, release: str, level: str, n: int) -> dict:
    event = json.loads(path.read_text())
    event.update(event_id=uuid.uuid4().hex, release=release, level=level, timestamp=time.time())
    if path.name == "checkout-gateway-timeout.json":
        # each event of the issue has its own value of a local variable, to tell the events apart by their locals
        frame = event["exception"]["values"][-1]["stacktrace"]["frames"][1]
        assert frame["function"] == CHECKOUT_FRAME
        frame["vars"]["retry_count"] = n
    return event


def send_samples(base_url: str, project: Project) -> dict[str, list[str]]:
    """{name: the event ids the server gave, in the order sent} for ISSUES."""
    samples = {f"{p.parent.name}/{p.name}": p for p in sample_files()}
    missing = sorted({sample for sample, *_ in ISSUES.values()} - samples.keys())
    assert not missing, f"samples renamed or removed: {missing}"
    sent = {}
    for name, (sample, release, level, times) in ISSUES.items():
        sent[name] = [
            send_envelope(base_url, project, sample_event(samples[sample], release, level, n))
            for n in range(1, times + 1)
        ]
    return sent


# --- browser helpers --------------------------------------------------------------------------------------------


def rows(page):
    return page.locator("tr[data-issue-row]")


def row_of(page, title: str):
    return rows(page).filter(has=page.get_by_role("link", name=title, exact=True))


def shown_titles(page) -> list[str]:
    return page.locator("tr[data-issue-row] a.il-link").all_inner_texts()


def tab_count(page, tab: str) -> str:
    return page.locator(f"nav.il-tabs a[data-tab={tab}] .count").inner_text()


def click_and_wait(page, locator) -> None:
    """Click something that loads a new page, and wait for it."""
    with page.expect_navigation():
        locator.click()


def messages(page) -> str:
    return page.locator(".messages").inner_text()


def event_position(page) -> str:
    return " ".join(page.locator(".event-position").inner_text().split())


def brightness(page) -> float:
    """The page background's mean RGB channel, 0 (black) to 255 (white)."""
    color = page.evaluate("getComputedStyle(document.body).backgroundColor")  # "rgb(r, g, b)"
    channels = [int(c) for c in color[color.index("(") + 1 : color.index(")")].split(",")[:3]]
    return sum(channels) / 3


def screenshot(page, name: str, **options) -> Path:
    path = screenshot_path(name)
    page.screenshot(path=str(path), **options)
    return path


def assert_png(path: Path, min_width: int = 1280, min_height: int = 600, min_bytes: int = 20_000) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert width >= min_width and height >= min_height, (path, width, height)
    assert len(data) >= min_bytes, f"{path} is only {len(data)} bytes: a blank page?"


# --- the story --------------------------------------------------------------------------------------------------


def test_triage_session(transactional_db, live_server_url, chromium_page, django_user_model):
    from playwright.sync_api import expect  # installed: chromium_page has made sure (or skipped)

    # setup, before the browser acts: a member of a project, and issues from real samples sent over HTTP
    user = django_user_model.objects.create_user("ann", "ann@example.com", "correct horse")
    project = Project.objects.create(name="Visual Shop", slug="shop")
    ProjectMembership.objects.create(project=project, user=user)
    sent = send_samples(live_server_url, project)
    issue_of = {name: Event.objects.get(project=project, event_id=ids[0]).issue for name, ids in sent.items()}
    assert len({issue.pk for issue in issue_of.values()}) == len(ISSUES), "every sample is an issue of its own"
    for name, issue in issue_of.items():
        assert issue.event_count == len(sent[name]), name
    title = {name: issue.title() for name, issue in issue_of.items()}

    page = chromium_page
    problems = []  # script errors and failed loads (a missing stylesheet, a 500 behind a fetch) on any page
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)

    # log in through the form; the projects list is home
    login(page, live_server_url, "ann", "correct horse")
    assert page.url == f"{live_server_url}/projects/"

    # open the project from the project list: its open issues, the samples
    project_row = page.locator("table.table tbody tr").filter(has_text="Visual Shop")
    assert project_row.get_by_label("7 unresolved issues in Visual Shop").inner_text() == "7"
    click_and_wait(page, project_row.get_by_role("link", name="Visual Shop", exact=True))
    assert page.url == f"{live_server_url}/projects/{project.pk}/issues/"
    assert page.get_by_role("heading", level=1).inner_text() == "Visual Shop"
    assert sorted(shown_titles(page)) == sorted(title.values())
    assert tab_count(page, "unresolved") == "7" and tab_count(page, "resolved") == "0"
    assert row_of(page, title["checkout"]).locator("td.num").inner_text() == "4"  # its events
    assert_png(screenshot(page, "issue-list.png", full_page=True))

    # search: typed into the box, Enter
    page.get_by_role("searchbox", name="Search issues").click()
    page.keyboard.type(SEARCH)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("[data-search]").input_value() == SEARCH
    assert sorted(shown_titles(page)) == sorted(title[name] for name in FOUND)
    assert tab_count(page, "unresolved") == str(len(FOUND))
    click_and_wait(page, page.get_by_role("link", name="Clear", exact=True))
    assert page.locator("[data-search]").input_value() == ""
    assert len(shown_titles(page)) == len(ISSUES)

    # resolve three at once: their checkboxes, then Resolve
    resolve = page.get_by_role("button", name="Resolve", exact=True)
    assert resolve.is_disabled()
    for name in sorted(RESOLVED):
        row_of(page, title[name]).get_by_role("checkbox").check()
    assert page.locator("[data-selected-count]").inner_text() == "3 selected"
    click_and_wait(page, resolve)
    assert "Resolved 3 issues." in messages(page)
    assert sorted(shown_titles(page)) == sorted(title[n] for n in ISSUES if n not in RESOLVED)
    assert tab_count(page, "unresolved") == "4" and tab_count(page, "resolved") == "3"
    click_and_wait(page, page.locator("nav.il-tabs a[data-tab=resolved]"))
    assert sorted(shown_titles(page)) == sorted(title[name] for name in RESOLVED)
    for name in RESOLVED:
        assert row_of(page, title[name]).locator(".badge-resolved").inner_text() == "resolved"

    # mute one until it gets loud: 100 events in the last 1 hour, from the list's mute menu
    click_and_wait(page, page.locator("nav.il-tabs a[data-tab=unresolved]"))
    row_of(page, title[MUTED]).get_by_role("checkbox").check()
    page.locator("details.il-menu > summary", has_text="Mute").click()
    volume = page.get_by_label("At least")
    volume.click()
    volume.press("Control+A")
    volume.type("100")
    page.get_by_label("Number of periods").fill("1")
    page.get_by_label("Period", exact=True).select_option("hour")
    click_and_wait(page, page.get_by_role("button", name="Mute until then"))
    assert f"Muted 1 issue; each unmutes when it has {MUTE_CONDITION}." in messages(page)
    assert title[MUTED] not in shown_titles(page)
    assert tab_count(page, "muted") == "1"
    click_and_wait(page, page.locator("nav.il-tabs a[data-tab=muted]"))
    assert shown_titles(page) == [title[MUTED]]
    badge = row_of(page, title[MUTED]).locator(".badge-muted")
    assert badge.inner_text() == "muted" and badge.get_attribute("title") == f"Muted until {MUTE_CONDITION}"
    click_and_wait(page, page.get_by_role("link", name=title[MUTED], exact=True))
    assert page.locator(".issue-state-badge").inner_text() == f"Muted until {MUTE_CONDITION}"

    # open an issue from the project's list and page through its events: the latest first
    click_and_wait(page, page.locator(".issue-crumbs").get_by_role("link", name="Visual Shop"))
    click_and_wait(page, page.get_by_role("link", name=title["checkout"], exact=True))
    assert page.url == f"{live_server_url}/issues/{issue_of['checkout'].pk}/"
    event_ids = [uuid.UUID(i).hex for i in sent["checkout"]]

    def at_event(n: int) -> None:
        assert event_position(page) == f"Event {n} of 4"
        assert page.locator(".event-id code").inner_text() == event_ids[n - 1]

    at_event(4)
    nav = page.locator(".event-nav-steps")
    assert nav.get_by_text("Next ›").get_attribute("aria-disabled") == "true"  # the latest has no newer one
    click_and_wait(page, nav.get_by_role("link", name="‹ Previous"))
    at_event(3)
    click_and_wait(page, nav.get_by_role("link", name="« First"))
    at_event(1)
    assert nav.get_by_text("‹ Previous").get_attribute("aria-disabled") == "true"
    click_and_wait(page, nav.get_by_role("link", name="Next ›"))
    at_event(2)
    click_and_wait(page, nav.get_by_role("link", name="Last »"))
    at_event(4)
    assert page.url.endswith(f"/events/{Event.objects.get(event_id=event_ids[3]).pk}/")  # its permalink

    # a frame's local variables: closed at first, shown on a click
    frame = page.locator("li.frame").filter(has=page.locator(".frame-function", has_text=CHECKOUT_FRAME))
    local_vars = frame.locator("details.frame-vars")
    retry_count = local_vars.locator("dl.kv dt", has_text="retry_count").locator("xpath=following-sibling::dd[1]")
    last_status = local_vars.locator("dl.kv dt", has_text="last_status").locator("xpath=following-sibling::dd[1]")
    if not frame.locator("details.frame-details").evaluate("d => d.open"):
        frame.locator("summary.frame-line").click()
    assert not local_vars.evaluate("d => d.open") and not retry_count.is_visible()
    local_vars.locator("summary", has_text="Local variables").click()
    assert local_vars.evaluate("d => d.open")
    assert retry_count.is_visible() and retry_count.inner_text() == "4"  # the 4th event's own value
    assert last_status.is_visible() and "gateway-timeout" in last_status.inner_text()

    # screenshots of the issue page, light and then dark
    page.emulate_media(color_scheme="light")
    assert brightness(page) > 200, "the light theme is not light"
    light = screenshot(page, "issue-page.png", full_page=True)
    page.emulate_media(color_scheme="dark")
    assert brightness(page) < 60, "the dark theme is not applied (the user's theme is 'system')"
    dark = screenshot(page, "issue-page-dark.png", full_page=True)
    page.emulate_media(color_scheme="light")
    for path in (light, dark):
        assert_png(path)
    assert light.read_bytes() != dark.read_bytes()

    # a comment, on the history tab
    click_and_wait(page, page.locator("nav.issue-tabs").get_by_role("link", name="History"))
    page.get_by_label("Add a comment").click()
    page.keyboard.type(COMMENT)
    click_and_wait(page, page.get_by_role("button", name="Comment", exact=True))
    assert "Comment added." in messages(page)
    newest = page.locator("ol.timeline > li").first
    assert "Comment" in newest.locator(".timeline-head").inner_text()
    assert "ann" in newest.locator(".timeline-head").inner_text()
    assert newest.locator(".comment-text").inner_text().strip() == COMMENT

    # the DSN, from the project list's DSN button, copied to the clipboard
    click_and_wait(page, page.get_by_role("navigation", name="Main").get_by_role("link", name="Projects"))
    click_and_wait(page, project_row.get_by_role("link", name="DSN"))
    assert page.url == f"{live_server_url}/projects/{project.pk}/setup/"
    host = live_server_url.split("://", 1)[1]
    dsn = f"http://{project.sentry_key}@{host}/{project.pk}"
    assert page.locator(f"#dsn-{project.pk}").inner_text() == dsn
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server_url)
    page.bring_to_front()  # reading the clipboard needs a focused document
    # something else in the clipboard first: reading it back proves the test can see what the button copies
    page.evaluate("text => navigator.clipboard.writeText(text)", "not the DSN")
    assert page.evaluate("navigator.clipboard.readText()") == "not the DSN"
    copy = page.get_by_role("button", name="Copy the DSN")
    # the button says "Copied" for 1.5 s only: record its labels rather than race to read it
    copy.evaluate(
        """button => {
            window.copyLabels = [];
            new MutationObserver(() => window.copyLabels.push(button.textContent))
                .observe(button, {childList: true, characterData: true, subtree: true});
        }"""
    )
    copy.click()
    expect(copy).to_have_attribute("data-copied", "true")
    assert "Copied" in page.evaluate("window.copyLabels")
    assert page.evaluate("navigator.clipboard.readText()") == dsn

    assert problems == []
