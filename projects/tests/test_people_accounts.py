"""Accounts: the first-admin setup on a fresh installation, logging in and out, changing and resetting a password,
and the preferences page (profile, time zone, theme, email alert choices).

(They live here because pytest's testpaths does not include accounts/.)"""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from accounts.models import UserPreferences
from projects.models import ProjectMembership, Team, TeamMembership
from projects.tests.conftest import PASSWORD

NEW_PASSWORD = "a different horse entirely"


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- first run ----------------------------------------------------------------------------------------------------


def test_first_run_login_sends_to_setup_which_creates_a_superuser(client, db):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 302 and response["Location"] == reverse("accounts:setup")
    # so does any page that needs a login, by way of the login page
    response = client.get(reverse("projects:list"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:setup")
    assert b"Create administrator" in response.content

    response = client.post(
        reverse("accounts:setup"),
        {"username": "root", "email": "root@example.com", "password1": PASSWORD, "password2": PASSWORD},
        follow=True,
    )

    user = get_user_model().objects.get()
    assert (user.username, user.email, user.is_superuser, user.is_staff) == ("root", "root@example.com", True, True)
    assert user.check_password(PASSWORD)
    assert response.context["user"] == user  # logged in
    assert response.redirect_chain[-1][0] == reverse("projects:create")


def test_setup_validates_the_passwords(client, db):
    response = client.post(reverse("accounts:setup"), {"username": "root", "password1": "x", "password2": "y"})
    assert response.status_code == 200 and "password2" in response.context["form"].errors
    response = client.post(reverse("accounts:setup"), {"username": "root", "password1": "1234", "password2": "1234"})
    assert "password2" in response.context["form"].errors  # too short, too common
    assert not get_user_model().objects.exists()


def test_setup_is_gone_once_a_user_exists(client, make_user):
    make_user("someone")
    assert client.get(reverse("accounts:setup")).status_code == 404
    response = client.post(
        reverse("accounts:setup"), {"username": "intruder", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 404
    assert not get_user_model().objects.filter(username="intruder").exists()
    assert client.get(reverse("accounts:login")).status_code == 200


# --- login, logout ------------------------------------------------------------------------------------------------


def test_login_and_logout(client, make_user):
    make_user("lou")
    page = client.get(reverse("accounts:login"))
    assert b'for="id_username"' in page.content and reverse("accounts:password_reset").encode() in page.content

    response = client.post(reverse("accounts:login"), {"username": "lou", "password": "wrong"})
    assert response.status_code == 200 and b"errorlist" in response.content

    response = client.post(reverse("accounts:login"), {"username": "lou", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("projects:list")).status_code == 200

    assert client.get(reverse("accounts:logout")).status_code == 405  # a POST, with the CSRF token
    client.post(reverse("accounts:logout"))
    assert client.get(reverse("projects:list")).status_code == 302


# --- password change and reset ------------------------------------------------------------------------------------


def test_password_change(client_for, make_user):
    user = make_user("pat")
    client = client_for(user)
    assert client.get(reverse("accounts:password_change")).status_code == 200

    wrong = client.post(
        reverse("accounts:password_change"),
        {"old_password": "nope", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert wrong.status_code == 200 and "old_password" in wrong.context["form"].errors

    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("accounts:preferences")
    assert "Your password was changed." in messages_of(response)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    # still logged in (the session hash was updated)
    assert client.get(reverse("projects:list")).status_code == 200


def test_password_reset_by_email(client, make_user, mailoutbox, settings):
    settings.EMAIL_HOST = "smtp.example.com"
    settings.BASE_URL = "https://errors.example.com"
    user = make_user("rita", email="rita@example.com")
    page = client.get(reverse("accounts:password_reset"))
    assert page.status_code == 200 and b"no mail server configured" not in page.content

    response = client.post(reverse("accounts:password_reset"), {"email": "RITA@example.com"}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("accounts:password_reset_done")
    assert b"Check your email" in response.content
    [mail] = mailoutbox
    assert mail.to == ["rita@example.com"] and mail.subject == "Reset your Culvert password"
    link = re.search(r"https://errors\.example\.com(/accounts/password/reset/\S+/\S+/)", mail.body).group(1)

    form_page = client.get(link, follow=True)  # Django swaps the token for a session marker first
    assert form_page.status_code == 200 and b"Choose a new password" in form_page.content
    set_url = form_page.redirect_chain[-1][0]
    response = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:password_reset_complete")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)

    # the link works once
    again = Client().get(link, follow=True)
    assert b"This link does not work any more" in again.content


def test_password_reset_for_an_unknown_address_sends_nothing_and_says_the_same(client, db, mailoutbox):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.com"}, follow=True)
    assert b"Check your email" in response.content
    assert mailoutbox == []


def test_password_reset_page_warns_without_a_mail_server(client, db, settings):
    settings.EMAIL_HOST = ""
    assert b"no mail server configured" in client.get(reverse("accounts:password_reset")).content


# --- preferences --------------------------------------------------------------------------------------------------


def test_preferences_profile_timezone_and_theme(client_for, make_user, mailoutbox):
    user = make_user("pia")
    client = client_for(user)
    page = client.get(reverse("accounts:preferences"))
    html = page.content.decode()
    assert 'for="id_display-timezone"' in html and 'name="display-theme"' in html and "Change password" in html

    response = client.post(
        reverse("accounts:preferences"),
        {
            "profile-first_name": "Pia",
            "profile-last_name": "Ng",
            "profile-email": "pia@new.example.com",
            "display-timezone": "Europe/Amsterdam",
            "display-theme": "dark",
        },
        follow=True,
    )

    assert messages_of(response)[0].startswith("Preferences saved. We sent a link to pia@new.example.com")
    user.refresh_from_db()
    prefs = UserPreferences.objects.get(user=user)
    # the new address takes effect only when the link mailed to it is followed (accounts.emails)
    assert (user.first_name, user.email, prefs.timezone, prefs.theme) == (
        "Pia",
        "pia@example.com",
        "Europe/Amsterdam",
        "dark",
    )
    (mail,) = mailoutbox
    link = re.search(r"https?://\S+", mail.body).group(0)
    assert mail.to == ["pia@new.example.com"] and client.post(link.split("8000", 1)[1]).status_code == 302
    user.refresh_from_db()
    assert user.email == "pia@new.example.com"
    assert b'data-theme="dark"' in response.content
    assert re.search(rb"It is now .* (CET|CEST) in your current time zone", response.content)


def test_preferences_refuse_bad_values(client_for, make_user):
    client = client_for(make_user("pia"))
    response = client.post(
        reverse("accounts:preferences"),
        {"profile-email": "not an address", "display-timezone": "Mars/Olympus", "display-theme": "neon"},
    )
    assert response.status_code == 200
    assert "email" in response.context["profile_form"].errors
    assert {"timezone", "theme"} <= set(response.context["form"].errors)


@pytest.mark.parametrize("checked_project, checked_team", [(True, False), (False, True)])
def test_email_alert_choices(client_for, make_user, project, checked_project, checked_team):
    user = make_user("ned")
    other = make_user("other")
    project_membership = ProjectMembership.objects.create(project=project, user=user)
    team = Team.objects.create(name="Ops")
    team_membership = TeamMembership.objects.create(team=team, user=user)
    others = TeamMembership.objects.create(team=team, user=other)
    client = client_for(user)
    page = client.get(reverse("accounts:preferences"))
    assert f'id="alerts-project-{project_membership.pk}"'.encode() in page.content

    data = {}
    if checked_project:
        data["project"] = [project_membership.pk]
    if checked_team:
        data["team"] = [team_membership.pk, others.pk]  # someone else's membership is not theirs to change
    others.send_email_alerts = True
    others.save()
    client.post(reverse("accounts:notifications"), data)

    project_membership.refresh_from_db()
    team_membership.refresh_from_db()
    others.refresh_from_db()
    assert (project_membership.send_email_alerts, team_membership.send_email_alerts) == (checked_project, checked_team)
    assert others.send_email_alerts is True
