"""Who is on an issue and who hears about it: assignment, subscriptions and @mentions.

Assignment. An issue is assigned to at most one assignee: a user with access to its project (a member, directly or
through the project's team, or a superuser) or the project's team. Anyone else is refused (`AssignmentError`, a 4xx
for the views and the API). Every change writes an ASSIGNED or UNASSIGNED TurningPoint.

Subscriptions (as Sentry's): a subscriber gets the issue's alerts and its new comments by e-mail. People become
subscribed when they comment, are assigned, or are @mentioned; they subscribe and unsubscribe by hand on the issue
page or through the API's `isSubscribed`. An explicit unsubscribe is remembered (a row with is_active False): later
comments, assignments or mentions do not subscribe that person again, and the project's alerts for this one issue
skip them. Only people who still have access to the project are ever notified.

Mentions: `@username` or `@email` of someone with access to the project, in a comment. Unknown names stay text.

This module changes the database only; the e-mails are alerts.notify's jobs, which the views and the API start
with what the verbs here return.
"""

import re
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from issues.models import Issue, Subscription, TurningPoint
from projects.models import Project, Team


class AssignmentError(ValueError):
    """The assignee is unknown or has no access to the issue's project; the message says which."""


@dataclass(frozen=True)
class Assignment:
    """What `assign` did: the new assignee (user or team, or neither), and whom to tell by e-mail."""

    changed: bool
    user: object = None
    team: Team | None = None
    notify_user_ids: list = field(default_factory=list)


def users_with_access(project: Project) -> QuerySet:
    """The active users who may see the project: its members, its team's members, and superusers."""
    access = Q(is_superuser=True) | Q(project_memberships__project=project)
    if project.team_id is not None:
        access |= Q(team_memberships__team_id=project.team_id)
    return get_user_model().objects.filter(access, is_active=True).distinct()


def assignable_users(project: Project, issue: Issue | None = None) -> list:
    """The users who may be assigned, by username; with `issue`, each annotated `is_subscribed` to it (the issue
    page learns its viewer's subscription from the same query)."""
    users = users_with_access(project).order_by("username")
    if issue is not None:
        active = Subscription.objects.filter(issue=issue, user=OuterRef("pk"), is_active=True)
        users = users.annotate(is_subscribed=Exists(active))
    return list(users)


def assignable_teams(project: Project) -> list[Team]:
    """The teams with access to the project: its team, when it has one."""
    return [project.team] if project.team_id is not None else []


def has_access(user, project: Project) -> bool:
    return user is not None and users_with_access(project).filter(pk=user.pk).exists()


def display_name(user) -> str:
    full = user.get_full_name().strip() if hasattr(user, "get_full_name") else ""
    return full or user.get_username()


def parse_assignee(project: Project, value, actor=None) -> tuple:
    """(user, team) for what a form or Sentry's `assignedTo` names: "" or None (nobody), "me", "user:ID", "team:ID",
    "#team name", a username or an e-mail address. AssignmentError when it names nobody with access."""
    if value is None:
        return None, None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise AssignmentError("assignedTo must be a username, an e-mail address, user:ID, team:ID or empty.")
    text = str(value).strip()
    if not text:
        return None, None
    if len(text) > 300:
        raise AssignmentError("assignedTo is too long.")
    if text == "me":
        if actor is None or not has_access(actor, project):
            raise AssignmentError("You have no access to this issue's project.")
        return actor, None
    kind, _, rest = text.partition(":")
    if kind in ("team", "user") and rest:
        if not rest.isdigit() or len(rest) > 18:
            raise AssignmentError(f"{kind}:ID takes a number, not {rest[:50]!r}.")
        if kind == "team":
            return None, _team(project, Q(pk=int(rest)), text)
        user = users_with_access(project).filter(pk=int(rest)).first()
        if user is None:
            raise AssignmentError(f"No member of this project has the id {rest}.")
        return user, None
    if text.startswith("#"):
        return None, _team(project, Q(name__iexact=text[1:].strip()), text)
    candidates = users_with_access(project)
    user = candidates.filter(username=text).first() or candidates.filter(username__iexact=text).first()
    if user is None:
        by_email = list(candidates.filter(email__iexact=text)[:2])
        if len(by_email) > 1:
            raise AssignmentError(f"More than one member has the address {text}; use the username.")
        user = by_email[0] if by_email else None
    if user is None:
        raise AssignmentError(f"{text[:100]!r} is not a member of this project: only its members can be assigned.")
    return user, None


def _team(project: Project, condition: Q, text: str) -> Team:
    team = Team.objects.filter(condition).first()
    if team is None or team.pk != project.team_id:
        raise AssignmentError(f"{text[:100]!r} is not a team of this project: only its own team can be assigned.")
    return team


