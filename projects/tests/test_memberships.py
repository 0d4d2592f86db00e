"""Project membership and team membership are one feature: the same verbs (projects.people), the same views
(projects.views.memberships) and the same member table, for either kind of group. What differs on purpose (a team's
members may leave it; a project's members page is for its admins) is checked here side by side."""

import pytest
from django.urls import resolve, reverse

from projects import people
from projects.models import Project, ProjectMembership, Team, TeamMembership
from projects.views import memberships


@pytest.fixture
def groups(db, make_user):
    """A project and a team, each with an admin ("ada") and a member ("mo")."""
    ada, mo = make_user("ada"), make_user("mo")
    project = Project.objects.create(name="Shop", slug="shop")
    team = Team.objects.create(name="Ops")
    for kind, group in ((people.PROJECT, project), (people.TEAM, team)):
        kind.model.objects.create(**{kind.group_field: group}, user=ada, role="admin")
        kind.model.objects.create(**{kind.group_field: group}, user=mo, role="member")
    return {"project": (people.PROJECT, project), "team": (people.TEAM, team), "ada": ada, "mo": mo}


def page_url(noun: str, group) -> str:
    return reverse("projects:members" if noun == "project" else "projects:team", args=[group.pk])


def route(noun: str, action: str) -> str:
    return {"project": f"projects:member_{action}", "team": f"projects:team_member_{action}"}[noun]


@pytest.mark.parametrize("noun", ["project", "team"])
def test_the_verbs_keep_an_admin_and_refuse_a_second_membership(groups, make_user, noun):
    kind, group = groups[noun]
    ada = kind.memberships_of(group).get(user=groups["ada"])
    with pytest.raises(people.PeopleError, match=f"last admin of this {noun}"):
        people.change_role(kind, ada, "member")
    with pytest.raises(people.PeopleError, match=f"last admin of this {noun}"):
        people.remove_member(kind, ada)
    with pytest.raises(people.PeopleError, match="already"):
        people.add_member(kind, group, "mo", "member")

    make_user("new")
    newcomer = people.add_member(kind, group, "new@example.com", "admin")
    assert isinstance(newcomer, kind.model) and newcomer.role == "admin"
    people.change_role(kind, ada, "member")  # another admin now exists
    people.remove_member(kind, ada)
    assert list(kind.memberships_of(group).order_by("user__username").values_list("user__username", "role")) == [
        ("mo", "member"),
        ("new", "admin"),
    ]


@pytest.mark.parametrize("noun", ["project", "team"])
def test_both_kinds_are_served_by_the_same_views_and_table(groups, client_for, noun):
    kind, group = groups[noun]
    membership = kind.memberships_of(group).get(user=groups["mo"])
    for action, view in (("add", memberships.add_member), ("role", memberships.change_role)):
        args = [group.pk] if action == "add" else [group.pk, membership.pk]
        assert resolve(reverse(route(noun, action), args=args)).func is view
    assert resolve(reverse(route(noun, "remove"), args=[group.pk, membership.pk])).func is memberships.remove_member

    response = client_for(groups["ada"]).get(page_url(noun, group))
    assert "projects/_members.html" in [t.name for t in response.templates]
    assert f'for="role-{membership.pk}">Role of mo</label>' in response.content.decode()


@pytest.mark.parametrize("noun", ["project", "team"])
def test_an_admin_adds_changes_and_removes_through_the_one_set_of_views(groups, client_for, make_user, noun):
    kind, group = groups[noun]
    make_user("newbie")
    client = client_for(groups["ada"])
    response = client.post(reverse(route(noun, "add"), args=[group.pk]), {"user": "newbie", "role": "member"})
    assert response.status_code == 302 and response.url == page_url(noun, group)
    newbie = kind.memberships_of(group).get(user__username="newbie")

    response = client.post(reverse(route(noun, "role"), args=[group.pk, newbie.pk]), {"role": "nonsense"})
    assert response.status_code == 302
    assert kind.memberships_of(group).get(pk=newbie.pk).role == "member"  # an unknown role changes nothing

    client.post(reverse(route(noun, "role"), args=[group.pk, newbie.pk]), {"role": "admin"})
    assert kind.memberships_of(group).get(pk=newbie.pk).role == "admin"
    client.post(reverse(route(noun, "remove"), args=[group.pk, newbie.pk]))
    assert not kind.memberships_of(group).filter(pk=newbie.pk).exists()


