"""Release ordering: semantic versions where every release of a project is one, else first-seen order.

One place decides "is release A at or after release B"; regression detection and "resolved in latest/next release"
both go through here.

The order must cost the same whatever the number of a project's releases, since digest asks it for events: each
Release row carries its `sort_key` (releases.models), written when the row is made, so that the database can find
the project's latest release through an index, and any two versions can be compared from their own rows. Whether
the project orders by semver is one indexed question: does it have a release whose sort key is empty?

Ties (1.0 and 1.0.0, or 1.0.0+a and 1.0.0+b, are the same version to semver) go by first-seen moment, then by row.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime

from django.db.models import Exists, Subquery

from releases.models import Release
from releases.semver import parse_semver, semver_sort_key


def ordered_versions(releases: Sequence[tuple[str, datetime]]) -> list[str]:
    """Versions oldest first, from (version, first_seen) pairs (a page that shows all of a project's releases)."""
    if releases and all(parse_semver(v) is not None for v, _ in releases):
        return [v for v, _ in sorted(releases, key=lambda r: (semver_sort_key(r[0]), r[1]))]
    return [v for v, _ in sorted(releases, key=lambda r: r[1])]


def by_semver(project_id: int) -> bool:
    """Whether every release of the project is a semantic version (a project without releases is, vacuously)."""
    return not Release.objects.filter(project_id=project_id, sort_key="").exists()


def latest_version(project) -> str | None:
    """The project's newest release, in one query (every issue page asks): the first row in semver order, and
    beside it whether any release is no semver and the first row in first-seen order. Three index lookups."""
    releases = Release.objects.filter(project_id=project.pk)
    row = (
        releases.order_by("-sort_key", "-date_released", "-id")
        .annotate(
            not_semver=Exists(releases.filter(sort_key="")),
            newest_seen=Subquery(releases.order_by("-date_released", "-id").values("version")[:1]),
        )
        .values_list("version", "not_semver", "newest_seen")
        .first()
    )
    if row is None:
        return None
    by_version, not_semver, newest_seen = row
    return newest_seen if not_semver else by_version


def has_version(project, version: str) -> bool:
    return Release.objects.filter(project=project, version=version).exists()


class ReleaseOrder:
    """A project's release order, asked about a few versions at a time: each question reads the rows of the
    versions it names (once, then remembered) and never the project's other releases.

    Lives as long as one digest batch or one request: a release made meanwhile is told through `added`."""

    def __init__(self, project_id: int):
        self.project_id = project_id
        self._semver: bool | None = None
        self._positions: dict[str, tuple | None] = {}  # version -> (sort_key, date_released, id), None: unknown

    def added(self, release: Release) -> None:
        self._positions[release.version] = (release.sort_key, release.date_released, release.pk)
        if self._semver and not release.sort_key:
            self._semver = False

    def _by_semver(self) -> bool:
        if self._semver is None:
            self._semver = by_semver(self.project_id)
        return self._semver

    def knows(self, version: str) -> bool:
        """Whether the project has this version (after `learn` of it)."""
        return self._positions.get(version) is not None

    def learn(self, versions: Iterable[str]) -> None:
        missing = {v for v in versions if v not in self._positions}
        if not missing:
            return
        for version, sort_key, date_released, pk in Release.objects.filter(
            project_id=self.project_id, version__in=missing
        ).values_list("version", "sort_key", "date_released", "id"):
            self._positions[version] = (sort_key, date_released, pk)
        for version in missing:
            self._positions.setdefault(version, None)

    def _position(self, version: str) -> tuple | None:
        position = self._positions[version]
        if position is None:
            return None
        return position if self._by_semver() else position[1:]

    def is_at_or_after(self, version: str, reference: str) -> bool:
        """Whether `version` is the same as or newer than `reference`."""
        if version == reference:
            return True
        self.learn([version, reference])
        mine, theirs = self._position(version), self._position(reference)
        if mine is None:
            # A version we have no record of: it cannot be placed, so treat it as newer (the cautious choice for
            # regression detection: tell people rather than hide an error).
            return True
        if theirs is None:
            return False
        return mine >= theirs
