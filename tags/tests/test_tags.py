from issues.models import Issue
from tags.extract import event_tags
from tags.models import EventTag, IssueTag, TagValue
from tags.search import filter_events, filter_issues, parse_query
from testing.utils import exception_event


def test_event_tags_from_fields_contexts_and_sdk_tags():
    event = {
        "level": "error",
        "release": "1.0",
        "environment": "prod",
        "server_name": "web-1",
        "user": {"id": "42", "email": "ann@example.com"},
        "contexts": {
            "browser": {"name": "Chrome", "version": "120.0"},
            "os": {"name": "Linux"},
            "runtime": {"name": "CPython", "version": "3.12.1"},
            "device": {"model": "Pixel 8"},
        },
        "tags": {"customer": "acme", "level": "ignored: the field wins", "blank": ""},
    }
    assert event_tags(event) == {
        "level": "error",
        "release": "1.0",
        "environment": "prod",
        "server_name": "web-1",
        "user": "ann@example.com",
        "user.id": "42",
        "user.email": "ann@example.com",
        "device.model": "Pixel 8",
        "browser": "Chrome 120.0",
        "browser.name": "Chrome",
        "os": "Linux",
        "os.name": "Linux",
        "runtime": "CPython 3.12.1",
        "runtime.name": "CPython",
        "device": "Pixel 8",
        "customer": "acme",
    }


def test_os_tags_fall_back_to_the_visitors_os():
    """A server-side event's `client_os` (derived from its request's User-Agent) tags `os` unless the SDK sent an
    `os` of its own."""
    visitor = {"client_os": {"name": "Windows", "version": "10"}}
    assert {k: v for k, v in event_tags({"contexts": visitor}).items() if k.startswith("os")} == {
        "os": "Windows 10",
        "os.name": "Windows",
    }
    server = {**visitor, "os": {"name": "Linux", "version": "6.1"}}
    assert {k: v for k, v in event_tags({"contexts": server}).items() if k.startswith("os")} == {
        "os": "Linux 6.1",
        "os.name": "Linux",
    }


def test_parse_query():
    query = parse_query('release:1.4.2 level:error "connection refused" browser:"Chrome 120" timeout')
    assert query.terms == [("release", "1.4.2"), ("level", "error"), ("browser", "Chrome 120")]
    assert query.text == "connection refused timeout"
    assert not parse_query("   ")
    assert parse_query("http://x").terms == [("http", "//x")]


def test_tags_are_indexed_and_counted_per_issue(project, send_event):
    send_event(project, exception_event(release="1.0", tags={"customer": "acme"}))
    send_event(project, exception_event(release="1.0", tags={"customer": "globex"}))
    send_event(project, exception_event(release="1.1", tags={"customer": "acme"}))
    issue = Issue.objects.get()
    counts = {str(t.value): t.count for t in IssueTag.objects.filter(issue=issue).select_related("value")}
    assert counts["customer:acme"] == 2 and counts["customer:globex"] == 1
    assert counts["release:1.0"] == 2 and counts["release:1.1"] == 1
    assert counts["level:error"] == 3
    assert EventTag.objects.filter(issue=issue, value__key="customer").count() == 3
    assert TagValue.objects.filter(key="customer").count() == 2


def test_search_issues_and_events(project, send_event):
    send_event(project, exception_event("ValueError", "a", release="1.0", level="error"))
    send_event(project, exception_event("KeyError", "b", release="1.0", level="warning"))
    send_event(project, exception_event("TypeError", "c", release="2.0", level="error"))
    issues = Issue.objects.filter(project=project)
    found = filter_issues(issues, parse_query("release:1.0 level:error"))
    assert list(found.values_list("calculated_type", flat=True)) == ["ValueError"]
    assert filter_issues(issues, parse_query("keyerror")).get().calculated_type == "KeyError"
    assert filter_issues(issues, parse_query("release:3.0")).count() == 0
    type_error = Issue.objects.get(calculated_type="TypeError")
    assert filter_events(type_error.events.all(), parse_query("release:2.0")).count() == 1
    assert filter_events(type_error.events.all(), parse_query("release:1.0")).count() == 0


def test_parse_query_states_has_and_terms_not_understood():
    query = parse_query("is:unresolved has:customer level: is:sleeping release:1.0")
    assert query.states == ["unresolved"]
    assert query.has == ["customer"]
    assert query.terms == [("release", "1.0")]
    assert [term for term, _ in query.not_understood] == ["level:", "is:sleeping"]
    assert query.text == ""
    # a query of nothing but terms it could not use searches for nothing (the list shows everything, with notices)
    assert not parse_query("level:")
    assert parse_query('level:""').not_understood[0][0] == "level:"


def test_values_the_database_holds_equal_share_one_row(project, send_event):
    """MariaDB's default collation ignores case and trailing spaces, so 'Linux' and 'linux' are one value there (and
    two elsewhere): indexing must take the row the database has, not fail looking for its own spelling."""
    from events.models import Event
    from tags.models import EventTag
    from testing.utils import exception_event

    for value in ("Linux", "linux", "Linux ", "LINUX"):
        assert send_event(project, exception_event(tags={"os": value})).status_code == 200
    assert Event.objects.filter(project=project).count() == 4
    assert EventTag.objects.filter(value__key="os").count() == 4
