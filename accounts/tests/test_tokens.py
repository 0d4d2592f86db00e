"""Personal API tokens on the preferences: create (shown once, with how to use it), list, revoke; only one's own."""

import html
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from api.models import ApiToken, Scope, hash_token


@pytest.fixture
def alice(db):
    return get_user_model().objects.create_user("alice", "alice@example.com", "pw")


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def shown_token(response) -> str:
    match = re.search(r'<code id="new-token">(sntryu_[0-9a-f]{64})</code>', response.content.decode())
    assert match, "the token is on the page"
    return match.group(1)


def test_create_shows_the_token_once_with_how_to_use_it(alice_client, alice, settings):
    settings.ORGANIZATION_SLUG = "acme"
    response = alice_client.post("/accounts/preferences/tokens/", {"name": "CI uploads", "scope": "write"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    token = shown_token(response)
    page = html.unescape(response.content.decode())
    assert "shown only this once" in page
    assert f"export SENTRY_AUTH_TOKEN={token}" in page
    assert f"export SENTRY_URL={settings.BASE_URL}" in page and "export SENTRY_ORG=acme" in page
    assert 'data-copy="#new-token"' in page
    row = ApiToken.objects.get(user=alice)
    assert row.name == "CI uploads" and row.scope == Scope.WRITE and row.token_hash == hash_token(token)
    # it works on the API, as alice
    api = Client()
    assert api.get("/api/0/", HTTP_AUTHORIZATION=f"Bearer {token}").json()["user"]["username"] == "alice"
    # and the list never shows it again, only its hint
    listing = alice_client.get("/accounts/preferences/tokens/").content.decode()
    assert token not in listing and row.hint in listing and "CI uploads" in listing


def test_list_shows_only_own_tokens_with_their_details(alice_client, alice):
    bob = get_user_model().objects.create_user("bob")
    ApiToken.create_for(bob, "bobs token")
    ApiToken.create_for(alice, "read only", scope=Scope.READ)
    page = alice_client.get("/accounts/preferences/tokens/").content.decode()
    assert "read only" in page and "bobs token" not in page
    assert "<td>read</td>" in page and "never" in page
    assert 'href="/api/0/docs/"' in page


@pytest.mark.parametrize("data", [{"name": "", "scope": "write"}, {"name": "x", "scope": "root"}, {"name": "a\x00b"}])
def test_bad_form_is_400_and_makes_no_token(alice_client, data):
    response = alice_client.post("/accounts/preferences/tokens/", data)
    assert response.status_code == 400 and "errorlist" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_revoke_own_token_only(alice_client, alice):
    row, token = ApiToken.create_for(alice, "ci")
    bob = get_user_model().objects.create_user("bob")
    bobs, bobs_token = ApiToken.create_for(bob, "bobs")
    assert alice_client.post(f"/accounts/preferences/tokens/{bobs.pk}/revoke/").status_code == 404
    assert alice_client.get(f"/accounts/preferences/tokens/{row.pk}/revoke/").status_code == 405
    response = alice_client.post(f"/accounts/preferences/tokens/{row.pk}/revoke/", follow=True)
    assert "Revoked the token" in html.unescape(response.content.decode())
    row.refresh_from_db()
    bobs.refresh_from_db()
    assert row.revoked_at is not None and bobs.revoked_at is None
    assert "revoked" in response.content.decode()
    api = Client()
    assert api.get("/api/0/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    assert api.get("/api/0/", HTTP_AUTHORIZATION=f"Bearer {bobs_token}").status_code == 200


def test_revoke_needs_csrf(alice):
    row, _ = ApiToken.create_for(alice, "ci")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    assert browser.post(f"/accounts/preferences/tokens/{row.pk}/revoke/").status_code == 403
    row.refresh_from_db()
    assert row.revoked_at is None


def test_linked_from_preferences_and_the_user_menu_and_login_required(alice_client, client):
    page = alice_client.get("/accounts/preferences/").content.decode()
    assert page.count('href="/accounts/preferences/tokens/"') == 2  # the user menu and the page's button
    anonymous = Client()
    response = anonymous.get("/accounts/preferences/tokens/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
