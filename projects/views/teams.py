"""Teams: the list of the user's teams, creating one, and a team's page with its members and projects."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from projects import people
from projects.access import visible_projects
from projects.forms import TeamForm
from projects.models import TeamMembership
from projects.views.memberships import MemberPages


def _render_team_list(request, form=None, status=200):
    teams = (
        people.teams_of(request.user)
        .annotate(
            member_count=Count("memberships", distinct=True),
            project_count=Count("projects", distinct=True),
        )
        .order_by("name")
    )
    roles = dict(TeamMembership.objects.filter(user=request.user).values_list("team_id", "role"))
    teams = list(teams)
    for team in teams:
        team.my_role = roles.get(team.pk)
    return render(
        request,
        "projects/teams.html",
        {"teams": teams, "form": form or TeamForm(), "admin_role": TeamMembership.Role.ADMIN, "nav": "teams"},
        status=status,
    )


@login_required
def team_list(request):
    return _render_team_list(request)


@login_required
@require_POST
def team_create(request):
    form = TeamForm(request.POST)
    if not form.is_valid():
        return _render_team_list(request, form=form)
    team = people.create_team(request.user, form.cleaned_data["name"])
    messages.success(request, f"Team {team.name} created; you are its admin.")
    return redirect("projects:team", team.pk)


def _render_team(request, team, add_form=None, status=200):
    context = {
        **TEAM_PAGES.table(request, team, add_form),
        "team": team,
        "projects": visible_projects(request.user).filter(team=team).order_by("name"),
        "nav": "teams",
    }
    return render(request, "projects/team.html", context, status=status)


TEAM_PAGES = MemberPages(
    kind=people.TEAM,
    group_id="team_id",
    visible=lambda user: people.teams_of(user).distinct(),
    is_admin=people.is_team_admin,
    members_may_leave=True,
    nav="teams",
    page="projects:team",
    list_page="projects:teams",
    add_url="projects:team_member_add",
    role_url="projects:team_member_role",
    remove_url="projects:team_member_remove",
    add_button="Add to team",
    render=_render_team,
    added="{user} joined {group}.",
    role_changed="{user} is now a team {role}.",
    removed="{user} is no longer in {group}.",
    left="You left {group}.",
)


@login_required
def team_detail(request, team_id: int):
    """The team, if the user is in it (or a superuser): 404 otherwise."""
    return _render_team(request, get_object_or_404(TEAM_PAGES.visible(request.user), pk=team_id))
