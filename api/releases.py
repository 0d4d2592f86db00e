"""Releases in Sentry's shapes: what `sentry-cli releases ...`, `deploys ...` and `set-commits` call.

Sentry's releases belong to the organization and list their projects; ours are rows per project (releases.models).
An organization-level release here is a version with the rows of the projects the user may see; a request that
names projects acts on those projects' rows. The verbs are releases.actions; this module only translates.
"""

from collections import defaultdict

from django.db.models import Count, Max, Min
from django.urls import path
from rest_framework import status
from rest_framework.decorators import api_view
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response

from api.common import check_organization, get_project, iso
from api.models import Scope
from api.pagination import paginated_response
from api.permissions import token_allows
from api.validation import (
    optional_datetime,
    optional_http_url,
    optional_string,
    parse_project_refs,
    request_object,
    validate_version,
)
from artifacts.release_deletion import delete_releases
from bugsink.links import http_url_or_empty
from events.models import Event
from issues.models import Issue
from projects.access import is_project_admin, visible_projects
from releases.actions import (
    CommitData,
    DeployData,
    ReleaseInUse,
    add_deploy,
    ensure_release,
    update_release,
)
from releases.actions import set_commits as set_release_commits
from releases.models import Commit, Deploy, Release, Repository, is_repository_name

# --- reading ------------------------------------------------------------------------------------------------------


def version_rows(request, version: str, projects=None) -> list[Release]:
    """The rows of `version` in the projects the user may see (or in `projects`); a 404 when there are none."""
    if "\x00" in version or len(version) > 250:
        raise NotFound("Release not found.")
    scope = projects if projects is not None else visible_projects(request.user)
    rows = list(Release.objects.filter(version=version, project__in=scope).select_related("project").order_by("id"))
    if not rows:
        raise NotFound("Release not found.")
    return rows


def serialize_deploy(deploy: Deploy) -> dict:
    return {
        "id": str(deploy.pk),
        "environment": deploy.environment,
        "name": deploy.name or None,
        "url": http_url_or_empty(deploy.url) or None,  # one stored before input was checked: none (bugsink.links)
        "dateStarted": iso(deploy.date_started),
        "dateFinished": iso(deploy.date_finished),
    }


def serialize_commit(commit: Commit) -> dict:
    return {
        "id": commit.sha,
        "message": commit.message or None,
        "dateCreated": iso(commit.timestamp),
        "repository": {"name": commit.repository},
        "author": {"name": commit.author_name, "email": commit.author_email} if commit.author_email else None,
    }


def deploy_key(deploy: Deploy) -> tuple:
    """Deploys recorded for one version in one request (one row per project) are one deploy to the client."""
    return (deploy.environment, deploy.name, deploy.url, deploy.date_started, deploy.date_finished)


def unique_deploys(deploys) -> list[Deploy]:
    seen, result = set(), []
    for deploy in deploys:
        if deploy_key(deploy) not in seen:
            seen.add(deploy_key(deploy))
            result.append(deploy)
    return result


