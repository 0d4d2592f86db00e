from datetime import UTC, datetime, timedelta

from hypothesis import assume, given
from hypothesis import strategies as st

from releases.models import Release
from releases.ordering import ReleaseOrder, by_semver, latest_version, ordered_versions
from releases.semver import parse_semver, semver_sort_key

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


def test_sort_key_is_digits_and_empty_for_other_versions():
    assert semver_sort_key("shop@1.10.0-rc.1").isdigit()
    assert semver_sort_key("abc123") == ""
    assert semver_sort_key("1.2") == semver_sort_key("v1.2.0") == semver_sort_key("1.2.0+build")


_identifier = st.one_of(
    st.integers(min_value=0, max_value=10**30).map(str),
    st.text(alphabet="0123456789ABCXYZabcxyz-", min_size=0, max_size=6),
)
_version = st.builds(
    lambda core, pre: ".".join(str(n) for n in core) + ("-" + ".".join(pre) if pre else ""),
    st.lists(st.integers(min_value=0, max_value=10**25), min_size=2, max_size=3),
    st.lists(_identifier, min_size=0, max_size=4),
)


@given(_version, _version)
def test_sort_keys_compare_as_the_versions_do(a, b):
    parsed_a, parsed_b = parse_semver(a), parse_semver(b)
    assume(parsed_a is not None and parsed_b is not None)  # "1.0-" is no semver: its pre-release part is empty
    key_a, key_b = semver_sort_key(a), semver_sort_key(b)
    assert key_a and key_b
    assert (key_a < key_b) == (parsed_a < parsed_b)
    assert (key_a == key_b) == (parsed_a == parsed_b)


def test_the_longest_version_fits_its_sort_key_column():
    longest = "1." + "9" * 120 + "-" + ".".join(["z" * 9] * 12)
    assert len(longest) <= 250
    assert 0 < len(semver_sort_key(longest)) <= Release._meta.get_field("sort_key").max_length


def test_semver_projects_order_by_version():
    assert ordered_versions(seen("1.10.0", "1.2.0", "1.9.9-rc.1", "1.9.9")) == [
        "1.2.0",
        "1.9.9-rc.1",
        "1.9.9",
        "1.10.0",
    ]


def test_non_semver_projects_order_by_first_seen():
    assert ordered_versions(seen("zeta", "1.0.0", "alpha")) == ["zeta", "1.0.0", "alpha"]


def make(project, *versions):
    for n, version in enumerate(versions):
        Release.objects.create(project=project, version=version, date_released=T0 + timedelta(minutes=n))


def test_is_at_or_after(project):
    make(project, "1.0", "2.0", "1.1")
    order = ReleaseOrder(project.pk)
    assert order.is_at_or_after("1.1", "1.1")
    assert order.is_at_or_after("2.0", "1.1")
    assert not order.is_at_or_after("1.0", "1.1")
    assert order.is_at_or_after("9.9", "1.1"), "an unknown version cannot be placed: treated as newer"
    assert not order.is_at_or_after("1.1", "9.9")


def test_one_release_that_is_no_semver_orders_the_project_by_first_seen(project):
    make(project, "2.0.0", "1.0.0")
    assert latest_version(project) == "2.0.0"
    assert ReleaseOrder(project.pk).is_at_or_after("2.0.0", "1.0.0")
    Release.objects.create(project=project, version="nightly", date_released=T0 + timedelta(hours=1))
    assert not by_semver(project.pk)
    assert latest_version(project) == "nightly"
    order = ReleaseOrder(project.pk)
    assert order.is_at_or_after("1.0.0", "2.0.0"), "first seen later"
    assert order.is_at_or_after("nightly", "1.0.0")


def test_equal_versions_are_ordered_by_first_seen(project):
    make(project, "1.0.0+b", "1.0.0+a")
    assert latest_version(project) == "1.0.0+a"
    assert ReleaseOrder(project.pk).is_at_or_after("1.0.0+a", "1.0.0+b")


def test_bulk_made_releases_get_their_sort_key(project):
    Release.objects.bulk_create([Release(project=project, version="1.2.0", date_released=T0)])
    assert Release.objects.get().sort_key == semver_sort_key("1.2.0")


def test_questions_cost_the_same_with_thousands_of_releases(project, django_assert_num_queries):
    Release.objects.bulk_create(
        Release(project=project, version=f"{n // 100}.{n % 100}.0", date_released=T0 + timedelta(seconds=n))
        for n in range(3000)
    )
    with django_assert_num_queries(1):
        assert latest_version(project) == "29.99.0"
    order = ReleaseOrder(project.pk)
    with django_assert_num_queries(2):  # the two rows, then the project's kind of order
        assert order.is_at_or_after("12.5.0", "3.40.0")
    with django_assert_num_queries(0):  # remembered
        assert not order.is_at_or_after("3.40.0", "12.5.0")
