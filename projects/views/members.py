"""A project's members and invitations (for its admins), and accepting an invitation (for the invited)."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts import emails
from projects import people
from projects.access import is_project_admin, visible_projects
from projects.forms import InviteForm, SignupForm
from projects.models import Invitation
from projects.views.base import project_view
from projects.views.memberships import MemberPages

# the session key that carries a just-created invitation link to the members page, to be shown once
NEW_INVITATION_SESSION_KEY = "projects.new_invitation"


def _render_members(request, project, add_form=None, invite_form=None, status=200):
    context = {
        **PROJECT_PAGES.table(request, project, add_form),
        "project": project,
        "tab": "members",
        "team_members": people.team_members_without_direct_membership(project),
        "invitations": people.pending_invitations(project),
        "invite_form": invite_form or InviteForm(),
        "email_configured": people.email_is_configured(),
        "new_invitation": request.session.pop(NEW_INVITATION_SESSION_KEY, None),
    }
    return render(request, "projects/settings_members.html", context, status=status)


PROJECT_PAGES = MemberPages(
    kind=people.PROJECT,
    group_id="project_id",
    visible=visible_projects,
    is_admin=is_project_admin,
    members_may_leave=False,
    nav="projects",
    page="projects:members",
    list_page="projects:list",
    add_url="projects:member_add",
    role_url="projects:member_role",
    remove_url="projects:member_remove",
    add_button="Add member",
    render=_render_members,
    added="{user} is now a {role}.",
    role_changed="{user} is now a {role}.",
    removed="{user} is no longer a member of {group}.",
    left="{user} is no longer a member of {group}.",
)


@login_required
@project_view(admin=True)
def project_members(request, project):
    return _render_members(request, project)


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
                    if invitation.anyone_with_link:  # typed on the form: no mail checked it
                        if user.email:
                            emails.mark_unverified(user, user.email)
                    else:  # the link went to this address
                        emails.mark_verified(user, user.email)
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
