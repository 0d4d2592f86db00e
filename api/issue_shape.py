"""Sentry's JSON shape of an issue ("group"), from our Issue.

Sentry has three statuses where we have flags: `resolved` (is_resolved), `ignored` (is_muted; Sentry's newer UI
calls it archived) and `unresolved` (neither). `statusDetails` says what kind of resolve or mute it is in Sentry's
words; a volume condition reads as `ignoreCount` within `ignoreWindow` minutes where the window is a whole number of
minutes (month and year windows have no fixed length, so only the count is given), and every condition is also
given as it is stored, under `unmuteConditions`.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from api.common import iso
from bugsink.links import http_url_or_empty
from digest.volume_based_condition import InvalidCondition, VolumeBasedCondition
from issues.models import Issue, TurningPoint
from releases.models import Release

# minutes in one period, for the periods whose length is fixed
PERIOD_MINUTES = {"minute": 1, "hour": 60, "day": 1440}
# Sentry's substatus "new" is an issue first seen within this long
NEW_FOR = timedelta(days=7)


def status_of(issue: Issue) -> str:
    if issue.is_resolved:
        return "resolved"
    if issue.is_muted:
        return "ignored"
    return "unresolved"


def substatus_of(issue: Issue, now=None) -> str | None:
    if issue.is_resolved:
        return None
    if issue.is_muted:
        if issue.unmute_after or issue.unmute_on_volume_based_conditions:
            return "archived_until_condition_met"
        return "archived_forever"
    now = now or timezone.now()
    return "new" if issue.first_seen and now - issue.first_seen < NEW_FOR else "ongoing"


def status_details(issue: Issue) -> dict:
    if issue.is_resolved:
        if issue.is_resolved_by_next_release:
            return {"inNextRelease": True}
        if issue.fixed_at:
            return {"inRelease": str(issue.fixed_at[-1])}
        return {}
    if not issue.is_muted:
        return {}
    details: dict = {}
    if issue.unmute_after:
        details["ignoreUntil"] = iso(issue.unmute_after)
    conditions = []
    for data in issue.unmute_on_volume_based_conditions or []:
        try:
            conditions.append(VolumeBasedCondition.from_dict(data))
        except InvalidCondition:
            continue  # stored by an older version in a form that no longer parses: nothing to say about it
    if conditions:
        first = conditions[0]
        details["ignoreCount"] = first.volume
        if first.period in PERIOD_MINUTES:
            details["ignoreWindow"] = first.nr_of_periods * PERIOD_MINUTES[first.period]
        details["unmuteConditions"] = [
            {**condition.to_dict(), "description": condition.describe()} for condition in conditions
        ]
    return details


def with_comment_counts(issues: QuerySet) -> QuerySet:
    """The issues with `num_comments` annotated (one subquery, not one query per issue)."""
    comments = (
        TurningPoint.objects.filter(issue=OuterRef("pk"), kind=TurningPoint.Kind.COMMENT)
        .order_by()
        .values("issue")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return issues.annotate(num_comments=Coalesce(Subquery(comments), Value(0)))


def assigned_to(issue: Issue) -> dict | None:
    """Sentry's `assignedTo`: the assigned user or team as an actor, or null."""
    if issue.assigned_user_id is not None:
        user = issue.assigned_user
        name = user.get_full_name().strip() or user.get_username()
        return {"type": "user", "id": str(user.pk), "name": name, "username": user.get_username(), "email": user.email}
    if issue.assigned_team_id is not None:
        team = issue.assigned_team
        return {"type": "team", "id": str(team.pk), "name": team.name}
    return None


def release_shape(release: Release) -> dict:
    """Sentry's release object in the short form an issue's `firstRelease`/`lastRelease` carries."""
    return {
        "id": release.pk,
        "version": release.version,
        "shortVersion": release.version,
        "ref": release.ref or None,
        "url": http_url_or_empty(release.url) or None,
        "status": "open",
        "dateCreated": iso(release.date_created),
        "dateReleased": iso(release.date_finalized) if release.date_finalized else None,
    }


def releases_of(issues) -> dict[tuple[int, str], Release]:
    """{(project id, version): Release} for the first and last releases of `issues`, in one query."""
    wanted = {(i.project_id, v) for i in issues for v in (i.first_release, i.last_release) if v}
    if not wanted:
        return {}
    condition = Q()
    for project_id in {p for p, _ in wanted}:
        condition |= Q(project_id=project_id, version__in=[v for p, v in wanted if p == project_id])
    return {(r.project_id, r.version): r for r in Release.objects.filter(condition)}


def issue_release(issue: Issue, version: str, releases: dict) -> dict | None:
    if not version:
        return None
    row = releases.get((issue.project_id, version))
    if row is None:  # a version without its row (deleted releases): still Sentry's shape
        return {"id": None, "version": version, "shortVersion": version, "ref": None, "url": None}
    return release_shape(row)


def serialize_issue(issue: Issue, subscribed: bool = False, releases: dict | None = None) -> dict:
    """The issue in Sentry's shape; `issue.project` (and its assignee) should be loaded with it (select_related).
    `subscribed`: whether the requesting user is subscribed to it (issues.participants); `releases` is releases_of()
    for a page of issues (else the issue's own are read)."""
    project = issue.project
    if releases is None:
        releases = releases_of([issue])
    title = issue.title()
    first_line = issue.calculated_value.strip().split("\n", 1)[0] if issue.calculated_value else ""
    num_comments = getattr(issue, "num_comments", None)
    if num_comments is None:
        num_comments = issue.turning_points.filter(kind=TurningPoint.Kind.COMMENT).count()
    return {
        "id": str(issue.pk),
        "shortId": issue.short_id,
        "title": title,
        "culprit": issue.culprit,
        "permalink": settings.BASE_URL + issue.get_absolute_url(),
        "logger": None,
        "level": issue.level or "error",
        "status": status_of(issue),
        "statusDetails": status_details(issue),
        "substatus": substatus_of(issue),
        "isPublic": False,
        "platform": issue.platform or None,
        "project": {"id": str(project.pk), "name": project.name, "slug": project.slug},
        "type": "error" if issue.calculated_type else "default",
        "issueType": "error",
        "issueCategory": "error",
        "metadata": {"type": issue.calculated_type, "value": first_line, "title": title},
        "numComments": num_comments,
        "count": str(issue.event_count),
        "userCount": 0,
        "firstSeen": iso(issue.first_seen),
        "lastSeen": iso(issue.last_seen),
        "isBookmarked": False,
        "isSubscribed": subscribed,
        "hasSeen": False,
        "annotations": [],
        "assignedTo": assigned_to(issue),
        "shareId": None,
        "firstRelease": issue_release(issue, issue.first_release, releases),
        "lastRelease": issue_release(issue, issue.last_release, releases),
    }
