"""A project's Releases page: each release newest first (in the project's release order, see releases.ordering)
with its first-seen moment, when it was created and finalized (sentry-cli), its commits and latest deploy, how many
stored events and issues carry it, how many issues were first seen in it and how many are resolved in it; and a
release's own page with its commits and deploys.

Every figure comes from one aggregate query over the project, whatever the number of releases: the page costs a
fixed handful of queries, not a few per row.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.db.models import Count, OuterRef, Subquery
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from events.models import Event
from health.charts import session_bars
from health.summary import HealthTotals, release_health, totals_by_release
from issues.models import Issue
from projects.access import get_project_or_404
from releases.models import Commit, Deploy, Release
from releases.ordering import ordered_versions
from tags.models import IssueTag

# a release's page lists this many of its commits and deploys, newest first
MAX_COMMITS_SHOWN = 200
MAX_DEPLOYS_SHOWN = 100
# release health (health.summary): the list shows this many days; a release's page a period of these (label, length,
# chart step), HEALTH_DEFAULT_PERIOD unless asked
HEALTH_LIST_PERIOD = timedelta(days=14)
HEALTH_PERIODS = {
    "24h": (timedelta(hours=24), timedelta(hours=1)),
    "7d": (timedelta(days=7), timedelta(hours=6)),
    "14d": (timedelta(days=14), timedelta(days=1)),
    "90d": (timedelta(days=90), timedelta(days=1)),
}
HEALTH_DEFAULT_PERIOD = "14d"


def health_window(length: timedelta) -> tuple[datetime, datetime]:
    """[start, end) of the last `length`, ending with the current hour's bucket."""
    end = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return end - length, end


@dataclass
class ReleaseRow:
    pk: int
    version: str
    first_seen: datetime
    created: datetime
    finalized: datetime | None
    commits: int
    last_deploy_environment: str | None
    last_deploy_at: datetime | None
    events: int
    issues: int
    new_issues: int
    resolved_issues: int
    # the issue list filtered to this release's issues, or "" when the search cannot express the version
    issues_url: str
    # its sessions over HEALTH_LIST_PERIOD (health.summary), None without any
    health: HealthTotals | None = None


def release_search(version: str) -> str | None:
    """The issue list's search term for a release (tags.search): quoted when the version holds spaces; None when it
    holds a double quote, which the search has no way to write."""
    if '"' in version:
        return None
    if any(c.isspace() for c in version) or not version:
        return f'release:"{version}"'
    return f"release:{version}"


def with_commits_and_deploys(releases):
    """Each release with its commit count and latest deploy, in the same query."""
    latest = Deploy.objects.filter(release=OuterRef("pk")).order_by("-date_finished", "-id")
    commits = Commit.objects.filter(release=OuterRef("pk")).values("release").annotate(n=Count("id")).values("n")
    return releases.annotate(
        commit_count=Subquery(commits[:1]),
        last_deploy_environment=Subquery(latest.values("environment")[:1]),
        last_deploy_at=Subquery(latest.values("date_finished")[:1]),
    )


def release_rows(project) -> list[ReleaseRow]:
    by_version = {r.version: r for r in with_commits_and_deploys(Release.objects.filter(project=project))}
    releases = {version: r.date_released for version, r in by_version.items()}
    if not releases:
        return []
    events = dict(Event.objects.filter(project=project).values_list("release").annotate(n=Count("id")).order_by())
    issues = dict(
        IssueTag.objects.filter(value__project=project, value__key="release")
        .values_list("value__value")
        .annotate(n=Count("issue_id"))
        .order_by()
    )
    new_issues = dict(
        Issue.objects.filter(project=project)
        .exclude(first_release="")
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
    health = totals_by_release(project, *health_window(HEALTH_LIST_PERIOD))
    list_url = reverse("issues:project", args=[project.pk])
    rows = []
    for version in reversed(ordered_versions(list(releases.items()))):
        term = release_search(version)
        rows.append(
            ReleaseRow(
                pk=by_version[version].pk,
                version=version,
                first_seen=releases[version],
                created=by_version[version].date_created,
                finalized=by_version[version].date_finalized,
                commits=by_version[version].commit_count or 0,
                last_deploy_environment=by_version[version].last_deploy_environment,
                last_deploy_at=by_version[version].last_deploy_at,
                events=events.get(version, 0),
                issues=issues.get(version, 0),
                new_issues=new_issues.get(version, 0),
                resolved_issues=resolved.get(version, 0),
                issues_url=f"{list_url}?{urlencode({'q': term, 'tab': 'all'})}" if term else "",
                health=health.get(version),
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
        {
            "project": project,
            "releases": release_rows(project),
            "health_days": HEALTH_LIST_PERIOD.days,
            "nav": "projects",
        },
    )


@require_safe
@login_required
def release_detail(request, project_id: int, version: str):
    project = get_project_or_404(request.user, project_id)
    return _release_page(request, project, Release.objects.filter(project=project, version=version).first())


@require_safe
@login_required
def release_by_id(request, project_id: int, release_id: int):
    project = get_project_or_404(request.user, project_id)
    return _release_page(request, project, Release.objects.filter(project=project, pk=release_id).first())


def _release_page(request, project, release: Release | None):
    if release is None:
        raise Http404("No such release")
    term = release_search(release.version)
    list_url = reverse("issues:project", args=[project.pk])
    period = request.GET.get("period", HEALTH_DEFAULT_PERIOD)
    if period not in HEALTH_PERIODS:
        period = HEALTH_DEFAULT_PERIOD
    length, step = HEALTH_PERIODS[period]
    health = release_health(project, release.version, *health_window(length), step)
    bars, peak = session_bars(health.series)
    return render(
        request,
        "releases/detail.html",
        {
            "project": project,
            "release": release,
            "commits": release.commits.order_by("position")[:MAX_COMMITS_SHOWN],
            "commit_count": release.commits.count(),
            "deploys": release.deploys.order_by("-date_finished", "-id")[:MAX_DEPLOYS_SHOWN],
            "issues_url": f"{list_url}?{urlencode({'q': term, 'tab': 'all'})}" if term else "",
            "health": health,
            "health_bars": bars,
            "health_peak": peak,
            "health_period": period,
            "health_periods": list(HEALTH_PERIODS),
            "nav": "projects",
        },
    )
