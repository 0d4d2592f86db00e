"""Projects, their settings and people; teams; invitations.

Access: everything needs a login (but accepting an invitation, which may create the account). A project outside
the user's projects is a 404 (see projects.access); a member who is not an admin gets a 403 on the settings pages
and actions (they know the project exists). Every state change is a POST.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from alerts import delivery
from alerts.models import AlertChannel, DeliveryAttempt
from bugsink.templatetags.bugsink import hourly_counts
from ingest.store import quarantine_count
from issues.models import Issue
from projects import people
from projects.access import get_project_or_404, is_project_admin, visible_projects
from projects.forms import (
    AddMemberForm,
    AddTeamMemberForm,
    AlertChannelForm,
    AlertSwitchesForm,
    InviteForm,
    ProjectForm,
    ProjectSettingsForm,
    RoleForm,
    SignupForm,
    TeamForm,
    TeamRoleForm,
)
from projects.models import Invitation, Project, ProjectMembership, TeamMembership

# the session key that carries a just-created invitation link to the members page, to be shown once
NEW_INVITATION_SESSION_KEY = "projects.new_invitation"


def project_view(admin: bool = False):
    """Look the project up among the user's (404 otherwise) and pass it to the view; `admin=True` also requires
    the user to be a project admin (403 otherwise)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, project_id, *args, **kwargs):
            project = get_project_or_404(request.user, project_id)
            if admin and not is_project_admin(request.user, project):
                return render(request, "projects/forbidden.html", {"project": project, "nav": "projects"}, status=403)
            return view(request, project, *args, **kwargs)

        return wrapped

    return decorator


def _form_errors(form) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


# --- project list and creation ------------------------------------------------------------------------------------


def project_list_queryset(user):
    """The user's projects with their open-issue count and whether the user administers them, in one query."""
    open_issues = (
        Issue.objects.filter(project=OuterRef("pk"), is_resolved=False, is_muted=False)
        .order_by()
        .values("project")
        .annotate(n=Count("pk"))
        .values("n")
    )
    projects = Project.objects.filter(pk__in=visible_projects(user).values("pk")).select_related("team")
    projects = projects.annotate(open_issues=Coalesce(Subquery(open_issues, output_field=IntegerField()), 0))
    if user.is_superuser:
        return projects.annotate(user_is_admin=Value(True))
    direct_admin = ProjectMembership.objects.filter(project=OuterRef("pk"), user=user, role="admin")
    team_admin = TeamMembership.objects.filter(team=OuterRef("team"), user=user, role="admin")
    return projects.annotate(user_is_admin=Exists(direct_admin) | Exists(team_admin))


@login_required
def project_list(request):
    projects = list(project_list_queryset(request.user).order_by("name"))
    for project in projects:
        project.events_24h = sum(hourly_counts(project.period_counts))
    quarantined = quarantine_count() if request.user.is_staff else 0
    return render(request, "projects/list.html", {"projects": projects, "nav": "projects", "quarantined": quarantined})


@login_required
def project_create(request):
    form = ProjectForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        project = people.create_project(
            request.user, form.cleaned_data["name"], form.cleaned_data["slug"], form.cleaned_data["team"]
        )
        messages.success(request, f"Project {project.name} created. Point your SDK at its DSN to start.")
        return redirect("projects:setup", project.pk)
    return render(request, "projects/create.html", {"form": form, "nav": "projects"})


@login_required
@project_view()
def project_setup(request, project):
    """The DSN and how to configure an SDK with it: for every member."""
    return render(
        request,
        "projects/setup.html",
        {
            "project": project,
            "is_admin": is_project_admin(request.user, project),
            "envelope_url": people.absolute_url(f"/api/{project.pk}/envelope/"),
            "nav": "projects",
        },
    )


# --- settings: general --------------------------------------------------------------------------------------------


