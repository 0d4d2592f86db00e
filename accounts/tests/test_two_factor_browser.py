"""Two-factor authentication in Chromium against a live server: set up TOTP in Preferences (the codes computed here,
RFC 6238 through allauth's own HOTP function), sign out, sign in with password + code, then with a recovery code;
a wrong code is refused, and after the login throttle's limit even the right one is (429)."""

import re
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.contrib.auth import get_user_model

from testing.browser import login, screenshot_path
from testing.utils import start_web_server

pytestmark = [pytest.mark.live, pytest.mark.slow]

PASSWORD = "correct horse battery staple"


def totp(secret: str, offset: int = 0) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + offset))


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory):
    env = {"LOGIN_FAILURES_PER_USERNAME_AND_IP": "4", "LOGIN_FAILURES_PER_IP": "0"}
    with django_db_blocker.unblock(), start_web_server(tmp_path_factory.mktemp("2fa"), extra_env=env) as url:
        yield url


def sign_in_with_password(page, url):
    page.goto(f"{url}/accounts/login/")
    page.get_by_label("Username", exact=True).fill("tess")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in", exact=True).click()


def enter_code(page, code):
    page.get_by_label("Code").fill(code)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def sign_out(page):
    with page.expect_navigation():
        page.get_by_role("button", name="Log out").click()


def signed_in(page) -> bool:
    return page.locator("header.topbar .usermenu").count() == 1


def test_set_up_then_sign_in_with_a_code_a_recovery_code_and_not_a_wrong_one(transactional_db, server, chromium_page):
    url = server
    get_user_model().objects.create_user("tess", "tess@example.com", PASSWORD)
    page = chromium_page
    login(page, url, "tess", PASSWORD)

    # set up, from Preferences
    page.goto(f"{url}/accounts/preferences/")
    page.get_by_role("link", name="Two-factor authentication").click()
    assert page.locator(".totp-qr svg").is_visible()
    page.screenshot(path=str(screenshot_path("two-factor-setup.png")), full_page=True)
    secret = page.locator("[data-totp-secret]").inner_text().strip()
    page.get_by_label("Authenticator code").fill("000000" if totp(secret) != "000000" else "111111")
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    assert page.locator(".errorlist").is_visible()  # a wrong first code turns nothing on
    assert not Authenticator.objects.exists()
    # the form keeps the same secret for the second try
    assert page.locator("[data-totp-secret]").inner_text().strip() == secret
    page.get_by_label("Authenticator code").fill(totp(secret))
    with page.expect_navigation():
        page.get_by_role("button", name="Turn on two-factor authentication").click()
    assert "/two-factor/recovery-codes/" in page.url
    codes = [c.strip() for c in page.locator("[data-recovery-codes] code").all_inner_texts()]
    assert len(codes) == 10 and all(re.fullmatch(r"\d{8}", c) for c in codes)

    # password + code
    sign_out(page)
    sign_in_with_password(page, url)
    assert "/accounts/2fa/authenticate/" in page.url and not signed_in(page)
    page.screenshot(path=str(screenshot_path("two-factor-login.png")), full_page=True)
    enter_code(page, totp(secret, offset=1))  # the app's next code: within the tolerance, and not used yet
    assert signed_in(page), page.url

    # password + recovery code, once
    sign_out(page)
    sign_in_with_password(page, url)
    enter_code(page, codes[0])
    assert signed_in(page)
    page.goto(f"{url}/accounts/preferences/two-factor/")
    assert page.locator("[data-unused-codes]").get_attribute("data-unused-codes") == "9"
    sign_out(page)
    sign_in_with_password(page, url)
    enter_code(page, codes[0])  # used already
    assert not signed_in(page) and "/accounts/2fa/authenticate/" in page.url
    assert page.locator(".errorlist").is_visible()

    # wrong codes count as failed logins: after the limit (4, one used above) even the right code is refused
    for _ in range(3):
        enter_code(page, "12345678")
        assert not signed_in(page)
    page.get_by_label("Code").fill(totp(secret, offset=-1))
    with page.expect_response(lambda r: "/accounts/2fa/authenticate/" in r.url and r.request.method == "POST") as r:
        page.get_by_role("button", name="Sign in").click()
    assert r.value.status == 429
    assert "Too many failed logins" in page.locator(".errorlist").inner_text()
    assert not signed_in(page)
    # and the password step too, for this account from this address
    sign_in_with_password(page, url)
    assert "Too many failed logins" in page.locator(".errorlist").inner_text()
