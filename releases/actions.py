"""The verbs on releases that the API (sentry-cli) and the pages share: create, finalize, record commits and deploys,
delete. Views translate requests into these calls and their exceptions into answers.

A release the API creates before any event is a release of the project like one an event brought: it takes its
place in the release order from its creation (releases.ordering), and when it is the project's newest release the
issues waiting for "the next release" are resolved in it. That last step writes issues, which only a project's single
writer may do, so it is a job on the project's digest queue (RELEASE_CREATED, `release_created`), as the digest does
it when an event brings a new release.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from bugsink import jobs
from issues.models import Issue
from issues.state import IssueStateManager
from projects.models import Project
from releases.models import Commit, Deploy, Release, Repository
from releases.ordering import latest_version


class ReleaseInUse(Exception):
    """The release has events: deleting it would orphan them (Sentry refuses the same way)."""


@dataclass
class CommitData:
    sha: str
    repository: str
    message: str = ""
    author_name: str = ""
    author_email: str = ""
    timestamp: datetime | None = None


@dataclass
class DeployData:
    environment: str
    name: str = ""
    url: str = ""
    date_started: datetime | None = None
    date_finished: datetime | None = None


def ensure_release(
    project: Project, version: str, *, url: str | None = None, date_finalized: datetime | None = None
) -> tuple[Release, bool]:
    """The project's release `version`, made if missing (then also its RELEASE_CREATED job); (release, created)."""
    now = timezone.now()
    release = Release.objects.filter(project=project, version=version).first()
    created = False
    if release is None:
        try:
            with transaction.atomic():
                release = Release.objects.create(
                    project=project,
                    version=version,
                    date_released=now,
                    date_created=now,
                    url=url or "",
                    date_finalized=date_finalized,
                )
                created = True
        except IntegrityError:
            # an event (digest) or a parallel request made it first
            release = Release.objects.get(project=project, version=version)
    if created:
        release_created.after_commit(project.pk, version)
        return release, True
    update_release(release, url=url, date_finalized=date_finalized)
    return release, False


def update_release(release: Release, *, url: str | None = None, date_finalized: datetime | None = None) -> None:
    changed = []
    if url is not None and url != release.url:
        release.url = url
        changed.append("url")
    if date_finalized is not None and date_finalized != release.date_finalized:
        release.date_finalized = date_finalized
        changed.append("date_finalized")
    if changed:
        release.save(update_fields=changed)


@jobs.job("releases.tasks.release_created", writer=lambda project_id, version: project_id, acks_late=True)
def release_created(project_id: int, version: str) -> int:
    """Run by the project's single writer after the API made a release: when it is the project's newest, the issues
    resolved "in the next release" are resolved in it. Returns how many."""
    project = Project.objects.filter(pk=project_id).first()
    if project is None or latest_version(project) != version:
        return 0
    with transaction.atomic():
        return resolve_waiting_for_next_release(project, version)


def resolve_waiting_for_next_release(project: Project, version: str, when=None, defer: list | None = None) -> int:
    """The project's issues resolved "in the next release" are resolved in `version`, its newest release (the one
    rule for a release an event brought, in digest, and one the API made). Inside the caller's transaction; turning
    points go to `defer` when given. Returns how many."""
    count = 0
    waiting = Issue.objects.select_for_update().filter(
        project=project, is_resolved=True, is_resolved_by_next_release=True
    )
    for issue in waiting:
        IssueStateManager.materialize_next_release(issue, version, when=when, defer=defer)
        issue.save(update_fields=["is_resolved_by_next_release", "fixed_at"])
        count += 1
    return count


def set_commits(releases: Iterable[Release], commits: list[CommitData]) -> int:
    """Replace the commits of each of the releases (one version, its projects' rows) with `commits`, in the order
    given; a commit listed twice is kept once. Returns how many each release has now."""
    releases = list(releases)
    unique = list({(c.repository, c.sha): c for c in reversed(commits)}.values())[::-1]
    with transaction.atomic():
        for release in releases:
            Commit.objects.filter(release=release).delete()
            Commit.objects.bulk_create(
                Commit(
                    release=release,
                    position=position,
                    sha=c.sha,
                    repository=c.repository,
                    message=c.message,
                    author_name=c.author_name,
                    author_email=c.author_email,
                    timestamp=c.timestamp,
                )
                for position, c in enumerate(unique)
            )
        record_repositories(releases, {c.repository for c in unique if c.repository})
    return len(unique)


def record_repositories(releases: Iterable[Release], names: set[str]) -> None:
    """The repositories `names` (created when new; a name differing only in case is the same one) in the projects
    of `releases`."""
    project_ids = {release.project_id for release in releases}
    for name in sorted(names):
        repository = Repository.objects.filter(name__iexact=name).order_by("pk").first()
        if repository is None:
            repository, _ = Repository.objects.get_or_create(name=name)
        repository.projects.add(*project_ids)


def add_deploy(releases: Iterable[Release], deploy: DeployData) -> list[Deploy]:
    finished = deploy.date_finished or timezone.now()
    with transaction.atomic():
        return [
            Deploy.objects.create(
                release=release,
                environment=deploy.environment,
                name=deploy.name,
                url=deploy.url,
                date_started=deploy.date_started,
                date_finished=finished,
            )
            for release in releases
        ]
