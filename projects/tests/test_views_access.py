"""Who gets what on every project, team and account page: anonymous visitors go to the login page, people outside
a project get a 404 (its existence does not leak), members who are not admins a 403 on settings, and a GET on an
action (every state change is a POST) a 405."""

import pytest
from django.urls import reverse

from alerts.models import AlertChannel
from projects.models import Invitation, ProjectMembership, Team, TeamMembership


@pytest.fixture
def world(project, owner, member, outsider):
    """One of everything the URLs point at, in `project` (and a team the owner administers)."""
    from django.utils import timezone

    channel = AlertChannel.objects.create(project=project, name="Chat", kind="slack", url="https://example.com/h")
    invitation = Invitation.objects.create(
        project=project, email="new@example.com", token_hash="x" * 64, expires_at=timezone.now()
    )
    team = Team.objects.create(name="Core")
    TeamMembership.objects.create(team=team, user=owner, role="admin")
    team_membership = TeamMembership.objects.create(team=team, user=member, role="member")
    return {
        "p": project.pk,
        "channel": channel.pk,
        "membership": ProjectMembership.objects.get(project=project, user=member).pk,
        "invitation": invitation.pk,
        "team": team.pk,
        "team_membership": team_membership.pk,
    }


def member_pages(w):
    return [
        reverse("projects:list"),
        reverse("projects:create"),
        reverse("projects:setup", args=[w["p"]]),
        reverse("projects:teams"),
        reverse("projects:team", args=[w["team"]]),
        reverse("accounts:preferences"),
        reverse("accounts:password_change"),
    ]


def admin_pages(w):
    p = w["p"]
    return [
        reverse("projects:settings", args=[p]),
        reverse("projects:alerts", args=[p]),
        reverse("projects:members", args=[p]),
    ]


def project_actions(w):
    """POST-only endpoints of the project's settings."""
    p, c, m, i = w["p"], w["channel"], w["membership"], w["invitation"]
    return [
        reverse("projects:channel_create", args=[p]),
        reverse("projects:channel_delete", args=[p, c]),
        reverse("projects:channel_toggle", args=[p, c]),
        reverse("projects:channel_test", args=[p, c]),
        reverse("projects:test_email", args=[p]),
        reverse("projects:member_add", args=[p]),
        reverse("projects:member_role", args=[p, m]),
        reverse("projects:member_remove", args=[p, m]),
        reverse("projects:invite", args=[p]),
        reverse("projects:invitation_revoke", args=[p, i]),
    ]


def other_actions(w):
    t, tm = w["team"], w["team_membership"]
    return [
        reverse("projects:team_create"),
        reverse("projects:team_member_add", args=[t]),
        reverse("projects:team_member_role", args=[t, tm]),
        reverse("projects:team_member_remove", args=[t, tm]),
        reverse("accounts:notifications"),
    ]


def test_anonymous_visitors_are_sent_to_the_login_page(client, world):
    login = reverse("accounts:login")
    for url in member_pages(world) + admin_pages(world):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(f"{login}?next="), url
    for url in project_actions(world) + other_actions(world):
        response = client.post(url)
        assert response.status_code == 302 and response["Location"].startswith(login), url


def test_every_page_renders_for_a_project_admin(client_for, owner, world):
    client = client_for(owner)
    for url in member_pages(world) + admin_pages(world):
        response = client.get(url)
        assert response.status_code == 200, url
        assert b"people.css" in response.content, url


def test_a_member_sees_the_project_but_not_its_settings(client_for, member, world):
    client = client_for(member)
    for url in member_pages(world):
        assert client.get(url).status_code == 200, url
    for url in admin_pages(world):
        response = client.get(url)
        assert response.status_code == 403, url
        assert b"Admins only" in response.content
    for url in project_actions(world):
        assert client.post(url, {"role": "admin", "user": "max", "email": "x@example.com"}).status_code == 403, url
    # nothing changed
    assert ProjectMembership.objects.get(pk=world["membership"]).role == "member"
    assert AlertChannel.objects.filter(pk=world["channel"]).exists()
    assert Invitation.objects.filter(pk=world["invitation"]).exists()


def test_someone_from_another_project_gets_404_everywhere_in_this_one(client_for, outsider, world):
    client = client_for(outsider)
    p = world["p"]
    for url in [reverse("projects:setup", args=[p]), reverse("issues:project", args=[p])] + admin_pages(world):
        assert client.get(url).status_code == 404, url
    for url in project_actions(world):
        assert client.post(url).status_code == 404, url
    # the team is not theirs either
    assert client.get(reverse("projects:team", args=[world["team"]])).status_code == 404
    assert client.post(reverse("projects:team_member_add", args=[world["team"]]), {"user": "oscar"}).status_code == 404
    # and the project list does not name it
    assert b"My App" not in client.get(reverse("projects:list")).content


def test_a_get_on_an_action_is_405(client_for, owner, world):
    client = client_for(owner)
    for url in project_actions(world) + other_actions(world):
        assert client.get(url).status_code == 405, url


def test_actions_need_the_csrf_token(owner, world):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post(reverse("projects:member_role", args=[world["p"], world["membership"]]), {"role": "admin"})
    assert response.status_code == 403
    assert ProjectMembership.objects.get(pk=world["membership"]).role == "member"
    # the page carries the token the form needs
    page = client.get(reverse("projects:members", args=[world["p"]]))
    assert b'name="csrfmiddlewaretoken"' in page.content


def test_superusers_see_and_administer_every_project(admin_client, project, other_project):
    listing = admin_client.get(reverse("projects:list"))
    assert b"My App" in listing.content and b"Other App" in listing.content
    for p in (project, other_project):
        assert admin_client.get(reverse("projects:settings", args=[p.pk])).status_code == 200


def test_unknown_objects_inside_a_visible_project_are_404(client_for, owner, world, other_project):
    from alerts.models import AlertChannel

    foreign = AlertChannel.objects.create(project=other_project, name="Theirs", kind="slack", url="https://e.com/h")
    client = client_for(owner)
    # a channel of another project, addressed through this one
    assert client.post(reverse("projects:channel_delete", args=[world["p"], foreign.pk])).status_code == 404
    assert AlertChannel.objects.filter(pk=foreign.pk).exists()
    assert client.post(reverse("projects:member_remove", args=[world["p"], 999999])).status_code == 404