@login_required
@project_view(admin=True)
def project_settings(request, project):
    form = ProjectSettingsForm(request.POST or None, instance=project, user=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Project settings saved.")
        return redirect("projects:settings", project.pk)
    return render(request, "projects/settings_general.html", {"project": project, "form": form, "tab": "general"})


# --- settings: alerts ---------------------------------------------------------------------------------------------


def _render_alerts(request, project, switches_form=None, channel_form=None, status=200):
    context = {
        "project": project,
        "tab": "alerts",
        "switches_form": switches_form or AlertSwitchesForm(instance=project),
        "channel_form": channel_form or AlertChannelForm(),
        "channels": project.alert_channels.order_by("name", "pk"),
        "deliveries": DeliveryAttempt.objects.filter(project=project).select_related("channel")[:10],
        "email_recipients": delivery.email_recipients(project),
    }
    return render(request, "projects/settings_alerts.html", context, status=status)


@login_required
@project_view(admin=True)
def project_alerts(request, project):
    if request.method == "POST":
        form = AlertSwitchesForm(request.POST, instance=project)
        if form.is_valid():
            form.save()
            messages.success(request, "Alert settings saved.")
            return redirect("projects:alerts", project.pk)
        return _render_alerts(request, project, switches_form=form)
    return _render_alerts(request, project)


@login_required
@require_POST
@project_view(admin=True)
def channel_create(request, project):
    form = AlertChannelForm(request.POST, instance=AlertChannel(project=project))
    if not form.is_valid():
        return _render_alerts(request, project, channel_form=form)
    channel = form.save()
    messages.success(request, f"Alert channel {channel.name} added. Send it a test alert to check it works.")
    return redirect(reverse("projects:alerts", args=[project.pk]) + f"#channel-{channel.pk}")


@login_required
@require_POST
@project_view(admin=True)
def channel_delete(request, project, channel_id: int):
    channel = get_object_or_404(AlertChannel, pk=channel_id, project=project)
    channel.delete()
    messages.success(request, f"Alert channel {channel.name} deleted.")
    return redirect("projects:alerts", project.pk)


@login_required
@require_POST
@project_view(admin=True)
def channel_toggle(request, project, channel_id: int):
    channel = get_object_or_404(AlertChannel, pk=channel_id, project=project)
    channel.is_active = request.POST.get("active") == "1"
    channel.save(update_fields=["is_active"])
    state = "active: it gets this project's alerts" if channel.is_active else "paused: it gets no alerts"
    messages.success(request, f"Alert channel {channel.name} is {state}.")
    return redirect("projects:alerts", project.pk)


@login_required
@require_POST
@project_view(admin=True)
def channel_test(request, project, channel_id: int):
    channel = get_object_or_404(AlertChannel, pk=channel_id, project=project)
    outcome = delivery.send_test_alert(channel)
    if outcome.sent:
        messages.success(request, f"Test alert delivered to {channel.name}.")
    else:
        messages.error(request, f"Test alert to {channel.name} {outcome.record.status}: {outcome.record.error}")
    return redirect(reverse("projects:alerts", args=[project.pk]) + f"#channel-{channel.pk}")


@login_required
@require_POST
@project_view(admin=True)
def test_email(request, project):
    outcome = delivery.send_test_email(project)
    if outcome is None:
        messages.warning(request, "Nobody to email: no member who wants email alerts has an email address.")
    elif outcome.sent:
        messages.success(request, f"Test email sent to {outcome.record.target}.")
    else:
        messages.error(request, f"Test email failed: {outcome.record.error}")
    return redirect("projects:alerts", project.pk)


# --- settings: members and invitations ----------------------------------------------------------------------------


def _render_members(request, project, add_form=None, invite_form=None, status=200):
    memberships = project.memberships.select_related("user").order_by("user__username")
    context = {
        "project": project,
        "tab": "members",
        "memberships": memberships,
        "team_members": people.team_members_without_direct_membership(project),
        "invitations": people.pending_invitations(project),
        "add_form": add_form or AddMemberForm(),
        "invite_form": invite_form or InviteForm(),
        "roles": ProjectMembership.Role.choices,
        "email_configured": people.email_is_configured(),
        "new_invitation": request.session.pop(NEW_INVITATION_SESSION_KEY, None),
    }
    return render(request, "projects/settings_members.html", context, status=status)


@login_required
@project_view(admin=True)
def project_members(request, project):
    return _render_members(request, project)


@login_required
@require_POST
@project_view(admin=True)
def member_add(request, project):
    form = AddMemberForm(request.POST)
    if form.is_valid():
        try:
            membership = people.add_project_member(project, form.cleaned_data["user"], form.cleaned_data["role"])
        except people.PeopleError as e:
            form.add_error("user", str(e))
        else:
            messages.success(request, f"{membership.user} is now a {membership.get_role_display().lower()}.")
            return redirect("projects:members", project.pk)
    return _render_members(request, project, add_form=form)


@login_required
@require_POST
@project_view(admin=True)
def member_role(request, project, membership_id: int):
    membership = get_object_or_404(ProjectMembership.objects.select_related("user"), pk=membership_id, project=project)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("projects:members", project.pk)
    try:
        people.change_project_role(membership, form.cleaned_data["role"])
    except people.PeopleError as e:
        messages.error(request, str(e))
    else:
        messages.success(request, f"{membership.user} is now a {membership.get_role_display().lower()}.")
    return redirect("projects:members", project.pk)


@login_required
@require_POST
@project_view(admin=True)
def member_remove(request, project, membership_id: int):
    membership = get_object_or_404(ProjectMembership.objects.select_related("user"), pk=membership_id, project=project)
    try:
        people.remove_project_member(membership)
    except people.PeopleError as e:
        messages.error(request, str(e))
    else:
        messages.success(request, f"{membership.user} is no longer a member of {project.name}.")
    if membership.user_id == request.user.pk and not visible_projects(request.user).filter(pk=project.pk).exists():
        return redirect("projects:list")
    return redirect("projects:members", project.pk)


@login_required
@require_POST
@project_view(admin=True)
def invite(request, project):
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            invitation, link = people.invite_to_project(
                project,
                form.cleaned_data["email"],
                form.cleaned_data["role"],
                request.user,
                anyone_with_link=form.cleaned_data["anyone_with_link"],
            )
        except people.PeopleError as e:
            form.add_error("email", str(e))
        else:
            show_link = True
            if people.email_is_configured():
                try:
                    people.send_invitation_email(invitation, link)
                except Exception as e:  # the mail server is down or refuses: the admin passes the link on instead
                    messages.warning(request, f"The invitation email could not be sent ({e}); pass the link on.")
                else:
                    show_link = False
                    messages.success(request, f"Invitation emailed to {invitation.email}.")
            if show_link:
                request.session[NEW_INVITATION_SESSION_KEY] = {"email": invitation.email, "link": link}
            return redirect("projects:members", project.pk)
    return _render_members(request, project, invite_form=form)


@login_required
@require_POST
@project_view(admin=True)
def invitation_revoke(request, project, invitation_id: int):
    invitation = get_object_or_404(Invitation, pk=invitation_id, project=project, accepted_at__isnull=True)
    people.revoke_invitation(invitation)
    messages.success(request, f"Invitation of {invitation.email} revoked; its link no longer works.")
    return redirect("projects:members", project.pk)


# --- accepting an invitation (the one page without a login requirement) -----------------------------------------


def accept_invitation(request, token: str):
    try:
        invitation = people.find_invitation(token)
    except Invitation.DoesNotExist:
        raise Http404("No such invitation") from None
    try:
        people.check_usable(invitation)
    except people.InvitationInvalid as e:
        return render(request, "projects/invitation_invalid.html", {"reason": str(e)}, status=410)

    form = None
    if request.user.is_authenticated:
        try:
            people.check_invitee(invitation, request.user)
        except people.InvitationForSomeoneElse as e:
            return _wrong_account(request, invitation, e)
    else:
        form = SignupForm(request.POST or None, invitation=invitation)
    if request.method == "POST":
        try:
            if request.user.is_authenticated:
                people.accept_invitation(invitation, request.user)
            elif form.is_valid():
                with transaction.atomic():
                    user = form.save(commit=False)
                    # a bound invitation's account gets the invited address (which is how the link reached them)
                    user.email = form.cleaned_data["email"] if invitation.anyone_with_link else invitation.email
                    user.save()
                    people.accept_invitation(invitation, user)
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            else:
                return render(request, "projects/accept_invitation.html", {"invitation": invitation, "form": form})
        except people.InvitationForSomeoneElse as e:
            return _wrong_account(request, invitation, e)
        except people.InvitationInvalid as e:
            return render(request, "projects/invitation_invalid.html", {"reason": str(e)}, status=410)
        messages.success(request, f"Welcome to {invitation.project.name}.")
        return redirect("issues:project", invitation.project_id)
    return render(request, "projects/accept_invitation.html", {"invitation": invitation, "form": form})


def _wrong_account(request, invitation, error):
    context = {"invitation": invitation, "reason": str(error)}
    return render(request, "projects/invitation_wrong_account.html", context, status=403)


# --- teams --------------------------------------------------------------------------------------------------------


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
        request, "projects/teams.html", {"teams": teams, "form": form or TeamForm(), "nav": "teams"}, status=status
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
        messages.error(request, _form_errors(form))
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
