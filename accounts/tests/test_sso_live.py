"""Single sign-on against a real OpenID Connect provider on loopback (node's `oidc-provider`, accounts/tests/
oidc_provider.mjs), driven in Chromium through our live server configured for it: the button, the provider's login,
back signed in; the account made from the verified address (and its invitation joined); a returning person found
by subject; an existing account linked only with its password; an unverified address, a domain that is not
allowed and a forged `state` refused."""

import re
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from django.utils import timezone

from projects.models import INVITATION_VALIDITY, Invitation, Project, ProjectMembership, hash_token
from testing.browser import screenshot_path
from testing.npm_cache import npm_package
from testing.utils import free_port, start_web_server, wait_until

pytestmark = [pytest.mark.live, pytest.mark.slow]

OIDC_PROVIDER_VERSION = "9.13.3"
SCRIPT = Path(__file__).with_name("oidc_provider.mjs")
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def sso(django_db_setup, django_db_blocker, tmp_path_factory):
    """(our server's URL, the provider's issuer): one provider and one server for the module."""
    modules = npm_package("oidc-provider", "oidc-provider", OIDC_PROVIDER_VERSION, min_node=(20, 19))
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    workdir = tmp_path_factory.mktemp("sso")
    env = {
        "OIDC_ISSUER": issuer,
        "OIDC_CLIENT_ID": "culvert",
        "OIDC_CLIENT_SECRET": "culvert-test-secret",
        "OIDC_NAME": "Acme SSO",
        "OIDC_ALLOWED_DOMAINS": "acme.test",
    }
    with django_db_blocker.unblock(), start_web_server(workdir, extra_env=env) as url:
        log_path = workdir / "oidc-provider.log"
        with open(log_path, "wb") as log:
            node = subprocess.Popen(
                ["node", str(SCRIPT), str(modules), str(port), f"{url}/accounts/oidc/callback/"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                wait_until(
                    lambda: "listening" in log_path.read_text(errors="replace"),
                    30,
                    message="oidc-provider to listen",
                    process=node,
                    details=lambda: log_path.read_text(errors="replace"),
                )
                yield url, issuer
            finally:
                node.terminate()
                node.wait(timeout=10)


@pytest.fixture(autouse=True)
def administrator(transactional_db):
    """The installation's first account (without one the login page leads to the first-admin setup)."""
    return get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)


def sign_in_at_provider(page, base_url: str, login: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    button = page.get_by_role("button", name="Sign in with Acme SSO")
    assert button.is_visible()
    page.screenshot(path=str(screenshot_path("sso-login.png")), full_page=True)
    with page.expect_navigation():
        button.click()
    page.wait_for_selector("input[name=login]")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "any password: the development login takes any")
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.wait_for_load_state()


def test_a_first_sign_in_makes_the_account_and_joins_its_invitation(transactional_db, sso, chromium_page):
    url, issuer = sso
    project = Project.objects.create(name="Payments")
    Invitation.objects.create(
        project=project,
        email="Alice@acme.test",
        role="member",
        token_hash=hash_token("t"),
        expires_at=timezone.now() + INVITATION_VALIDITY,
    )
    page = chromium_page

    sign_in_at_provider(page, url, "alice")

    assert page.url.startswith(url) and "/accounts/login/" not in page.url, page.url
    user = get_user_model().objects.get(email="alice@acme.test")
    assert page.locator("header.topbar .usermenu").inner_text().count(user.get_username()) == 1
    assert not user.has_usable_password()
    account = SocialAccount.objects.get(user=user)
    assert (account.provider, account.uid) == ("oidc", "alice")
    assert EmailAddress.objects.get(user=user).verified
    assert ProjectMembership.objects.get(project=project, user=user).role == "member"
    assert "Payments" in page.content()

    # signed out and in again: the same account, found by the provider's subject (the provider remembers alice)
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r".*/accounts/login/.*"))
    page.get_by_role("button", name="Sign in with Acme SSO").click()
    page.wait_for_url(re.compile(rf"^{re.escape(url)}/(?!accounts/login/).*"))
    assert get_user_model().objects.filter(email="alice@acme.test").count() == 1
    assert page.locator("header.topbar .usermenu").inner_text().count(user.get_username()) == 1


def test_an_existing_account_is_linked_only_with_its_password(transactional_db, sso, chromium_page):
    url, _ = sso
    carol = get_user_model().objects.create_user("carol.local", "carol@acme.test", PASSWORD)
    page = chromium_page

    sign_in_at_provider(page, url, "carol")

    assert "/accounts/sso/link/" in page.url
    assert "carol@acme.test" in page.locator("main").inner_text()
    assert not SocialAccount.objects.exists()
    page.get_by_label("Password").fill("not her password")
    page.get_by_role("button", name="Link and sign in").click()
    assert "That is not this account's password." in page.locator("main").inner_text()
    assert not SocialAccount.objects.exists()

    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Link and sign in").click()
    assert "/accounts/" not in page.url, page.url
    assert "carol.local" in page.locator("header.topbar .usermenu").inner_text()
    assert SocialAccount.objects.get(uid="carol").user == carol
    assert get_user_model().objects.filter(email__iexact="carol@acme.test").count() == 1


@pytest.mark.parametrize(
    "login, refusal",
    [
        ("unverified", "did not say that your email address is verified"),
        ("outsider", "Addresses at elsewhere.test may not sign in here"),
    ],
)
def test_refused_sign_ins(transactional_db, sso, chromium_page, login, refusal):
    url, _ = sso
    page = chromium_page
    sign_in_at_provider(page, url, login)
    assert refusal in page.locator("[data-sso-error]").inner_text()
    assert list(get_user_model().objects.values_list("username", flat=True)) == ["root"]
    assert not SocialAccount.objects.exists()
    # not signed in: the projects page sends to the login page
    page.goto(f"{url}/projects/")
    assert "/accounts/login/" in page.url


def test_a_forged_state_is_refused(transactional_db, sso):
    url, _ = sso
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{url}/accounts/oidc/callback/?state=forged&code=whatever", timeout=10)
    assert refused.value.code == 400
    assert b"does not belong to a sign-in started in this browser" in refused.value.read()
    assert list(get_user_model().objects.values_list("username", flat=True)) == ["root"]


def test_the_admin_sso_page_shows_the_redirect_uri(transactional_db, sso, chromium_page):
    url, issuer = sso
    page = chromium_page
    page.goto(f"{url}/accounts/login/")
    page.get_by_label("Username", exact=True).fill("root")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in", exact=True).click()
    page.goto(f"{url}/admin/")
    page.get_by_role("link", name="Single sign-on").click()
    assert page.locator("[data-redirect-uri]").inner_text() == f"{url}/accounts/oidc/callback/"
    assert issuer in page.locator("[data-provider=oidc]").inner_text()
