"""A project's Releases page: each release newest first (in the project's release order, see releases.ordering)
with its first-seen moment, how many stored events and issues carry it, how many issues were first seen in it and
how many are resolved in it.

Every figure comes from one aggregate query over the project, whatever the number of releases: the page costs a
fixed handful of queries, not a few per row.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.db.models.fields.json import KeyTextTransform
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from events.models import Event
from issues.models import Issue
from projects.access import get_project_or_404
from releases.models import Release
from releases.ordering import ordered_versions
from tags.models import IssueTag


@dataclass
class ReleaseRow:
    version: str
    first_seen: datetime
    events: int
    issues: int
    new_issues: int
    resolved_issues: int
    # the issue list filtered to this release's issues, or "" when the search cannot express the version
    issues_url: str


def release_search(version: str) -> str | None:
    """The issue list's search term for a release (tags.search): quoted when the version holds spaces; None when it
    holds a double quote, which the search has no way to write."""
    if '"' in version:
        return None
    if any(c.isspace() for c in version) or not version:
        return f'release:"{version}"'
    return f"release:{version}"


def release_rows(project) -> list[ReleaseRow]:
    releases = dict(Release.objects.filter(project=project).values_list("version", "date_released"))
    if not releases:
        return []
    events = dict(Event.objects.filter(project=project).values_list("release").annotate(n=Count("id")).order_by())
    issues = dict(
        IssueTag.objects.filter(value__project=project, value__key="release")
        .values_list("value__value")
        .annotate(n=Count("issue_id"))
        .order_by()
    )
    # events_at holds an issue's releases in the order they were first seen: its first entry is the release the
    # issue was first seen in
    new_issues = dict(
        Issue.objects.filter(project=project)
        .annotate(first_release=KeyTextTransform("0", "events_at"))
        .exclude(first_release=None)
        .values_list("first_release")
        .annotate(n=Count("id"))
        .order_by()
    )
    # fixed_at is a short list per resolved issue; JSON containment differs per database (SQLite has none), so the
    # lists of the issues that have any are counted here, still in one query
    resolved = Counter(
        version
        for fixed_at in Issue.objects.filter(project=project).exclude(fixed_at=[]).values_list("fixed_at", flat=True)
        for version in set(fixed_at or [])
    )
    list_url = reverse("issues:project", args=[project.pk])
    rows = []
    for version in reversed(ordered_versions(list(releases.items()))):
        term = release_search(version)
        rows.append(
            ReleaseRow(
                version=version,
                first_seen=releases[version],
                events=events.get(version, 0),
                issues=issues.get(version, 0),
                new_issues=new_issues.get(version, 0),
                resolved_issues=resolved.get(version, 0),
                issues_url=f"{list_url}?{urlencode({'q': term, 'tab': 'all'})}" if term else "",
            )
        )
    return rows


@require_safe
@login_required
def project_releases(request, project_id: int):
    project = get_project_or_404(request.user, project_id)
    return render(
        request,
        "releases/list.html",
        {"project": project, "releases": release_rows(project), "nav": "projects"},
    )