def test_a_team_member_may_leave_a_project_member_may_not_remove_themselves(groups, client_for):
    """Where the two differ on purpose: the team's page is every member's, the project's members page is a
    settings page for its admins (MemberPages.members_may_leave)."""
    client = client_for(groups["mo"])
    _, project = groups["project"]
    _, team = groups["team"]
    own_project = ProjectMembership.objects.get(project=project, user=groups["mo"])
    own_team = TeamMembership.objects.get(team=team, user=groups["mo"])

    assert client.post(reverse("projects:member_remove", args=[project.pk, own_project.pk])).status_code == 403
    assert ProjectMembership.objects.filter(pk=own_project.pk).exists()
    response = client.post(reverse("projects:team_member_remove", args=[team.pk, own_team.pk]))
    assert response.status_code == 302 and response.url == reverse("projects:teams")
    assert not TeamMembership.objects.filter(pk=own_team.pk).exists()


@pytest.mark.parametrize("noun", ["project", "team"])
def test_a_member_who_is_not_an_admin_cannot_manage_others(groups, client_for, make_user, noun):
    kind, group = groups[noun]
    make_user("newbie")
    client = client_for(groups["mo"])
    ada = kind.memberships_of(group).get(user=groups["ada"])
    assert client.post(reverse(route(noun, "add"), args=[group.pk]), {"user": "newbie"}).status_code == 403
    assert client.post(reverse(route(noun, "role"), args=[group.pk, ada.pk]), {"role": "member"}).status_code == 403
    assert client.post(reverse(route(noun, "remove"), args=[group.pk, ada.pk])).status_code == 403
    assert list(kind.memberships_of(group).values_list("user__username", "role").order_by("user__username")) == [
        ("ada", "admin"),
        ("mo", "member"),
    ]


@pytest.mark.parametrize("noun", ["project", "team"])
def test_outsiders_get_a_404_from_every_member_view(groups, client_for, make_user, noun):
    kind, group = groups[noun]
    client = client_for(make_user("stranger"))
    mo = kind.memberships_of(group).get(user=groups["mo"])
    assert client.post(reverse(route(noun, "add"), args=[group.pk]), {"user": "stranger"}).status_code == 404
    assert client.post(reverse(route(noun, "role"), args=[group.pk, mo.pk]), {"role": "admin"}).status_code == 404
    assert client.post(reverse(route(noun, "remove"), args=[group.pk, mo.pk])).status_code == 404
    assert kind.memberships_of(group).count() == 2


def test_a_membership_of_another_group_is_a_404(groups, client_for):
    """The membership is looked up within the group of the URL, whichever kind."""
    other_team = Team.objects.create(name="Elsewhere")
    stray_team = TeamMembership.objects.create(team=other_team, user=groups["mo"], role="member")
    other_project = Project.objects.create(name="Elsewhere", slug="elsewhere")
    stray_project = ProjectMembership.objects.create(project=other_project, user=groups["mo"], role="member")
    _, team = groups["team"]
    _, project = groups["project"]
    client = client_for(groups["ada"])
    assert client.post(reverse("projects:team_member_remove", args=[team.pk, stray_team.pk])).status_code == 404
    assert client.post(reverse("projects:member_remove", args=[project.pk, stray_project.pk])).status_code == 404
    assert TeamMembership.objects.filter(pk=stray_team.pk).exists()
    assert ProjectMembership.objects.filter(pk=stray_project.pk).exists()