def assign(issue: Issue, user=None, team: Team | None = None, actor=None) -> Assignment:
    """Assign the issue to `user` or `team` (or to nobody when both are None), checked against the project's
    access. Writes the TurningPoint and subscribes an assigned user. Returns whom to e-mail: the assigned user, or
    the team's members, never the actor."""
    if user is not None and team is not None:
        raise AssignmentError("Assign a user or a team, not both.")
    project = issue.project
    if user is not None and not has_access(user, project):
        raise AssignmentError(f"{user.get_username()} is not a member of this project.")
    if team is not None and team.pk != project.team_id:
        raise AssignmentError(f"{team.name} is not this project's team.")
    if issue.assigned_user_id == (user.pk if user else None) and issue.assigned_team_id == (team.pk if team else None):
        return Assignment(changed=False, user=user, team=team)
    previous = describe_assignee(issue)
    issue.assigned_user = user
    issue.assigned_team = team
    issue.save(update_fields=["assigned_user", "assigned_team"])
    notify: list[int] = []
    if user is None and team is None:
        metadata = {"from": previous}
        TurningPoint.objects.create(
            issue=issue, kind=TurningPoint.Kind.UNASSIGNED, user=actor, timestamp=timezone.now(), metadata=metadata
        )
    else:
        metadata = {"to": describe_assignee(issue), "type": "user" if user else "team", "id": (user or team).pk}
        TurningPoint.objects.create(
            issue=issue, kind=TurningPoint.Kind.ASSIGNED, user=actor, timestamp=timezone.now(), metadata=metadata
        )
        if user is not None:
            subscribe(issue, user, Subscription.Reason.ASSIGNED)
            notify = [user.pk]
        else:
            notify = list(users_with_access(project).filter(team_memberships__team=team).values_list("pk", flat=True))
    actor_pk = getattr(actor, "pk", None)
    return Assignment(changed=True, user=user, team=team, notify_user_ids=[pk for pk in notify if pk != actor_pk])


def describe_assignee(issue: Issue) -> str:
    """'ann' or '#backend', or '' for nobody; reads the loaded relations."""
    if issue.assigned_user_id is not None and issue.assigned_user is not None:
        return issue.assigned_user.get_username()
    if issue.assigned_team_id is not None and issue.assigned_team is not None:
        return f"#{issue.assigned_team.name}"
    return ""


# --- subscriptions ----------------------------------------------------------------------------------------------


def subscribe(issue: Issue, user, reason: str = Subscription.Reason.EXPLICIT) -> bool:
    """Subscribe `user`. Explicitly (`reason` EXPLICIT) always; by participation (commented, assigned, mentioned)
    only when they never unsubscribed from this issue. Returns whether they are subscribed now."""
    existing = Subscription.objects.filter(issue=issue, user=user).first()
    if existing is None:
        Subscription.objects.create(issue=issue, user=user, reason=reason, is_active=True)
        return True
    if existing.is_active:
        return True
    if reason != Subscription.Reason.EXPLICIT:
        return False  # they said no to this issue: participation does not override that
    existing.is_active = True
    existing.reason = reason
    existing.save(update_fields=["is_active", "reason"])
    return True


def unsubscribe(issue: Issue, user) -> None:
    Subscription.objects.update_or_create(
        issue=issue, user=user, defaults={"is_active": False, "reason": Subscription.Reason.EXPLICIT}
    )


def is_subscribed(issue: Issue, user) -> bool:
    return Subscription.objects.filter(issue=issue, user=user, is_active=True).exists()


def subscribed_issue_ids(issues, user) -> set:
    """Of these issues, the ids of those the user is subscribed to (one query)."""
    ids = [issue.pk for issue in issues]
    rows = Subscription.objects.filter(issue_id__in=ids, user=user, is_active=True).values_list("issue_id", flat=True)
    return set(rows)


def subscriber_ids(issue: Issue) -> list[int]:
    """The active subscribers who still have access to the issue's project."""
    subscribed = Subscription.objects.filter(issue=issue, is_active=True).values("user_id")
    return list(users_with_access(issue.project).filter(pk__in=subscribed).values_list("pk", flat=True))


def unsubscribed_ids(issue: Issue) -> set[int]:
    """Who unsubscribed from this issue: the project's alerts about it skip them."""
    return set(Subscription.objects.filter(issue=issue, is_active=False).values_list("user_id", flat=True))


# --- comments and mentions --------------------------------------------------------------------------------------

# @ann, @ann.lee, @ann@example.com; not the middle of an address (a@b) or a word
MENTION = re.compile(r"(?<![\w@.+-])@([\w.+-]+(?:@[\w-]+(?:\.[\w-]+)+)?)")


def mention_candidates(text: str) -> list[str]:
    names = []
    for match in MENTION.finditer(text or ""):
        name = match.group(1).rstrip(".")
        if name and name not in names:
            names.append(name)
    return names[:50]


def mentioned_users(project: Project, text: str) -> list:
    """The users with access to the project whom the text @mentions, by username or e-mail (any case)."""
    names = mention_candidates(text)
    if not names:
        return []
    condition = Q()
    for name in names:
        condition |= Q(username__iexact=name) | Q(email__iexact=name)
    return list(users_with_access(project).filter(condition).order_by("username"))


@dataclass(frozen=True)
class CommentNotice:
    """Whom a new comment is e-mailed to: the people it mentions, and the other subscribers."""

    comment_id: int
    mentioned_ids: list[int]
    subscriber_ids: list[int]


def after_comment(comment: TurningPoint) -> CommentNotice:
    """The author and the people the comment mentions become subscribers (unless they unsubscribed); returns whom to
    tell: the mentioned (except the author) and every other subscriber."""
    issue, author = comment.issue, comment.user
    if author is not None:
        subscribe(issue, author, Subscription.Reason.COMMENTED)
    author_pk = getattr(author, "pk", None)
    mentioned = [user for user in mentioned_users(issue.project, comment.comment) if user.pk != author_pk]
    for user in mentioned:
        subscribe(issue, user, Subscription.Reason.MENTIONED)
    mentioned_ids = [user.pk for user in mentioned]
    others = [pk for pk in subscriber_ids(issue) if pk != author_pk and pk not in mentioned_ids]
    return CommentNotice(comment.pk, mentioned_ids, sorted(others))