def serialize_releases(groups: list[tuple[str, list[Release]]]) -> list[dict]:
    """Sentry's release objects for (version, its rows) pairs, with a fixed number of queries for all of them."""
    rows = [row for _, version_rows_ in groups for row in version_rows_]
    project_ids = {row.project_id for row in rows}
    versions = {row.version for row in rows}
    events = {
        (e["project_id"], e["release"]): e
        for e in Event.objects.filter(project_id__in=project_ids, release__in=versions)
        .values("project_id", "release")
        .annotate(first=Min("timestamp"), last=Max("timestamp"))
        .order_by()
    }
    new_groups = {
        (n["project_id"], n["first_release"]): n["n"]
        for n in Issue.objects.filter(project_id__in=project_ids, first_release__in=versions)
        .values("project_id", "first_release")
        .annotate(n=Count("id"))
        .order_by()
    }
    commit_counts = dict(
        Commit.objects.filter(release__in=rows).values_list("release_id").annotate(n=Count("id")).order_by()
    )
    last_commits = {c.release_id: c for c in Commit.objects.filter(release__in=rows, position=0)}
    deploys = defaultdict(list)
    for deploy in Deploy.objects.filter(release__in=rows).order_by("-date_finished", "-id"):
        deploys[deploy.release_id].append(deploy)

    result = []
    for version, version_rows_ in groups:
        first = version_rows_[0]
        seen = [events[(r.project_id, version)] for r in version_rows_ if (r.project_id, version) in events]
        all_deploys = unique_deploys(d for r in version_rows_ for d in deploys[r.pk])
        all_deploys.sort(key=lambda d: d.date_finished, reverse=True)
        with_commits = next((r for r in version_rows_ if commit_counts.get(r.pk)), first)
        finalized = [r.date_finalized for r in version_rows_ if r.date_finalized]
        last_commit = last_commits.get(with_commits.pk)
        result.append(
            {
                "id": first.pk,
                "version": version,
                "shortVersion": version,
                "ref": first.ref or None,
                "url": http_url_or_empty(first.url) or None,
                "status": "open",
                "dateCreated": iso(min(r.date_created for r in version_rows_)),
                "dateReleased": iso(min(finalized)) if finalized else None,
                "firstEvent": iso(min(e["first"] for e in seen)) if seen else None,
                "lastEvent": iso(max(e["last"] for e in seen)) if seen else None,
                "newGroups": sum(new_groups.get((r.project_id, version), 0) for r in version_rows_),
                "commitCount": commit_counts.get(with_commits.pk, 0),
                "lastCommit": serialize_commit(last_commit) if last_commit else None,
                "deployCount": len(all_deploys),
                "lastDeploy": serialize_deploy(all_deploys[0]) if all_deploys else None,
                "authors": [],
                "data": {},
                "owner": None,
                "projects": [
                    {
                        "id": r.project_id,
                        "slug": r.project.slug,
                        "name": r.project.name,
                        "newGroups": new_groups.get((r.project_id, version), 0),
                        "platform": None,
                        "platforms": [],
                        "hasHealthData": False,
                    }
                    for r in version_rows_
                ],
            }
        )
    return result


def serialize_version(version: str, rows: list[Release]) -> dict:
    return serialize_releases([(version, rows)])[0]


def release_list(request, projects) -> Response:
    """Versions newest first (by creation), `?query=` a part of the version; paginated by version."""
    releases = Release.objects.filter(project__in=projects)
    query = request.query_params.get("query", "").replace("\x00", "").strip()
    if query:
        releases = releases.filter(version__icontains=query[:250])
    versions = releases.values("version").annotate(created=Max("date_created")).order_by("-created", "version")

    def serialize(page):
        wanted = [v["version"] for v in page]
        grouped = defaultdict(list)
        for row in releases.filter(version__in=wanted).select_related("project").order_by("id"):
            grouped[row.version].append(row)
        return serialize_releases([(v, grouped[v]) for v in wanted])

    return paginated_response(request, versions, serialize)


# --- views --------------------------------------------------------------------------------------------------------


def selected_projects(request):
    """`?project=<id>` (repeatable) narrows an organization-level list; ids the user may not see select nothing."""
    ids = [p for p in request.query_params.getlist("project") if p.isdigit() and len(p) < 18]
    projects = visible_projects(request.user)
    if ids:
        projects = projects.filter(pk__in=[int(p) for p in ids])
    elif request.query_params.getlist("project"):
        projects = projects.none()
    return projects


@api_view(["GET", "POST"])
def organization_releases(request, org):
    check_organization(org)
    if request.method == "GET":
        return release_list(request, selected_projects(request))
    data = request_object(request)
    version = validate_version(data.get("version"))
    projects = parse_project_refs(request, data.get("projects"))
    return create_release(request, version, projects, data)


@api_view(["GET", "POST"])
def project_releases(request, org, project):
    project = get_project(request, org, project)
    if request.method == "GET":
        return release_list(request, [project])
    data = request_object(request)
    return create_release(request, validate_version(data.get("version")), [project], data)


