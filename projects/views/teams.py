"""Teams: the list of the user's teams, creating one, and a team's page with its members and projects."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from projects import people
from projects.access import visible_projects
from projects.forms import AddTeamMemberForm, TeamForm, TeamRoleForm
from projects.models import TeamMembership
from projects.views.base import form_errors


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


def team_view(admin: bool = False):
    """The team, if the user is in it (or a superuser): 404 otherwise; `admin=True` also requires a team admin."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, team_id, *args, **kwargs):
            team = get_object_or_404(people.teams_of(request.user).distinct(), pk=team_id)
            if admin and not people.is_team_admin(request.user, team):
                return render(request, "projects/forbidden.html", {"team": team, "nav": "teams"}, status=403)
            return view(request, team, *args, **kwargs)

        return wrapped

    return decorator


def _render_team(request, team, add_form=None, status=200):
    context = {
        "team": team,
        "memberships": team.memberships.select_related("user").order_by("user__username"),
        "projects": visible_projects(request.user).filter(team=team).order_by("name"),
        "is_admin": people.is_team_admin(request.user, team),
        "add_form": add_form or AddTeamMemberForm(),
        "roles": TeamMembership.Role.choices,
        "admin_role": TeamMembership.Role.ADMIN,
        "nav": "teams",
    }
    return render(request, "projects/team.html", context, status=status)


@login_required
@team_view()
def team_detail(request, team):
    return _render_team(request, team)


@login_required
@require_POST
@team_view(admin=True)
def team_member_add(request, team):
    form = AddTeamMemberForm(request.POST)
    if form.is_valid():
        try:
            membership = people.add_team_member(team, form.cleaned_data["user"], form.cleaned_data["role"])
        except people.PeopleError as e:
            form.add_error("user", str(e))
        else:
            messages.success(request, f"{membership.user} joined {team.name}.")
            return redirect("projects:team", team.pk)
    return _render_team(request, team, add_form=form)


@login_required
@require_POST
@team_view(admin=True)
def team_member_role(request, team, membership_id: int):
    membership = get_object_or_404(TeamMembership.objects.select_related("user"), pk=membership_id, team=team)
    form = TeamRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors(form))
        return redirect("projects:team", team.pk)
    try:
        people.change_team_role(membership, form.cleaned_data["role"])
    except people.PeopleError as e:
        messages.error(request, str(e))
    else:
        messages.success(request, f"{membership.user} is now a team {membership.get_role_display().lower()}.")
    return redirect("projects:team", team.pk)


@login_required
@require_POST
@team_view()
def team_member_remove(request, team, membership_id: int):
    """Team admins remove anyone; every member may remove themselves (leave)."""
    membership = get_object_or_404(TeamMembership.objects.select_related("user"), pk=membership_id, team=team)
    leaving = membership.user_id == request.user.pk
    if not leaving and not people.is_team_admin(request.user, team):
        return render(request, "projects/forbidden.html", {"team": team, "nav": "teams"}, status=403)
    try:
        people.remove_team_member(membership)
    except people.PeopleError as e:
        messages.error(request, str(e))
        return redirect("projects:team", team.pk)
    if leaving:
        messages.success(request, f"You left {team.name}.")
        if not request.user.is_superuser:
            return redirect("projects:teams")
    else:
        messages.success(request, f"{membership.user} is no longer in {team.name}.")
    return redirect("projects:team", team.pk)
