"""Semantic versions: parsing, and a sort key as text that databases order the same way.

Pure functions (no models), so that the Release model can compute its own sort key when it is saved.
"""

import re

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


def _number(n: int) -> str:
    # length first, so that 10 sorts after 9 as text; a version is at most 250 characters, so 3 digits suffice
    digits = str(n)
    return f"{len(digits):03d}{digits}"


def _text(identifier: str) -> str:
    # [0-9A-Za-z-] only (the pattern allows no more): code points 45..122 become two digits 10..87, in the same
    # order; "00" ends the identifier, so that "alpha" sorts before "alpha1"
    return "".join(f"{ord(c) - 35:02d}" for c in identifier) + "00"


def semver_sort_key(version: str) -> str:
    """The version's semver order as a string of digits ("" when it is not a semantic version): comparing two keys
    as text compares the versions as parse_semver does. Digits only, because databases compare text by collations
    that differ (case, punctuation) but agree on digits."""
    parsed = parse_semver(version)
    if parsed is None:
        return ""
    major, minor, patch, is_final, identifiers = parsed
    key = _number(major) + _number(minor) + _number(patch)
    if is_final:
        return key + "1"
    parts = ["1" + _number(n) if kind == 0 else "2" + _text(text) for kind, n, text in identifiers]
    return key + "0" + "".join(parts) + "0"
