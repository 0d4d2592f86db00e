from datetime import UTC, datetime, timedelta

from releases.ordering import is_at_or_after, ordered_versions, parse_semver

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def seen(*versions):
    return [(v, T0 + timedelta(minutes=i)) for i, v in enumerate(versions)]


def test_semver_parsing():
    assert parse_semver("1.2.3") < parse_semver("1.10.0")
    assert parse_semver("v1.2") == parse_semver("1.2.0")
    assert parse_semver("myapp@1.2.3") == parse_semver("1.2.3")
    assert parse_semver("1.0.0-rc.1") < parse_semver("1.0.0")
    assert parse_semver("1.0.0-alpha") < parse_semver("1.0.0-alpha.1") < parse_semver("1.0.0-beta")
    assert parse_semver("1.0.0-2") < parse_semver("1.0.0-10") < parse_semver("1.0.0-a")
    assert parse_semver("1.0.0+build.7") == parse_semver("1.0.0")
    assert parse_semver("abc123") is None
    assert parse_semver("2024-01-01") is None


def test_semver_projects_order_by_version():
    assert ordered_versions(seen("1.10.0", "1.2.0", "1.9.9-rc.1", "1.9.9")) == [
        "1.2.0",
        "1.9.9-rc.1",
        "1.9.9",
        "1.10.0",
    ]


def test_non_semver_projects_order_by_first_seen():
    assert ordered_versions(seen("zeta", "1.0.0", "alpha")) == ["zeta", "1.0.0", "alpha"]


def test_is_at_or_after():
    ordered = ["1.0", "1.1", "2.0"]
    assert is_at_or_after("1.1", "1.1", ordered)
    assert is_at_or_after("2.0", "1.1", ordered)
    assert not is_at_or_after("1.0", "1.1", ordered)
    assert is_at_or_after("9.9", "1.1", ordered), "an unknown version cannot be placed: treated as newer"
