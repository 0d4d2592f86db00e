"""Browser tests: Debian's Chromium driven by Playwright (the Python package; never `playwright install`).

`chromium_page()` launches a headless Chromium, opens a fresh context (no cookies, storage or permissions from
another test) and yields a page in it; root conftest.py offers it as the `chromium_page` fixture. Without Chromium
(or the playwright package) the test is skipped, and fails in CI (see testing.utils.require_service).

The browser is launched per test, not per session: Playwright's sync API keeps an asyncio event loop running in
the test's thread while it is open, and Django refuses ORM calls next to a running loop (SynchronousOnlyOperation).
While a page is open DJANGO_ALLOW_ASYNC_UNSAFE is set so that the test's own ORM calls (the server under test is
another process) still work; it is restored afterwards.

Every browser test checks the Content-Security-Policy (bugsink.csp): each page of the context reports what the
browser blocked (its `securitypolicyviolation` events, and Chromium's own console message for each), and a test that
ends with one recorded fails, whatever it was looking at. `page.console_watch` holds those and every other console
error and uncaught exception, for the tests that require a clean console.
"""

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from testing.utils import require_service

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Run in every page and frame before its own scripts (Playwright injects it past the page's policy): a blocked
# script, style, image, form target, ... is written to the console with this prefix.
CSP_VIOLATION_PREFIX = "[csp-violation]"
REPORT_CSP_VIOLATIONS = (
    "document.addEventListener('securitypolicyviolation', (e) => console.error("
    f"{CSP_VIOLATION_PREFIX!r} + ' ' + e.effectiveDirective + ' blocked ' + (e.blockedURI || '?') + ' in ' "
    "+ e.documentURI + (e.sourceFile ? ' (' + e.sourceFile + ':' + e.lineNumber + ')' : '') "
    "+ (e.sample ? ': ' + e.sample : '')));"
)


class ConsoleWatch:
    """What the pages of one browser context wrote to their consoles as errors, and their uncaught exceptions; the
    CSP violations among them."""

    def __init__(self):
        self.errors: list[str] = []
        self.csp_violations: list[str] = []
        # a test of a page that is not ours and violates its own policy on purpose says so (page.console_watch)
        self.violations_expected = False

    def on_console(self, message) -> None:
        if message.type != "error":
            return
        text = f"{message.text} [{message.location.get('url', '')}]"
        self.errors.append(text)
        if message.text.startswith(CSP_VIOLATION_PREFIX) or "Content Security Policy" in message.text:
            self.csp_violations.append(text)

    def on_page_error(self, error) -> None:
        self.errors.append(f"uncaught: {error}")

    def check_csp(self) -> None:
        if self.csp_violations and not self.violations_expected:
            listed = "\n  ".join(self.csp_violations)
            raise AssertionError(f"the browser reported Content-Security-Policy violations:\n  {listed}")


def settle(context) -> None:
    """Let each open page run its queued tasks (violation events are dispatched as tasks, after the blocked load)."""
    from playwright.sync_api import Error

    for page in context.pages:
        try:
            page.evaluate("() => new Promise((resolve) => setTimeout(resolve, 0))")
        except Error:
            pass  # closed, or navigating: nothing of it is left to report


# Playwright's own default is 30 s per action; a local server answers in well under a second, so a step that waits
# this long is broken rather than slow.
DEFAULT_TIMEOUT_MS = 15_000


def screenshot_path(name: str) -> Path:
    """Where a browser test saves a screenshot for people to look at: $BUGSINK_SCREENSHOT_DIR, else a folder in the
    system's temporary directory (tests write nowhere else). A file left there by an earlier run is removed first,
    so that it cannot pass for a new one."""
    folder = Path(os.environ.get("BUGSINK_SCREENSHOT_DIR") or Path(tempfile.gettempdir()) / "bugsink-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.unlink(missing_ok=True)
    return path


def chromium_executable() -> str | None:
    return shutil.which("chromium")


@contextmanager
def _async_unsafe_allowed() -> Iterator[None]:
    old = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = old


@contextmanager
def chromium_page(**context_options):
    """A page in a fresh browser context of a newly launched headless Chromium; everything is closed on exit.

    `context_options` go to `browser.new_context` (viewport, color_scheme, locale, ...). On a normal exit it fails
    (AssertionError) when any page of the context reported a Content-Security-Policy violation; `page.console_watch`
    (ConsoleWatch) has them and the console's other errors."""
    if os.environ.get("CULVERT_TEST_FAST") == "1":
        # before Playwright starts its event loop: a skip from inside it would leave the loop to the next tests
        pytest.skip("fast lane: drives a browser (make test runs it)")
    executable = chromium_executable()
    require_service(executable is not None, "Debian's chromium is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    require_service(sync_playwright is not None, "the playwright Python package is not installed")

    with _async_unsafe_allowed(), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(**{"viewport": {"width": 1280, "height": 800}, **context_options})
            context.set_default_timeout(DEFAULT_TIMEOUT_MS)
            watch = ConsoleWatch()
            context.add_init_script(REPORT_CSP_VIOLATIONS)
            context.on("console", watch.on_console)
            context.on("weberror", lambda web_error: watch.on_page_error(web_error.error))
            try:
                page = context.new_page()
                page.console_watch = watch
                yield page
                settle(context)
                watch.check_csp()
            finally:
                context.close()
        finally:
            browser.close()


def login(page, base_url: str, username: str, password: str) -> None:
    """Log in through the login form, as a person would (the server signs sessions with its own secret key, so a
    cookie made by the test would not do); fails with the form's error when the login is refused."""
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in", exact=True).click()
    if "/accounts/login/" in page.url:
        errors = page.locator(".errorlist")
        reason = errors.inner_text() if errors.count() else "still on the login page"
        raise AssertionError(f"login as {username!r} failed: {reason}")
