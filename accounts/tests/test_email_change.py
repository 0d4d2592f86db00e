"""A new email address takes effect only when the link mailed to it is followed; invitations bound to an address
accept only a verified one, so "type the invited address into Preferences, then accept" no longer works."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import emails
from projects import people
from projects.models import Project, ProjectMembership

PASSWORD = "correct horse battery staple"


@pytest.fixture
def mia(db):
    return get_user_model().objects.create_user("mia", "mia@example.com", PASSWORD)


def change_address(client, to: str):
    return client.post(
        reverse("accounts:preferences"),
        {"profile-email": to, "display-timezone": "UTC", "display-theme": "system"},
    )


def link_in(mail) -> str:
    return re.search(r"https?://\S+", mail.body).group(0).split("127.0.0.1:8000", 1)[1]


def test_the_address_changes_only_through_its_link(mia, mailoutbox):
    client = Client()
    client.force_login(mia)
    assert change_address(client, "mia@new.example.com").status_code == 302
    mia.refresh_from_db()
    assert mia.email == "mia@example.com"
    (mail,) = mailoutbox
    assert mail.to == ["mia@new.example.com"]
    link = link_in(mail)

    # GET only shows what the link does (mail scanners open links); POST does it, for anyone holding the link
    page = Client().get(link)
    assert page.status_code == 200 and b"mia@new.example.com" in page.content
    mia.refresh_from_db()
    assert mia.email == "mia@example.com"
    assert Client().post(link).status_code == 302
    mia.refresh_from_db()
    assert mia.email == "mia@new.example.com" and emails.is_verified(mia, "MIA@new.example.com")

    # once only
    assert Client().post(link).status_code == 410


def test_a_link_for_an_address_that_changed_since_or_expired_or_forged_is_refused(mia, mailoutbox, settings):
    client = Client()
    client.force_login(mia)
    change_address(client, "first@example.com")
    change_address(client, "second@example.com")
    first, second = (link_in(m) for m in mailoutbox)
    assert Client().post(second).status_code == 302
    assert Client().post(first).status_code == 410  # the address it replaced is gone
    mia.refresh_from_db()
    assert mia.email == "second@example.com"

    forged = first[:-8] + "AAAAAAA/"
    assert Client().get(forged).status_code == 410
    settings.EMAIL_CHANGE_LINK_HOURS = 0
    change_address(client, "third@example.com")
    assert b"expired" in Client().get(link_in(mailoutbox[-1])).content


def test_changing_the_address_to_an_invited_one_does_not_accept_the_invitation(mia, mailoutbox, admin_user):
    project = Project.objects.create(name="Payroll")
    invitation, link = people.invite_to_project(project, "boss@example.com", "admin", admin_user)
    client = Client()
    client.force_login(mia)

    change_address(client, "boss@example.com")
    response = client.post(link.split("127.0.0.1:8000", 1)[1])

    assert response.status_code == 403
    assert not ProjectMembership.objects.filter(project=project, user=mia).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_an_address_typed_at_an_open_signup_is_not_verified_for_bound_invitations(db, admin_user):
    project = Project.objects.create(name="Payroll")
    _, open_link = people.invite_to_project(project, "team@example.com", "member", admin_user, anyone_with_link=True)
    visitor = Client()
    data = {"username": "eve", "email": "boss@example.com", "password1": PASSWORD, "password2": PASSWORD}
    assert visitor.post(open_link.split("127.0.0.1:8000", 1)[1], data).status_code == 302
    eve = get_user_model().objects.get(username="eve")
    assert eve.email == "boss@example.com" and not emails.is_verified(eve, "boss@example.com")

    other = Project.objects.create(name="Board")
    invitation, bound_link = people.invite_to_project(other, "boss@example.com", "admin", admin_user)
    response = visitor.post(bound_link.split("127.0.0.1:8000", 1)[1])
    assert response.status_code == 403 and b"not verified" in response.content
    with pytest.raises(people.InvitationForSomeoneElse):
        people.accept_invitation(invitation, eve)
    assert invitation.accepted_at is None and invitation.expires_at > timezone.now()


def test_a_bound_signup_gets_a_verified_address(db, admin_user):
    project = Project.objects.create(name="Payroll")
    _, link = people.invite_to_project(project, "new@example.com", "member", admin_user)
    data = {"username": "nia", "password1": PASSWORD, "password2": PASSWORD}
    assert Client().post(link.split("127.0.0.1:8000", 1)[1], data).status_code == 302
    nia = get_user_model().objects.get(username="nia")
    assert emails.is_verified(nia, "new@example.com")
