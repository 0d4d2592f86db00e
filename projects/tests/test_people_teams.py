"""Teams: anyone logged in creates one (and becomes its admin); team admins and superusers manage members and
roles; members see the team and may leave it; a team keeps an admin; outsiders get a 404."""

import pytest
from django.urls import reverse

from projects.models import Project, Team, TeamMembership


@pytest.fixture
def lead(make_user):
    return make_user("lead")


@pytest.fixture
def team(lead):
    team = Team.objects.create(name="Ops")
    TeamMembership.objects.create(team=team, user=lead, role="admin")
    return team


@pytest.fixture
def mate(team, make_user):
    user = make_user("mate")
    TeamMembership.objects.create(team=team, user=user, role="member")
    return user


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_anyone_logged_in_creates_a_team_and_becomes_its_admin(client_for, make_user):
    user = make_user("founder")
    client = client_for(user)
    assert b"You are not in a team yet" in client.get(reverse("projects:teams")).content

    response = client.post(reverse("projects:team_create"), {"name": "Platform"}, follow=True)

    team = Team.objects.get(name="Platform")
    assert TeamMembership.objects.get(team=team, user=user).role == "admin"
    assert response.redirect_chain[-1][0] == reverse("projects:team", args=[team.pk])
    assert b"Add to team" in response.content
    listing = client.get(reverse("projects:teams"))
    assert listing.context["teams"][0].my_role == "admin" and listing.context["teams"][0].member_count == 1


def test_team_names_are_unique(client_for, make_user, team):
    response = client_for(make_user("x")).post(reverse("projects:team_create"), {"name": "Ops"})
    assert response.status_code == 200 and "name" in response.context["form"].errors
    assert Team.objects.count() == 1


def test_the_team_list_shows_ones_own_teams_superusers_all(client_for, admin_client, make_user, team, mate):
    Team.objects.create(name="Elsewhere")
    assert [t.name for t in client_for(mate).get(reverse("projects:teams")).context["teams"]] == ["Ops"]
    assert [t.name for t in admin_client.get(reverse("projects:teams")).context["teams"]] == ["Elsewhere", "Ops"]


def test_team_page_shows_members_roles_and_projects(client_for, team, lead, mate):
    Project.objects.create(name="Team Project", slug="tp", team=team)
    response = client_for(mate).get(reverse("projects:team", args=[team.pk]))
    html = response.content.decode()
    assert "lead@example.com" in html and "mate@example.com" in html and "Team Project" in html
    assert "Add to team" not in html  # a member does not manage
    assert "Leave team" in html


def test_someone_outside_the_team_gets_404(client_for, make_user, team, mate):
    client = client_for(make_user("stranger"))
    assert client.get(reverse("projects:team", args=[team.pk])).status_code == 404
    membership = TeamMembership.objects.get(user=mate)
    assert client.post(reverse("projects:team_member_remove", args=[team.pk, membership.pk])).status_code == 404
    assert TeamMembership.objects.filter(pk=membership.pk).exists()


def test_team_admin_adds_by_username_or_email_and_changes_roles(client_for, make_user, team, lead):
    newbie, other = make_user("newbie"), make_user("other")
    client = client_for(lead)
    client.post(reverse("projects:team_member_add", args=[team.pk]), {"user": "newbie", "role": "member"})
    client.post(reverse("projects:team_member_add", args=[team.pk]), {"user": "other@example.com", "role": "admin"})
    roles = dict(TeamMembership.objects.filter(team=team).values_list("user__username", "role"))
    assert roles == {"lead": "admin", "newbie": "member", "other": "admin"}

    membership = TeamMembership.objects.get(user=newbie)
    response = client.post(
        reverse("projects:team_member_role", args=[team.pk, membership.pk]), {"role": "admin"}, follow=True
    )
    assert "newbie is now a team admin." in messages_of(response)
    membership.refresh_from_db()
    assert membership.role == "admin"

    response = client.post(reverse("projects:team_member_remove", args=[team.pk, membership.pk]), follow=True)
    assert "newbie is no longer in Ops." in messages_of(response)
    assert not TeamMembership.objects.filter(user=newbie).exists()
    assert TeamMembership.objects.filter(user=other).exists()


def test_add_errors_are_shown(client_for, team, lead, mate):
    client = client_for(lead)
    response = client.post(reverse("projects:team_member_add", args=[team.pk]), {"user": "mate", "role": "member"})
    assert response.status_code == 200
    assert "is in this team already" in response.context["add_form"].errors["user"][0]
    response = client.post(reverse("projects:team_member_add", args=[team.pk]), {"user": "ghost", "role": "member"})
    assert "No user 'ghost'" in response.context["add_form"].errors["user"][0]


def test_members_do_not_manage_the_team(client_for, make_user, team, lead, mate):
    make_user("newbie")
    client = client_for(mate)
    lead_membership = TeamMembership.objects.get(user=lead)
    forbidden = [
        client.post(reverse("projects:team_member_add", args=[team.pk]), {"user": "newbie", "role": "admin"}),
        client.post(reverse("projects:team_member_role", args=[team.pk, lead_membership.pk]), {"role": "member"}),
        client.post(reverse("projects:team_member_remove", args=[team.pk, lead_membership.pk])),
    ]
    assert [r.status_code for r in forbidden] == [403, 403, 403]
    assert dict(TeamMembership.objects.values_list("user__username", "role")) == {"lead": "admin", "mate": "member"}


def test_a_member_may_leave(client_for, team, mate):
    membership = TeamMembership.objects.get(user=mate)
    response = client_for(mate).post(reverse("projects:team_member_remove", args=[team.pk, membership.pk]))
    assert response["Location"] == reverse("projects:teams")
    assert not TeamMembership.objects.filter(pk=membership.pk).exists()


def test_the_last_admin_stays(client_for, team, lead, mate):
    client = client_for(lead)
    mine = TeamMembership.objects.get(user=lead)
    response = client.post(reverse("projects:team_member_remove", args=[team.pk, mine.pk]), follow=True)
    assert "lead is the last admin of this team; make someone else admin first." in messages_of(response)
    client.post(reverse("projects:team_member_role", args=[team.pk, mine.pk]), {"role": "member"})
    mine.refresh_from_db()
    assert mine.role == "admin"

    # once mate is admin too, lead may leave
    client.post(
        reverse("projects:team_member_role", args=[team.pk, TeamMembership.objects.get(user=mate).pk]),
        {"role": "admin"},
    )
    client.post(reverse("projects:team_member_remove", args=[team.pk, mine.pk]))
    assert not TeamMembership.objects.filter(pk=mine.pk).exists()


def test_superusers_manage_any_team(admin_client, team, mate):
    membership = TeamMembership.objects.get(user=mate)
    admin_client.post(reverse("projects:team_member_role", args=[team.pk, membership.pk]), {"role": "admin"})
    membership.refresh_from_db()
    assert membership.role == "admin"


def test_team_members_see_the_teams_projects(client_for, team, mate):
    project = Project.objects.create(name="Team Project", slug="tp", team=team)
    client = client_for(mate)
    assert client.get(reverse("projects:setup", args=[project.pk])).status_code == 200
    TeamMembership.objects.filter(user=mate).delete()
    assert client.get(reverse("projects:setup", args=[project.pk])).status_code == 404