def create_release(request, version: str, projects: list, data: dict) -> Response:
    """201 with the release; 208 when it existed in every project named (Sentry's answer to a repeated create)."""
    url = optional_http_url(data, "url", 1024)
    finalized = optional_datetime(data, "dateReleased")
    ref = optional_string(data, "ref", 250)
    created_any = False
    for project in projects:
        release, created = ensure_release(project, version, url=url, date_finalized=finalized)
        created_any |= created
        if ref is not None and ref != release.ref:
            Release.objects.filter(pk=release.pk).update(ref=ref)
    rows = version_rows(request, version, projects=[p.pk for p in projects])
    return Response(
        serialize_version(version, rows),
        status=status.HTTP_201_CREATED if created_any else status.HTTP_208_ALREADY_REPORTED,
    )


@api_view(["GET", "PUT", "DELETE"])
def organization_release(request, org, version):
    check_organization(org)
    if request.method == "DELETE" and not token_allows(request, Scope.ADMIN):
        raise PermissionDenied("Deleting a release needs a token with the admin scope.")
    rows = version_rows(request, version)
    if request.method == "GET":
        return Response(serialize_version(version, rows))
    if request.method == "DELETE":
        return delete_version(request, rows)
    data = request_object(request)
    projects = data.get("projects")
    if projects is not None:
        wanted = {p.pk for p in parse_project_refs(request, projects)}
        rows = [r for r in rows if r.project_id in wanted] or rows
    url = optional_http_url(data, "url", 1024)
    finalized = optional_datetime(data, "dateReleased")
    ref = optional_string(data, "ref", 250)
    for row in rows:
        update_release(row, url=url, date_finalized=finalized)
        if ref is not None:
            Release.objects.filter(pk=row.pk).update(ref=ref)
    if data.get("commits") is not None:
        set_release_commits(rows, parse_commits(data["commits"]))
    elif data.get("refs") is not None:
        set_release_commits(rows, parse_refs(data["refs"]))
    return Response(serialize_version(version, version_rows(request, version)))


def delete_version(request, rows: list[Release]) -> Response:
    if not all(is_project_admin(request.user, r.project) for r in rows):
        raise PermissionDenied("Only a project's admins may delete its releases.")
    try:
        delete_releases(rows)
    except ReleaseInUse as e:
        raise ValidationError({"detail": str(e)}) from None
    return Response(status=status.HTTP_204_NO_CONTENT)


def parse_commits(value) -> list[CommitData]:
    """`commits` as `sentry-cli releases set-commits --local` sends them (git log, newest first)."""
    if not isinstance(value, list) or len(value) > 10_000:
        raise ValidationError({"detail": "commits must be a list (at most 10000)."})
    commits = []
    for item in value:
        if not isinstance(item, dict):
            raise ValidationError({"detail": "each commit must be an object."})
        sha = item.get("id")
        if not isinstance(sha, str) or not 0 < len(sha) <= 64:
            raise ValidationError({"detail": "each commit needs an id (its sha, at most 64 characters)."})
        commits.append(
            CommitData(
                sha=sha,
                repository=optional_string(item, "repository", 200) or "",
                message=optional_string(item, "message", 100_000) or "",
                author_name=optional_string(item, "author_name", 250) or "",
                author_email=optional_string(item, "author_email", 254) or "",
                timestamp=optional_datetime(item, "timestamp"),
            )
        )
    return commits


def parse_refs(value) -> list[CommitData]:
    """`refs` (`set-commits --commit repo@sha`): the head commit of each repository; without a code host to ask,
    the head commit is all we learn."""
    if not isinstance(value, list) or len(value) > 1000:
        raise ValidationError({"detail": "refs must be a list (at most 1000)."})
    commits = []
    for item in value:
        if not isinstance(item, dict):
            raise ValidationError({"detail": "each ref must be an object."})
        repository, sha = item.get("repository"), item.get("commit")
        if not isinstance(repository, str) or not 0 < len(repository) <= 200:
            raise ValidationError({"detail": "each ref needs a repository (at most 200 characters)."})
        if not isinstance(sha, str) or not 0 < len(sha) <= 64:
            raise ValidationError({"detail": "each ref needs a commit (at most 64 characters)."})
        commits.append(CommitData(sha=sha, repository=repository))
    return commits


