"""Sign-in rules through the test client: the second factor's removal and an admin's reset (recorded), REQUIRE_2FA
and its grace (API tokens unaffected), SSO_ONLY, the sessions list and signing out of the others, and deactivation
ending sessions and tokens at once."""

import time
from datetime import timedelta

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import UserPreferences
from accounts.sso_config import OidcProvider
from api.models import ApiToken

PASSWORD = "correct horse battery staple"
ADDRESS = {"REMOTE_ADDR": "198.51.100.20"}


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()  # throttle counts and used TOTP codes
    yield
    cache.clear()


@pytest.fixture
def tess(db):
    return get_user_model().objects.create_user("tess", "tess@example.com", PASSWORD)


def with_totp(user) -> str:
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def code(secret: str, offset: int = 0) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + offset))


def password_step(client, username="tess", password=PASSWORD, **extra):
    return client.post(reverse("accounts:login"), {"username": username, "password": password, **extra}, **ADDRESS)


def signed_in(client) -> bool:
    return client.get(reverse("projects:list"), **ADDRESS).status_code == 200


# --- the second step --------------------------------------------------------------------------------------------


def test_with_a_factor_the_password_alone_does_not_sign_in(tess):
    secret = with_totp(tess)
    client = Client()
    response = password_step(client, next="/projects/")
    assert response.status_code == 302 and response["Location"] == reverse("accounts:two_factor_login")
    assert not signed_in(client)
    page = client.get(response["Location"], **ADDRESS)
    assert page.status_code == 200 and b'name="code"' in page.content
    wrong = client.post(response["Location"], {"code": "000000" if code(secret) != "000000" else "111111"}, **ADDRESS)
    assert wrong.status_code == 400 and not signed_in(client)
    right = client.post(response["Location"], {"code": code(secret)}, **ADDRESS)
    assert right.status_code == 302 and right["Location"] == "/projects/"
    assert signed_in(client)


