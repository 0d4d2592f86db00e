"""The top bar's theme switch (accounts.theme): saves the theme in the user's preferences, answers the script with
204 and a plain form with a redirect back (never off-site), refuses unknown themes, and needs a login and a POST."""

import pytest
from django.urls import reverse

from accounts.models import UserPreferences

URL = reverse("accounts:theme")


@pytest.fixture
def user(db, django_user_model):
    return django_user_model.objects.create_user("tess", password="pw")


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client


def test_the_script_saves_the_theme(logged_in, user):
    response = logged_in.post(URL, {"theme": "dark"}, headers={"X-Requested-With": "fetch"})
    assert response.status_code == 204
    assert UserPreferences.objects.get(user=user).theme == "dark"
    logged_in.post(URL, {"theme": "light"}, headers={"X-Requested-With": "fetch"})
    assert UserPreferences.objects.get(user=user).theme == "light"
    page = logged_in.get(reverse("accounts:preferences")).content.decode()
    assert 'data-theme="light"' in page and 'name="theme" value="dark" data-theme-toggle' in page


def test_the_form_comes_back_to_its_page_and_never_off_site(logged_in, user):
    response = logged_in.post(URL, {"theme": "dark", "next": "/issues/"})
    assert response.status_code == 302 and response["Location"] == "/issues/"
    response = logged_in.post(URL, {"theme": "system", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert UserPreferences.objects.get(user=user).theme == "system"


def test_refusals(client, logged_in, user):
    assert logged_in.post(URL, {"theme": "purple"}).status_code == 400
    assert logged_in.get(URL).status_code == 405
    assert not UserPreferences.objects.filter(user=user).exists()
    client.logout()
    response = client.post(URL, {"theme": "dark"})
    assert response.status_code == 302 and "login" in response["Location"]
