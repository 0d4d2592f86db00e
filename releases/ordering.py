"""Release ordering: semantic versions where every release of a project is one, else first-seen order.

One place decides "is release A at or after release B"; regression detection and "resolved in latest/next release"
both go through here.
"""

import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from releases.models import Release

# "1.2.3", "v1.2", "1.2.3-rc.1+build.5", and the JavaScript convention "package@1.2.3".
_SEMVER = re.compile(
    r"^(?:[^@\s]+@)?v?(?P<major>\d+)\.(?P<minor>\d+)(?:\.(?P<patch>\d+))?"
    r"(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
)


def parse_semver(version: str) -> tuple | None:
    """A sort key for a semantic version, or None when the string is not one.

    A release without a pre-release part sorts after its pre-releases (1.0.0-rc.1 < 1.0.0); pre-release identifiers
    compare numerically when numeric, and numeric ones sort before alphanumeric ones, as semver.org prescribes.
    """
    match = _SEMVER.match(version.strip())
    if not match:
        return None
    core = (int(match["major"]), int(match["minor"]), int(match["patch"] or 0))
    pre = match["pre"]
    if pre is None:
        return (*core, 1, ())
    identifiers = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (*core, 0, identifiers)


def sort_key_function(versions: Iterable[str]):
    """Return a key function for the given set of a project's versions (semver if all of them are)."""
    versions = list(versions)
    if versions and all(parse_semver(v) is not None for v in versions):
        return lambda version, first_seen=None: parse_semver(version)
    return None


def ordered_versions(releases: Sequence[tuple[str, datetime]]) -> list[str]:
    """Versions oldest first, from (version, first_seen) pairs."""
    if not releases:
        return []
    key = sort_key_function(v for v, _ in releases)
    if key is not None:
        return [v for v, _ in sorted(releases, key=lambda r: key(r[0]))]
    return [v for v, _ in sorted(releases, key=lambda r: r[1])]


def is_at_or_after(version: str, reference: str, ordered: Sequence[str]) -> bool:
    """Whether `version` is the same as or newer than `reference`, in a project's ordered versions."""
    if version == reference:
        return True
    try:
        return ordered.index(version) >= ordered.index(reference)
    except ValueError:
        # A version we have no record of: it cannot be placed, so treat it as newer (the cautious choice for
        # regression detection: tell people rather than hide an error).
        return version not in ordered


def project_ordered_versions(project) -> list[str]:
    return ordered_versions(list(Release.objects.filter(project=project).values_list("version", "date_released")))


def latest_version(project) -> str | None:
    versions = project_ordered_versions(project)
    return versions[-1] if versions else None
