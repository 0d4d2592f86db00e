"""Who is in which team and project, and with what role: every change to memberships and invitations goes through
the verbs here, so the rules (a team or project keeps an admin, invitations are single-use, ...) live in one place.

Views call these and turn a `PeopleError` into a message for the user.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, models, transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts import emails
from bugsink.bidi import strip_bidi
from projects.models import (
    INVITATION_VALIDITY,
    Invitation,
    Project,
    ProjectMembership,
    Role,
    Team,
    TeamMembership,
    hash_token,
)


class PeopleError(Exception):
    """A change that the rules refuse; the message is meant for the person who asked for it."""


class InvitationInvalid(PeopleError):
    """The invitation link is unknown, expired or used already."""


class InvitationForSomeoneElse(PeopleError):
    """The invitation is bound to an address that is not the accepting user's."""


def absolute_url(path: str) -> str:
    """A link for outside the browser (emails, copy-paste): BASE_URL is where people reach this server."""
    return settings.BASE_URL.rstrip("/") + path


def email_is_configured() -> bool:
    return bool(settings.EMAIL_HOST)


def find_user(identifier: str):
    """The active user with this username, or else with this email address (which must then be unambiguous)."""
    User = get_user_model()
    identifier = (identifier or "").strip()
    if not identifier:
        raise PeopleError("Give a username or an email address.")
    users = User.objects.filter(is_active=True)
    user = users.filter(username=identifier).first() or users.filter(username__iexact=identifier).first()
    if user is not None:
        return user
    by_email = list(users.filter(email__iexact=identifier)[:2])
    if len(by_email) == 1:
        return by_email[0]
    if len(by_email) > 1:
        raise PeopleError(f"More than one user has the address {identifier}; use the username instead.")
    raise PeopleError(f"No user {identifier!r}. To add someone without an account, invite them by email.")


# --- memberships: one set of verbs for a project's members and a team's ------------------------------------------


@dataclass(frozen=True)
class MembershipKind:
    """A kind of group people are members of, with a role: a project or a team.

    The two keep their own tables (ProjectMembership, TeamMembership) because they grant different things: a project
    membership one project, a team membership every project of the team (a team admin administers them all, see
    projects.access), and a direct project membership's alert switch wins over the team's. One table with a
    generic key would lose the foreign keys and the unique constraints that keep one membership per person. What
    people *do* with memberships (add, change a role, remove, keep an admin) is the same, and is written once,
    below, for either kind; the pages are one set too (projects.views.memberships)."""

    noun: str  # "project" or "team", in messages and on pages
    model: type[models.Model]  # the membership model
    group_field: str  # the membership's foreign key to its group
    already_in: str  # the refusal of a second membership ({user})

    def memberships_of(self, group) -> QuerySet:
        return self.model.objects.filter(**{self.group_field: group})


PROJECT = MembershipKind(
    "project", ProjectMembership, "project", already_in="{user} is a member of this project already."
)
TEAM = MembershipKind("team", TeamMembership, "team", already_in="{user} is in this team already.")


def _create_admin(kind: MembershipKind, group, user) -> None:
    kind.model.objects.create(**{kind.group_field: group}, user=user, role=Role.ADMIN)


def _keeps_an_admin(kind: MembershipKind, leaving) -> None:
    """Refuse a change that would leave the group of `leaving` without an admin; the group's memberships are
    locked first (the caller's transaction), so that two admins demoting each other cannot both succeed."""
    memberships = kind.model.objects.select_for_update().filter(
        **{kind.group_field: getattr(leaving, f"{kind.group_field}_id")}
    )
    if leaving.role == Role.ADMIN and not memberships.filter(role=Role.ADMIN).exclude(pk=leaving.pk).exists():
        raise PeopleError(f"{leaving.user} is the last admin of this {kind.noun}; make someone else admin first.")


def add_member(kind: MembershipKind, group, identifier: str, role: str):
    """Make the user found by `identifier` (find_user) a member of `group` with `role`."""
    user = find_user(identifier)
    if kind.memberships_of(group).filter(user=user).exists():
        raise PeopleError(kind.already_in.format(user=user))
    try:
        with transaction.atomic():
            return kind.model.objects.create(**{kind.group_field: group}, user=user, role=role)
    except IntegrityError:  # added at the same moment by someone else
        raise PeopleError(kind.already_in.format(user=user)) from None


def change_role(kind: MembershipKind, membership, role: str) -> None:
    with transaction.atomic():
        if role != Role.ADMIN:
            _keeps_an_admin(kind, membership)
        membership.role = role
        membership.save(update_fields=["role"])


def remove_member(kind: MembershipKind, membership) -> None:
    with transaction.atomic():
        _keeps_an_admin(kind, membership)
        membership.delete()


# --- teams --------------------------------------------------------------------------------------------------------


def teams_of(user) -> QuerySet:
    """The teams a user sees: their own; superusers see all."""
    if user.is_superuser:
        return Team.objects.all()
    return Team.objects.filter(memberships__user=user)


def is_team_admin(user, team: Team) -> bool:
    return user.is_superuser or team.memberships.filter(user=user, role=Role.ADMIN).exists()


def create_team(user, name: str) -> Team:
    """A new team with its creator as its admin."""
    with transaction.atomic():
        team = Team.objects.create(name=name)
        _create_admin(TEAM, team, user)
    return team


