"""The pages mark admins by the Role choice: the team list, a team's members (as a member sees them), and on a
project's members page the team's admins and the invitations that make admins."""

import re

from django.urls import reverse

from projects import people
from projects.models import Role, Team, TeamMembership


def badges(response) -> list[str]:
    return re.findall(r'<span class="badge badge-admin">([^<]*)</span>', response.content.decode())


def test_admin_badges(client_for, project, owner, make_user):
    lead, mate = make_user("lead"), make_user("mate")
    team = Team.objects.create(name="Ops")
    TeamMembership.objects.create(team=team, user=lead, role=Role.ADMIN)
    TeamMembership.objects.create(team=team, user=mate, role=Role.MEMBER)
    project.team = team
    project.save()
    people.invite_to_project(project, "new-admin@example.com", Role.ADMIN, owner)
    people.invite_to_project(project, "new-member@example.com", Role.MEMBER, owner)

    assert badges(client_for(lead).get(reverse("projects:teams"))) == ["admin"]
    assert badges(client_for(mate).get(reverse("projects:teams"))) == []
    assert badges(client_for(mate).get(reverse("projects:team", args=[team.pk]))) == ["admin"]  # lead's, not mate's
    # the team's admin (not the member) and the invitation that makes an admin (not the other one)
    assert badges(client_for(owner).get(reverse("projects:members", args=[project.pk]))) == ["team admin", "admin"]
