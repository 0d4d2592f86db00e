"""Login throttling through the login view: after the limit, refused (429) even with the right password until the
window ends; a success resets; the admin's login is covered too; password-reset requests are limited."""

import time

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def limits(settings):
    settings.LOGIN_FAILURES_PER_USERNAME_AND_IP = 3
    settings.LOGIN_FAILURES_PER_IP = 6
    settings.LOGIN_THROTTLE_WINDOW_SECONDS = 900
    cache.clear()
    yield settings
    cache.clear()


@pytest.fixture
def lou(db):
    return get_user_model().objects.create_user("lou", "lou@example.com", PASSWORD)


def attempt(client, username, password, address="198.51.100.7"):
    return client.post(reverse("accounts:login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def is_logged_in(client) -> bool:
    return client.get(reverse("projects:list")).status_code == 200


def test_locked_after_the_limit_even_with_the_right_password(lou):
    client = Client()
    for _ in range(3):
        response = attempt(client, "lou", "wrong")
        assert response.status_code == 200 and b"errorlist" in response.content
    response = attempt(client, "lou", PASSWORD)
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert 800 < int(response["Retry-After"]) <= 901
    assert not is_logged_in(client)
    # the username in another case is the same account
    assert attempt(client, "LOU", PASSWORD).status_code == 429
    # from another address the account is not locked
    assert attempt(client, "lou", PASSWORD, address="203.0.113.5").status_code == 302


def test_the_lock_ends_with_the_window(lou, monkeypatch):
    client = Client()
    for _ in range(3):
        attempt(client, "lou", "wrong")
    assert attempt(client, "lou", PASSWORD).status_code == 429
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 890)  # the cache's clock too: nearly over
    assert attempt(client, "lou", PASSWORD).status_code == 429
    monkeypatch.setattr(time, "time", lambda: real_time() + 902)
    assert attempt(client, "lou", PASSWORD).status_code == 302


def test_a_success_resets_the_count(lou):
    client = Client()
    for _ in range(2):
        attempt(client, "lou", "wrong")
    assert attempt(client, "lou", PASSWORD).status_code == 302
    client.post(reverse("accounts:logout"))
    for _ in range(2):
        assert attempt(client, "lou", "wrong").status_code == 200
    assert attempt(client, "lou", PASSWORD).status_code == 302  # 2 + 2 failures, but never 3 in a row


def test_one_address_guessing_many_usernames_is_stopped(lou):
    client = Client()
    for n in range(6):
        assert attempt(client, f"guess{n}", "wrong").status_code == 200
    assert attempt(client, "lou", PASSWORD).status_code == 429
    assert attempt(client, "lou", PASSWORD, address="203.0.113.5").status_code == 302


def test_the_admin_login_is_throttled_too(lou):
    lou.is_staff = lou.is_superuser = True
    lou.save()
    client = Client()
    for _ in range(3):
        attempt(client, "lou", "wrong")
    response = client.post(
        reverse("admin:login"), {"username": "lou", "password": PASSWORD}, REMOTE_ADDR="198.51.100.7"
    )
    assert response.status_code == 200  # the admin's form, with its error, and no session
    assert client.get(reverse("admin:index")).status_code == 302


def test_a_zero_limit_switches_it_off(lou, limits):
    limits.LOGIN_FAILURES_PER_USERNAME_AND_IP = 0
    limits.LOGIN_FAILURES_PER_IP = 0
    client = Client()
    for _ in range(8):
        attempt(client, "lou", "wrong")
    assert attempt(client, "lou", PASSWORD).status_code == 302


def test_password_reset_requests_are_limited(lou, settings, mailoutbox):
    settings.PASSWORD_RESETS_PER_IP = 4
    settings.PASSWORD_RESETS_PER_EMAIL = 2
    url = reverse("accounts:password_reset")
    client = Client()
    for _ in range(3):
        response = client.post(url, {"email": "lou@example.com"}, REMOTE_ADDR="198.51.100.7")
        assert response.status_code == 302  # the same answer every time
    assert len(mailoutbox) == 2  # but the mailbox gets at most two
    assert client.post(url, {"email": "other@example.com"}, REMOTE_ADDR="198.51.100.7").status_code == 302
    response = client.post(url, {"email": "other@example.com"}, REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 429 and "Too many password reset requests" in response.content.decode()
