"""Links to releases' own pages from pages that name releases by their version (the issue page's header, its Events
table). A table's links go by id (releases.urls says why), found with one query for all the versions a page shows; a
version with no release row (e.g. deleted since) gets no link. Where a page shows one or two versions on every tab
(the issue's header) the link goes by version instead, for no query at all: a version that releases.naming lets in
(no slash, not `.` or `..`) makes a path segment browsers keep as it is."""

from django.urls import reverse

from releases.models import Release
from releases.naming import release_name_problem


def release_url_by_version(project_id: int, version: str) -> str:
    """The release page's URL by version, or "" for a version that cannot name a release's page."""
    if not version or release_name_problem(version):
        return ""
    return reverse("releases:detail", args=[project_id, version])


def release_urls(project_id: int, versions) -> dict[str, str]:
    """{version: the release page's URL} for those of `versions` the project has a release for."""
    wanted = {v for v in versions if v}
    if not wanted:
        return {}
    rows = Release.objects.filter(project_id=project_id, version__in=wanted).values_list("version", "pk")
    return {version: reverse("releases:release", args=[project_id, pk]) for version, pk in rows}
