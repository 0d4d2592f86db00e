"""Adding someone, changing their role and removing them: one set of views for a project's members and a team's.

What differs between the two is a `MemberPages` (members.PROJECT_PAGES, teams.TEAM_PAGES), given to these views by
the URLconf: how the group is found among the user's, who administers it, the page that lists its members, and the
words. The verbs themselves are projects.people's (add_member, change_role, remove_member); the member table and
the add form are one template, projects/_members.html.

Access, for both: the group outside the user's is a 404; adding and changing roles need an admin of the group
(403 otherwise); removing needs one too, except where members may leave (teams) and remove themselves.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from projects import people
from projects.forms import AddMemberForm, RoleForm
from projects.models import Role
from projects.views.base import form_errors


@dataclass(frozen=True)
class MemberPages:
    kind: people.MembershipKind
    group_id: str  # the URL's keyword for the group's pk
    visible: Callable[[object], QuerySet]  # the groups a user sees (others are a 404)
    is_admin: Callable[[object, object], bool]  # (user, group): may manage its members
    # A team's page is every member's, and each may leave it there. A project's members page is a settings page,
    # for its admins only: a project member who is not an admin does not see it, so cannot remove themselves.
    members_may_leave: bool
    nav: str  # the main navigation's item for the group's pages
    page: str  # the URL name of the page with the member table (args: the group's pk)
    list_page: str  # where someone who removed themselves (and no longer sees the group) lands
    add_url: str
    role_url: str
    remove_url: str
    add_button: str
    render: Callable[..., HttpResponse]  # (request, group, add_form=...): the page again, with the form's errors
    added: str  # messages ({user}, {role}, {group})
    role_changed: str
    removed: str
    left: str  # someone removed themselves

    def table(self, request, group, add_form=None) -> dict:
        """The context of projects/_members.html: the group's memberships, the roles and the add form."""
        memberships = self.kind.memberships_of(group).select_related("user").order_by("user__username")
        return {
            "group": group,
            "pages": self,
            "memberships": memberships,
            "is_admin": self.is_admin(request.user, group),
            "members_may_leave": self.members_may_leave,
            "add_form": add_form or AddMemberForm(),
            "roles": Role.choices,
            "admin_role": Role.ADMIN,
        }

    def say(self, text: str, membership, group) -> str:
        return text.format(user=membership.user, role=membership.get_role_display().lower(), group=group.name)


def _group(request, pages: MemberPages, ids: dict):
    return get_object_or_404(pages.visible(request.user), pk=ids[pages.group_id])


def _forbidden(request, pages: MemberPages, group) -> HttpResponse:
    return render(request, "projects/forbidden.html", {pages.kind.noun: group, "nav": pages.nav}, status=403)


def _membership(pages: MemberPages, group, membership_id: int):
    queryset = pages.kind.memberships_of(group).select_related("user")
    return get_object_or_404(queryset, pk=membership_id)


@login_required
@require_POST
def add_member(request, pages: MemberPages, **ids):
    group = _group(request, pages, ids)
    if not pages.is_admin(request.user, group):
        return _forbidden(request, pages, group)
    form = AddMemberForm(request.POST)
    if form.is_valid():
        try:
            membership = people.add_member(pages.kind, group, form.cleaned_data["user"], form.cleaned_data["role"])
        except people.PeopleError as e:
            form.add_error("user", str(e))
        else:
            messages.success(request, pages.say(pages.added, membership, group))
            return redirect(pages.page, group.pk)
    return pages.render(request, group, add_form=form)


@login_required
@require_POST
def change_role(request, pages: MemberPages, membership_id: int, **ids):
    group = _group(request, pages, ids)
    if not pages.is_admin(request.user, group):
        return _forbidden(request, pages, group)
    membership = _membership(pages, group, membership_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors(form))
        return redirect(pages.page, group.pk)
    try:
        people.change_role(pages.kind, membership, form.cleaned_data["role"])
    except people.PeopleError as e:
        messages.error(request, str(e))
    else:
        messages.success(request, pages.say(pages.role_changed, membership, group))
    return redirect(pages.page, group.pk)


@login_required
@require_POST
def remove_member(request, pages: MemberPages, membership_id: int, **ids):
    group = _group(request, pages, ids)
    if not pages.members_may_leave and not pages.is_admin(request.user, group):
        return _forbidden(request, pages, group)
    membership = _membership(pages, group, membership_id)
    leaving = membership.user_id == request.user.pk
    if not (leaving and pages.members_may_leave) and not pages.is_admin(request.user, group):
        return _forbidden(request, pages, group)
    try:
        people.remove_member(pages.kind, membership)
    except people.PeopleError as e:
        messages.error(request, str(e))
        return redirect(pages.page, group.pk)
    messages.success(request, pages.say(pages.left if leaving else pages.removed, membership, group))
    if leaving and not pages.visible(request.user).filter(pk=group.pk).exists():
        return redirect(pages.list_page)
    return redirect(pages.page, group.pk)
