"""Project members and invitations: adding, roles, removing, the last-admin rule; inviting with and without a
mail server, accepting as a logged-in user and as a new one, expiry, single use, revoking."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from projects.models import Invitation, ProjectMembership
from projects.tests.conftest import PASSWORD


@pytest.fixture
def client(client_for, owner):
    return client_for(owner)


def members_url(project) -> str:
    return reverse("projects:members", args=[project.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- members ------------------------------------------------------------------------------------------------------


def test_members_page_lists_people_with_roles(client, project, owner, member):
    response = client.get(members_url(project))
    html = response.content.decode()
    assert "olivia@example.com" in html and "max@example.com" in html
    membership = ProjectMembership.objects.get(user=member)
    assert f'<label class="visually-hidden" for="role-{membership.pk}">Role of max</label>' in html


@pytest.mark.parametrize("identifier", ["newbie", "NEWBIE", "newbie@example.com", "NewBie@Example.com"])
def test_add_member_by_username_or_email(client, project, make_user, identifier):
    user = make_user("newbie")
    response = client.post(reverse("projects:member_add", args=[project.pk]), {"user": identifier, "role": "admin"})
    assert response.status_code == 302
    assert ProjectMembership.objects.get(project=project, user=user).role == "admin"


def test_add_member_errors_are_shown_on_the_form(client, project, member, make_user):
    url = reverse("projects:member_add", args=[project.pk])
    response = client.post(url, {"user": "nobody", "role": "member"})
    assert response.status_code == 200
    assert "No user 'nobody'" in response.context["add_form"].errors["user"][0]
    response = client.post(url, {"user": "max", "role": "member"})
    assert "is a member of this project already" in response.context["add_form"].errors["user"][0]
    make_user("twin1", email="same@example.com")
    make_user("twin2", email="same@example.com")
    response = client.post(url, {"user": "same@example.com", "role": "member"})
    assert "use the username" in response.context["add_form"].errors["user"][0]
    response = client.post(url, {"user": "twin1", "role": "owner"})
    assert "role" in response.context["add_form"].errors


def test_change_role_and_remove(client, project, member):
    membership = ProjectMembership.objects.get(user=member)
    client.post(reverse("projects:member_role", args=[project.pk, membership.pk]), {"role": "admin"})
    membership.refresh_from_db()
    assert membership.role == "admin"

    response = client.post(reverse("projects:member_remove", args=[project.pk, membership.pk]), follow=True)
    assert not ProjectMembership.objects.filter(pk=membership.pk).exists()
    assert "max is no longer a member of My App." in messages_of(response)


def test_the_last_admin_can_be_neither_demoted_nor_removed(client, project, owner, member):
    mine = ProjectMembership.objects.get(user=owner)
    response = client.post(reverse("projects:member_role", args=[project.pk, mine.pk]), {"role": "member"}, follow=True)
    assert "olivia is the last admin of this project; make someone else admin first." in messages_of(response)
    response = client.post(reverse("projects:member_remove", args=[project.pk, mine.pk]), follow=True)
    assert "last admin" in messages_of(response)[0]
    mine.refresh_from_db()
    assert mine.role == "admin"

    # with a second admin, the first may step down
    other = ProjectMembership.objects.get(user=member)
    client.post(reverse("projects:member_role", args=[project.pk, other.pk]), {"role": "admin"})
    client.post(reverse("projects:member_role", args=[project.pk, mine.pk]), {"role": "member"})
    mine.refresh_from_db()
    assert mine.role == "member"


def test_an_admin_who_removes_themselves_lands_on_the_project_list(client, project, owner, member):
    ProjectMembership.objects.filter(user=member).update(role="admin")
    mine = ProjectMembership.objects.get(user=owner)
    response = client.post(reverse("projects:member_remove", args=[project.pk, mine.pk]))
    assert response["Location"] == reverse("projects:list")
    assert client.get(members_url(project)).status_code == 404


# --- invitations --------------------------------------------------------------------------------------------------


def invite(client, project, email="newcomer@example.com", role="member", anyone_with_link=False):
    data = {"email": email, "role": role, **({"anyone_with_link": "on"} if anyone_with_link else {})}
    return client.post(reverse("projects:invite", args=[project.pk]), data, follow=True)


def link_on_page(response) -> str:
    match = re.search(r'<code id="invite-link">([^<]+)</code>', response.content.decode())
    assert match, "no invitation link on the page"
    return match.group(1)


def path_of(link: str) -> str:
    assert link.startswith("http://127.0.0.1:8000/")  # BASE_URL
    return link[len("http://127.0.0.1:8000") :]


def test_without_a_mail_server_the_link_is_shown_once_to_copy(client, project, settings, mailoutbox):
    settings.EMAIL_HOST = ""
    response = invite(client, project, role="admin")

    assert mailoutbox == []
    link = link_on_page(response)
    assert 'data-copy="#invite-link"' in response.content.decode()
    assert "no <code>EMAIL_HOST</code> is configured" in response.content.decode()
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role, invitation.invited_by.username) == (
        "newcomer@example.com",
        "admin",
        "olivia",
    )
    assert link.rsplit("/", 2)[-2] not in invitation.token_hash  # only the hash of the token is stored
    # listed as pending; the link is not shown again
    again = client.get(members_url(project))
    assert b"newcomer@example.com" in again.content and b'id="invite-link"' not in again.content


def test_with_a_mail_server_the_invitation_is_emailed(client, project, settings, mailoutbox):
    settings.EMAIL_HOST = "smtp.example.com"
    response = invite(client, project)

    assert "Invitation emailed to newcomer@example.com." in messages_of(response)
    assert b'id="invite-link"' not in response.content
    [mail] = mailoutbox
    assert mail.to == ["newcomer@example.com"]
    assert "My App" in mail.subject and "olivia invited you" in mail.body
    link = re.search(r"http://127\.0\.0\.1:8000/\S+", mail.body).group(0)
    page = Client().get(path_of(link))
    assert page.status_code == 200 and b"Join My App" in page.content


def test_when_the_mail_server_fails_the_link_is_shown_instead(client, project, settings, monkeypatch):
    settings.EMAIL_HOST = "smtp.example.com"

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("connection refused")

    monkeypatch.setattr("projects.people.send_mail", refuse)
    response = invite(client, project)
    assert "could not be sent" in messages_of(response)[0]
    assert link_on_page(response).startswith("http://127.0.0.1:8000/projects/invitations/")


def test_invitation_form_errors(client, project, member):
    response = client.post(reverse("projects:invite", args=[project.pk]), {"email": "nope", "role": "member"})
    assert response.status_code == 200 and "email" in response.context["invite_form"].errors
    response = client.post(
        reverse("projects:invite", args=[project.pk]), {"email": "MAX@example.com", "role": "member"}
    )
    assert "is a member of this project already" in response.context["invite_form"].errors["email"][0]
    assert not Invitation.objects.exists()


def test_a_new_invitation_replaces_the_pending_one_for_that_address(client, project):
    first = path_of(link_on_page(invite(client, project)))
    second = path_of(link_on_page(invite(client, project)))
    assert Invitation.objects.count() == 1
    assert Client().get(first).status_code == 404
    assert Client().get(second).status_code == 200


def test_accept_as_a_logged_in_user(client, client_for, project, make_user):
    link = path_of(link_on_page(invite(client, project, email="Sam@Example.com", role="admin")))
    existing = make_user("sam")  # sam@example.com: the same address in another case
    them = client_for(existing)

    page = them.get(link)
    assert page.status_code == 200
    assert b"You are logged in as <strong>sam</strong>" in page.content

    response = them.post(link)

    assert response.status_code == 302 and response["Location"] == reverse("issues:project", args=[project.pk])
    assert ProjectMembership.objects.get(project=project, user=existing).role == "admin"
    invitation = Invitation.objects.get()
    assert invitation.accepted_by == existing and invitation.accepted_at is not None
    assert them.get(reverse("projects:setup", args=[project.pk])).status_code == 200


def test_accept_as_a_new_user_signs_up_and_joins(client, project):
    link = path_of(link_on_page(invite(client, project, email="fresh@example.com")))
    visitor = Client()
    page = visitor.get(link)
    assert b"Create your account" in page.content and b'value="fresh@example.com"' in page.content

    mismatch = visitor.post(link, {"username": "fresh", "password1": PASSWORD, "password2": PASSWORD + "!"})
    assert mismatch.status_code == 200 and "password2" in mismatch.context["form"].errors
    assert not get_user_model().objects.filter(username="fresh").exists()

    response = visitor.post(link, {"username": "fresh", "password1": PASSWORD, "password2": PASSWORD}, follow=True)

    user = get_user_model().objects.get(username="fresh")
    assert user.email == "fresh@example.com" and user.check_password(PASSWORD)
    assert ProjectMembership.objects.get(project=project, user=user).role == "member"
    assert response.context["user"] == user  # logged in
    assert "Welcome to My App." in messages_of(response)


def test_signup_refuses_a_taken_username(client, project, member):
    link = path_of(link_on_page(invite(client, project, email="fresh@example.com")))
    response = Client().post(link, {"username": "max", "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 200 and "username" in response.context["form"].errors
    assert Invitation.objects.get().accepted_at is None


def test_a_used_link_is_refused(client, client_for, project, make_user):
    link = path_of(link_on_page(invite(client, project)))
    assert client_for(make_user("first", email="newcomer@example.com")).post(link).status_code == 302

    for visitor in (client_for(make_user("second")), Client()):
        response = visitor.get(link)
        assert response.status_code == 410 and b"has been used already" in response.content
        assert visitor.post(link, {"username": "x", "password1": PASSWORD, "password2": PASSWORD}).status_code == 410
    assert not ProjectMembership.objects.filter(user__username="second").exists()
    assert not get_user_model().objects.filter(username="x").exists()


def test_an_expired_link_is_refused(client, client_for, project, make_user):
    link = path_of(link_on_page(invite(client, project)))
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    late = client_for(make_user("late"))
    response = late.get(link)
    assert response.status_code == 410 and b"has expired" in response.content
    assert late.post(link).status_code == 410
    assert not ProjectMembership.objects.filter(user__username="late").exists()
    # the admin sees it as expired
    assert b"badge-expired" in client.get(members_url(project)).content


def test_invitations_last_seven_days(client, project):
    invite(client, project)
    invitation = Invitation.objects.get()
    assert abs(invitation.expires_at - invitation.created_at - timedelta(days=7)) < timedelta(seconds=5)


def test_a_revoked_link_is_refused(client, project):
    link = path_of(link_on_page(invite(client, project)))
    invitation = Invitation.objects.get()
    response = client.post(reverse("projects:invitation_revoke", args=[project.pk, invitation.pk]), follow=True)
    assert "Invitation of newcomer@example.com revoked; its link no longer works." in messages_of(response)
    assert Client().get(link).status_code == 404


def test_an_unknown_link_is_404(client):
    assert Client().get(reverse("projects:accept_invitation", args=["not-a-token"])).status_code == 404


def test_accepting_never_lowers_a_role(client, client_for, project, member):
    ProjectMembership.objects.filter(user=member).update(role="admin")
    link = path_of(link_on_page(invite(client, project, email="other@example.com", anyone_with_link=True)))
    assert client_for(member).post(link).status_code == 302
    assert ProjectMembership.objects.get(user=member).role == "admin"


def test_the_login_page_leads_back_to_the_invitation(client, project, make_user):
    link = path_of(link_on_page(invite(client, project)))
    make_user("returning", email="newcomer@example.com")
    visitor = Client()
    page = visitor.get(link)
    login_link = f"{reverse('accounts:login')}?next={link}"
    assert login_link.encode() in page.content
    response = visitor.post(reverse("accounts:login"), {"username": "returning", "password": PASSWORD, "next": link})
    assert response["Location"] == link
    assert visitor.post(link).status_code == 302
    assert ProjectMembership.objects.filter(project=project, user__username="returning").exists()


# --- invitations are for the invited address ---------------------------------------------------------------------


def test_a_member_cannot_accept_an_admin_invitation_meant_for_someone_else(client, client_for, project, member):
    link = path_of(link_on_page(invite(client, project, email="carol@example.com", role="admin")))
    bob = client_for(member)  # max@example.com, a plain member

    page = bob.get(link)
    assert page.status_code == 403
    html = page.content.decode()
    assert "This invitation is for someone else" in html and "This invitation is for carol@example.com" in html
    assert '<main id="main"' in html  # the site's layout
    assert bob.post(link).status_code == 403

    assert ProjectMembership.objects.get(project=project, user=member).role == "member"
    assert Invitation.objects.get().accepted_at is None  # still there for carol
    carol = client_for(get_user_model().objects.create_user("carol", "CAROL@example.com", PASSWORD))
    assert carol.post(link).status_code == 302
    assert ProjectMembership.objects.get(project=project, user__username="carol").role == "admin"


def test_a_user_without_an_address_cannot_accept_a_bound_invitation(client, client_for, project, make_user):
    link = path_of(link_on_page(invite(client, project)))
    nobody = client_for(make_user("nobody", email=""))
    assert nobody.post(link).status_code == 403
    assert not ProjectMembership.objects.filter(user__username="nobody").exists()


def test_anyone_with_the_link_may_accept_when_the_admin_said_so(client, client_for, project, member):
    page = client.get(members_url(project))
    assert 'name="anyone_with_link"' in page.content.decode()
    assert not page.context["invite_form"]["anyone_with_link"].initial  # off by default

    response = invite(client, project, email="carol@example.com", role="admin", anyone_with_link=True)
    link = path_of(link_on_page(response))
    assert Invitation.objects.get().anyone_with_link
    assert "anyone with the link" in client.get(members_url(project)).content.decode()
    response = client_for(member).post(link)
    assert response.status_code == 302
    assert ProjectMembership.objects.get(project=project, user=member).role == "admin"


def test_a_new_user_of_an_open_invitation_gives_their_own_address(client, project):
    link = path_of(link_on_page(invite(client, project, email="team@example.com", anyone_with_link=True)))
    visitor = Client()
    assert b'name="email"' in visitor.get(link).content
    data = {"username": "walker", "email": "walker@example.org", "password1": PASSWORD, "password2": PASSWORD}
    assert visitor.post(link, data).status_code == 302
    user = get_user_model().objects.get(username="walker")
    assert user.email == "walker@example.org"
    assert ProjectMembership.objects.filter(project=project, user=user).exists()


def test_a_new_user_of_a_bound_invitation_gets_the_invited_address(client, project):
    link = path_of(link_on_page(invite(client, project, email="fresh@example.com")))
    visitor = Client()
    # an email in the form is ignored: the account gets the address the invitation went to
    data = {"username": "fresh", "email": "elsewhere@example.org", "password1": PASSWORD, "password2": PASSWORD}
    assert visitor.post(link, data).status_code == 302
    assert get_user_model().objects.get(username="fresh").email == "fresh@example.com"