# --- projects -----------------------------------------------------------------------------------------------------


def create_project(user, name: str, slug: str = "", team: Team | None = None) -> Project:
    """A new project with its creator as its admin."""
    with transaction.atomic():
        project = Project.objects.create(name=name, slug=slug, team=team)
        _create_admin(PROJECT, project, user)
    return project


# --- invitations --------------------------------------------------------------------------------------------------


def invitation_url(token: str) -> str:
    return absolute_url(reverse("projects:accept_invitation", args=[token]))


def invite_to_project(
    project: Project, email: str, role: str, invited_by, anyone_with_link: bool = False
) -> tuple[Invitation, str]:
    """A new invitation (replacing any pending one for the same address) and the link that accepts it.

    Only a hash of the link's token is kept, so the link exists only in the return value (and the email). The
    invitation is for the user with that address only, unless `anyone_with_link`."""
    email = email.strip()
    if project.memberships.filter(user__email__iexact=email).exists():
        raise PeopleError(f"Someone with the address {email} is a member of this project already.")
    token = Invitation.new_token()
    with transaction.atomic():
        project.invitations.filter(email__iexact=email, accepted_at__isnull=True).delete()
        invitation = Invitation.objects.create(
            project=project,
            email=email,
            role=role,
            token_hash=hash_token(token),
            invited_by=invited_by,
            expires_at=timezone.now() + INVITATION_VALIDITY,
            anyone_with_link=anyone_with_link,
        )
    return invitation, invitation_url(token)


def send_invitation_email(invitation: Invitation, link: str) -> None:
    """Raises whatever the mail backend raises; the caller shows the link instead."""
    context = {
        "invitation": invitation,
        "project": invitation.project,
        "link": link,
        "inviter": invitation.invited_by,
        "valid_days": INVITATION_VALIDITY.days,
        "site_title": settings.SITE_TITLE,
    }
    # a subject has no markup to isolate a name in: no direction controls in it (bugsink.bidi)
    subject = strip_bidi(f"You are invited to {invitation.project.name} on {settings.SITE_TITLE}")
    body = render_to_string("projects/email/invitation.txt", context)
    send_mail(subject, body, None, [invitation.email], fail_silently=False)


def find_invitation(token: str) -> Invitation:
    """The invitation of a link, valid or not; Invitation.DoesNotExist for a link that never was one."""
    return Invitation.objects.select_related("project", "invited_by").get(token_hash=hash_token(token or ""))


def check_usable(invitation: Invitation) -> None:
    if invitation.accepted_at is not None:
        raise InvitationInvalid("This invitation has been used already.")
    if invitation.is_expired:
        raise InvitationInvalid("This invitation has expired. Ask a project admin for a new one.")


def same_address(a: str, b: str) -> bool:
    return bool(a.strip()) and a.strip().casefold() == b.strip().casefold()


def check_invitee(invitation: Invitation, user) -> None:
    """InvitationForSomeoneElse unless `user` may accept: the invited address is their verified address (in any
    case; accounts.emails), or the invitation is for anyone with the link. Without it, a member who got hold of an
    admin invitation meant for someone else could make themselves admin, or type that address into their
    preferences and then accept."""
    if invitation.anyone_with_link:
        return
    if not same_address(user.email or "", invitation.email):
        raise InvitationForSomeoneElse(
            f"This invitation is for {invitation.email}, and you are logged in as {user.get_username()} "
            f"({user.email or 'no email address'})."
        )
    if not emails.is_verified(user, invitation.email):
        raise InvitationForSomeoneElse(
            f"This invitation is for {invitation.email}, and that address of your account "
            f"({user.get_username()}) is not verified: change it in your preferences to get a link that verifies it."
        )


def accept_invitation(invitation: Invitation, user) -> ProjectMembership:
    """Make `user` a member of the invitation's project with its role, using the invitation up.

    Single use even when two requests race: the invitation is claimed with one conditional UPDATE. An existing
    membership keeps its role unless the invitation's is higher. Only the invited address's user may accept,
    unless the invitation is for anyone with the link (check_invitee)."""
    check_usable(invitation)
    check_invitee(invitation, user)
    with transaction.atomic():
        now = timezone.now()
        claimed = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True, expires_at__gt=now).update(
            accepted_at=now, accepted_by=user
        )
        if not claimed:
            raise InvitationInvalid("This invitation has been used already.")
        membership, created = ProjectMembership.objects.get_or_create(
            project=invitation.project, user=user, defaults={"role": invitation.role}
        )
        if not created and invitation.role == Role.ADMIN and membership.role != Role.ADMIN:
            membership.role = Role.ADMIN
            membership.save(update_fields=["role"])
    return membership


def revoke_invitation(invitation: Invitation) -> None:
    invitation.delete()


def pending_invitations(project: Project) -> QuerySet:
    """Invitations not used yet, expired ones included (so that an admin sees them and can clean up)."""
    return project.invitations.filter(accepted_at__isnull=True).select_related("invited_by")


def team_members_without_direct_membership(project: Project) -> QuerySet:
    """Members of the project's team who are not (also) direct members: they see the project through the team."""
    if project.team_id is None:
        return TeamMembership.objects.none()
    return (
        TeamMembership.objects.filter(team=project.team_id)
        .exclude(Q(user__project_memberships__project=project))
        .select_related("user")
        .order_by("user__username")
    )