def test_the_second_step_needs_the_first(tess):
    with_totp(tess)
    response = Client().get(reverse("accounts:two_factor_login"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


def test_removing_the_factor_takes_a_current_code(tess):
    secret = with_totp(tess)
    client = Client()
    client.force_login(tess)
    assert client.post(reverse("accounts:two_factor_remove"), {"code": "99999999"}).status_code == 400
    assert Authenticator.objects.filter(user=tess).exists()
    response = client.post(reverse("accounts:two_factor_remove"), {"code": code(secret)})
    assert response.status_code == 302 and not Authenticator.objects.filter(user=tess).exists()


def test_an_admin_resets_a_second_factor_and_it_is_recorded(tess, admin_client, admin_user):
    with_totp(tess)
    changelist = reverse("admin:auth_user_changelist")
    response = admin_client.post(changelist, {"action": "reset_two_factor", "_selected_action": [tess.pk]}, follow=True)
    assert response.status_code == 200
    assert not Authenticator.objects.filter(user=tess).exists()
    entry = LogEntry.objects.get(object_id=str(tess.pk))
    assert entry.user == admin_user and "Reset two-factor authentication" in entry.get_change_message()
    # and tess signs in with the password alone again
    client = Client()
    assert password_step(client).status_code == 302
    assert signed_in(client)


# --- REQUIRE_2FA ----------------------------------------------------------------------------------------------------


def test_require_2fa_grace_then_enforced_and_tokens_unaffected(tess, settings):
    settings.REQUIRE_2FA = True
    settings.REQUIRE_2FA_GRACE_DAYS = 7
    _, token = ApiToken.create_for(tess, "ci")
    client = Client()
    response = password_step(client, next="/projects/")
    assert response.status_code == 302
    # the next page leads to the set-up once, saying until when
    first = client.get(response["Location"], **ADDRESS)
    assert first.status_code == 302 and first["Location"] == reverse("accounts:two_factor")
    setup = client.get(first["Location"], **ADDRESS)
    assert b"requires a second factor" in setup.content
    deadline = UserPreferences.objects.get(user=tess).two_factor_grace_until
    assert timedelta(days=6, hours=23) < deadline - timezone.now() <= timedelta(days=7)
    # within the grace, the rest works
    assert signed_in(client)
    # after it, nothing but the set-up (and signing out) does
    UserPreferences.objects.filter(user=tess).update(two_factor_grace_until=timezone.now() - timedelta(seconds=1))
    blocked = client.get(reverse("projects:list"), **ADDRESS)
    assert blocked.status_code == 302 and blocked["Location"] == reverse("accounts:two_factor")
    assert client.post(reverse("accounts:theme"), {"theme": "dark"}, **ADDRESS)["Location"] == reverse(
        "accounts:two_factor"
    )
    assert client.get(reverse("accounts:two_factor"), **ADDRESS).status_code == 200
    # scripts with a token are not people signing in
    assert Client().get("/api/0/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    # once a factor is set up, everything opens
    with_totp(tess)
    assert signed_in(client)


# --- SSO_ONLY -------------------------------------------------------------------------------------------------------


@pytest.fixture
def sso_only(settings):
    config = OidcProvider("acme", "Acme SSO", "https://id.acme.test", "culvert", "s", ())
    settings.OIDC_PROVIDERS = [config]
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {"provider_class": "accounts.sso.OidcProvider", "APPS": [config.as_allauth_app()]}
    }
    settings.SSO_ONLY = True
    return settings


def test_sso_only_keeps_passwords_for_superusers_alone(tess, admin_user, sso_only):
    page = Client().get(reverse("accounts:login"))
    html = page.content.decode()
    assert "Sign in with Acme SSO" in html and 'name="password"' not in html
    assert "form-action 'self' https://id.acme.test" in page["Content-Security-Policy"]
    assert 'name="password"' in Client().get(reverse("accounts:login") + "?password=1").content.decode()

    client = Client()
    assert password_step(client).status_code == 200 and not signed_in(client)  # tess: refused, right password
    tess.is_staff = True
    tess.save()
    admin_login = client.post(reverse("admin:login"), {"username": "tess", "password": PASSWORD}, **ADDRESS)
    assert admin_login.status_code == 200 and not signed_in(client)
    admin = Client()
    admin_user.set_password(PASSWORD)
    admin_user.save()
    assert password_step(admin, username=admin_user.username).status_code == 302 and signed_in(admin)


# --- sessions -------------------------------------------------------------------------------------------------------


def test_sessions_are_listed_and_the_others_can_be_ended(tess):
    laptop, phone = Client(HTTP_USER_AGENT="Laptop browser"), Client(HTTP_USER_AGENT="Phone browser")
    password_step(laptop)
    phone.post(reverse("accounts:login"), {"username": "tess", "password": PASSWORD}, REMOTE_ADDR="203.0.113.9")
    page = laptop.get(reverse("accounts:sessions"), **ADDRESS).content.decode()
    assert "Laptop browser" in page and "Phone browser" in page and "203.0.113.9" in page
    assert page.count("data-current-session") == 1

    laptop.post(reverse("accounts:sessions_end_others"), **ADDRESS)

    assert signed_in(laptop) and not signed_in(phone)
    assert "Phone browser" not in laptop.get(reverse("accounts:sessions"), **ADDRESS).content.decode()


def test_deactivating_ends_sessions_and_revokes_tokens_at_once(tess, admin_client):
    client = Client()
    password_step(client)
    forced = Client()
    forced.force_login(tess)  # a session the list never saw
    _, token = ApiToken.create_for(tess, "ci")
    assert Client().get("/api/0/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200

    admin_client.post(
        reverse("admin:auth_user_changelist"), {"action": "deactivate", "_selected_action": [tess.pk]}, follow=True
    )

    tess.refresh_from_db()
    assert not tess.is_active
    remaining = [s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(tess.pk)]
    assert remaining == []
    assert ApiToken.objects.get(user=tess).revoked_at is not None
    # reactivated, the old token stays revoked
    tess.is_active = True
    tess.save()
    assert Client().get("/api/0/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    assert not signed_in(client) and not signed_in(forced)


def test_the_provider_pages_let_their_forms_go_to_the_provider(tess, sso_only):
    for path in (reverse("accounts:login"), reverse("accounts:sso_login", args=["acme"])):
        response = Client().get(path)
        assert response.status_code == 200
        assert "form-action 'self' https://id.acme.test;" in response["Content-Security-Policy"] + ";"
    assert Client().get(reverse("accounts:sso_login", args=["nope"])).status_code == 404
