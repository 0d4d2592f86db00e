"""The product's name on the pages people see before they are in, and in the mail they get: SITE_TITLE."""

import pytest
from django.core import mail

from projects import people
from projects.models import Project


def test_login_page_names_the_site_title(client, django_user_model):
    django_user_model.objects.create_user("someone")  # with no users at all, login sends people to the setup page
    page = client.get("/accounts/login/").content.decode()
    assert "<title>Log in · Culvert</title>" in page and "to Culvert" in page and "Bugsink" not in page


def test_setup_and_login_pages_follow_an_overridden_site_title(client, settings, django_user_model):
    settings.SITE_TITLE = "Acme Errors"
    setup = client.get("/accounts/setup/").content.decode()  # no users yet: the first one is made here
    assert "Welcome to Acme Errors" in setup and "Culvert" not in setup
    django_user_model.objects.create_user("someone")
    login = client.get("/accounts/login/").content.decode()
    assert "<title>Log in · Acme Errors</title>" in login and "> Acme Errors</a>" in login and "Culvert" not in login


@pytest.mark.django_db
def test_invitation_and_password_reset_mail_name_the_site_title(client, settings, django_user_model):
    settings.SITE_TITLE = "Acme Errors"
    settings.EMAIL_HOST = "smtp.example.com"  # the reset page sends only when mail is configured
    invitation, link = people.invite_to_project(Project.objects.create(name="Shop"), "new@example.com", "member", None)
    people.send_invitation_email(invitation, link)
    django_user_model.objects.create_user("rita", "rita@example.com", "pw-of-rita-1")
    client.post("/accounts/password/reset/", {"email": "rita@example.com"})
    invited, reset = mail.outbox
    assert invited.subject == "You are invited to Shop on Acme Errors" and "on Acme Errors, as" in invited.body
    assert reset.subject == "Reset your Acme Errors password" and "your Acme Errors account" in reset.body