@api_view(["GET"])
def release_commits(request, org, version):
    check_organization(org)
    rows = version_rows(request, version)
    counts = dict(Commit.objects.filter(release__in=rows).values_list("release_id").annotate(n=Count("id")).order_by())
    row = next((r for r in rows if counts.get(r.pk)), rows[0])
    commits = row.commits.order_by("position")
    return paginated_response(request, commits, lambda page: [serialize_commit(c) for c in page])


@api_view(["GET"])
def previous_with_commits(request, org, version):
    """The newest release created before this one that has commits (where `set-commits --local` stops reading git
    history), or `{}`."""
    check_organization(org)
    rows = version_rows(request, version)
    created = min(r.date_created for r in rows)
    previous = (
        Release.objects.filter(project__in=[r.project_id for r in rows], date_created__lt=created)
        .exclude(version=version)
        .filter(commits__isnull=False)
        .select_related("project")
        .order_by("-date_created", "-id")
        .first()
    )
    if previous is None:
        return Response({})
    return Response(serialize_version(previous.version, [previous]))


@api_view(["GET", "POST"])
def release_deploys(request, org, version):
    check_organization(org)
    rows = version_rows(request, version)
    if request.method == "GET":
        deploys = unique_deploys(Deploy.objects.filter(release__in=rows).order_by("-date_finished", "-id"))
        return paginated_response(request, deploys, lambda page: [serialize_deploy(d) for d in page])
    data = request_object(request)
    environment = data.get("environment")
    if not isinstance(environment, str) or not environment.strip() or len(environment) > 64:
        raise ValidationError({"detail": "environment is required (at most 64 characters)."})
    if any(c in environment for c in "\r\n\t/"):
        raise ValidationError({"detail": "environment may not hold slashes or line breaks."})
    projects = data.get("projects")
    if projects is not None:
        wanted = {p.pk for p in parse_project_refs(request, projects)}
        rows = [r for r in rows if r.project_id in wanted]
        if not rows:
            raise ValidationError({"detail": "The release is not in any of the projects given."})
    deploy = DeployData(
        environment=environment,
        name=optional_string(data, "name", 250) or "",
        url=optional_http_url(data, "url", 1024) or "",
        date_started=optional_datetime(data, "dateStarted"),
        date_finished=optional_datetime(data, "dateFinished"),
    )
    created = add_deploy(rows, deploy)
    return Response(serialize_deploy(created[0]), status=status.HTTP_201_CREATED)


@api_view(["GET"])
def organization_repos(request, org):
    """The repositories `set-commits` named in the projects the user may see (Sentry lists its code-host
    integrations here). sentry-cli and the bundler plugins match the checkout's remote (`acme/fe-app`) against these
    names; a remote's own name ("origin", which sentry-cli 3.8's --local records) is not a repository and not listed,
    so that such a client does not find it instead of nothing (with nothing listed, they record local history)."""
    check_organization(org)
    repositories = (
        Repository.objects.filter(projects__in=visible_projects(request.user), name__contains="/")
        .distinct()
        .order_by("name")
    )

    def serialize(page):
        return [
            {
                "id": str(r.pk),
                "name": r.name,
                "url": None,
                "provider": {"id": "local", "name": "Named by set-commits"},
                "status": "active",
                "dateCreated": iso(r.date_created),
                "integrationId": None,
                "externalSlug": r.name,
            }
            for r in page
            if is_repository_name(r.name)
        ]

    return paginated_response(request, repositories, serialize)


urlpatterns = [
    path("organizations/<str:org>/repos/", organization_repos, name="organization-repos"),
    path("organizations/<str:org>/releases/", organization_releases, name="organization-releases"),
    path("organizations/<str:org>/releases/<path:version>/deploys/", release_deploys, name="release-deploys"),
    path("organizations/<str:org>/releases/<path:version>/commits/", release_commits, name="release-commits"),
    path(
        "organizations/<str:org>/releases/<path:version>/previous-with-commits/",
        previous_with_commits,
        name="release-previous-with-commits",
    ),
    path("organizations/<str:org>/releases/<path:version>/", organization_release, name="organization-release"),
    path("projects/<str:org>/<str:project>/releases/", project_releases, name="project-releases"),
]
