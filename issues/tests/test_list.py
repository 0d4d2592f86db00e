"""The issue list pages: access, tabs and capped counts, search, sorting, keyset pagination, rows, query counts."""

import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from digest.period_counter import PeriodCounter
from issues.models import Issue
from issues.state import IssueStateManager, apply_to_issues
from issues.views.list import COUNT_LIMIT, SEARCH_SCAN_LIMIT
from projects.models import Project, ProjectMembership, Team, TeamMembership
from releases.models import Release
from tags.models import TagValue
from testing.utils import exception_event, make_issue

ROW_ID = re.compile(r'<input type="checkbox" name="issue" value="([0-9a-f-]{36})"')


@pytest.fixture
def member(django_user_model, project):
    user = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user)
    return user


@pytest.fixture
def other_project(db):
    return Project.objects.create(name="Other", slug="other")


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


def row_ids(response) -> list[str]:
    return ROW_ID.findall(response.content.decode())


def link(response, rel: str) -> str | None:
    match = re.search(rf'href="([^"]+)" rel="{rel}"', response.content.decode())
    return unescape(match.group(1)) if match else None


def tab_counts(response) -> dict[str, str]:
    html = response.content.decode()
    return dict(
        (key, count) for key, count in re.findall(r'data-tab="(\w+)">[^<]*<span class="count">([^<]*)</span>', html)
    )


# --- access -----------------------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client, project):
    for url in ("/issues/", f"/projects/{project.pk}/issues/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")
    for url in ("/issues/bulk/", f"/projects/{project.pk}/issues/bulk/"):
        response = client.post(url, {"action": "resolve"})
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_other_projects_are_404_and_invisible(member_client, project, other_project):
    mine = make_issue(project, calculated_value="mine")
    theirs = make_issue(other_project, calculated_value="theirs")
    assert member_client.get(f"/projects/{other_project.pk}/issues/").status_code == 404
    assert member_client.get("/projects/999999/issues/").status_code == 404
    response = member_client.post(
        f"/projects/{other_project.pk}/issues/bulk/", {"action": "resolve", "issue": [str(theirs.pk)]}
    )
    assert response.status_code == 404
    response = member_client.get("/issues/")
    assert row_ids(response) == [str(mine.pk)]
    assert "theirs" not in response.content.decode()
    # a member through a team sees the team's projects too
    team = Team.objects.create(name="Core")
    other_project.team = team
    other_project.save()
    TeamMembership.objects.create(team=team, user=response.wsgi_request.user)
    assert set(row_ids(member_client.get("/issues/"))) == {str(mine.pk), str(theirs.pk)}
    assert member_client.get(f"/projects/{other_project.pk}/issues/").status_code == 200


def test_no_projects_at_all(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("nobody"))
    response = client.get("/issues/")
    assert response.status_code == 200 and "not a member of any project" in response.content.decode()


def test_list_only_answers_get(member_client, project):
    assert member_client.post(f"/projects/{project.pk}/issues/").status_code == 405
    assert member_client.get("/issues/bulk/").status_code == 405
    assert member_client.get(f"/projects/{project.pk}/issues/bulk/").status_code == 405


# --- tabs and counts --------------------------------------------------------------------------------------------


@pytest.fixture
def states(project):
    """Two open issues, one muted, one resolved, one resolved in the next release."""
    open_1 = make_issue(project, calculated_value="open one")
    open_2 = make_issue(project, calculated_value="open two")
    muted = make_issue(project, calculated_value="the muted one")
    resolved = make_issue(project, calculated_value="the resolved one")
    next_release = make_issue(project, calculated_value="fixed in next")
    apply_to_issues([muted], "mute")
    apply_to_issues([resolved], "resolve")
    apply_to_issues([next_release], "resolve_by_next")
    return {"open": [open_1, open_2], "muted": [muted], "resolved": [resolved, next_release]}


def test_tabs_and_counts(member_client, project, states):
    url = f"/projects/{project.pk}/issues/"
    ids = {k: {str(i.pk) for i in v} for k, v in states.items()}
    expected = {
        "unresolved": ids["open"],
        "muted": ids["muted"],
        "resolved": ids["resolved"],
        "all": ids["open"] | ids["muted"] | ids["resolved"],
    }
    default = member_client.get(url)
    html = default.content.decode()
    assert set(row_ids(default)) == expected["unresolved"]
    assert 'aria-current="page" data-tab="unresolved"' in html and 'data-tab="open"' not in html
    assert tab_counts(default) == {"unresolved": "2", "muted": "1", "resolved": "2", "all": "5"}
    for tab, wanted in expected.items():
        response = member_client.get(url, {"tab": tab})
        assert set(row_ids(response)) == wanted, tab
    html = member_client.get(url, {"tab": "all"}).content.decode()
    assert html.count('class="badge badge-resolved"') == 2 and html.count('class="badge badge-muted"') == 1
    assert 'title="Resolved in the next release"' in html and 'title="Muted forever"' in html
    # an unknown tab is the default one; the old "open" tab's links land on the Unresolved tab, which it was
    assert set(row_ids(member_client.get(url, {"tab": "nonsense"}))) == expected["unresolved"]
    old_link = member_client.get(url, {"tab": "open"}).content.decode()
    assert 'aria-current="page" data-tab="unresolved"' in old_link


@pytest.mark.parametrize("tab", ["unresolved", "muted", "resolved", "all"])
def test_each_tab_lists_what_its_is_term_finds(member_client, project, states, tab):
    """One tab set, each tab one `is:` term: the tab and the search (in the All tab) give the same rows, and the
    page says which term a tab is."""
    from issues.views.list import TAB_TERMS

    url = f"/projects/{project.pk}/issues/"
    by_tab = member_client.get(url, {"tab": tab, "per_page": 250})
    by_search = member_client.get(url, {"tab": "all", "q": TAB_TERMS[tab], "per_page": 250})
    assert row_ids(by_tab) and row_ids(by_tab) == row_ids(by_search)
    # and the search's own count of its term's tab equals the tab's count without it
    assert tab_counts(by_tab)[tab] == tab_counts(by_search)[tab] == str(len(row_ids(by_tab)))
    if TAB_TERMS[tab]:
        assert f'title="The same as searching {TAB_TERMS[tab]}"' in by_tab.content.decode()
    # the API's search means the same by each term
    if TAB_TERMS[tab]:
        from api.issue_search import STATES as API_STATES

        state = TAB_TERMS[tab].removeprefix("is:")
        api_issues = Issue.objects.filter(project=project).filter(API_STATES[state])
        api_ids = {str(pk) for pk in api_issues.values_list("pk", flat=True)}
        assert api_ids == set(row_ids(by_tab))


def test_counts_stop_at_the_limit_with_a_limited_subquery(member_client, project):
    now = timezone.now()
    Issue.objects.bulk_create(
        Issue(project=project, number=n, calculated_type="E", first_seen=now, last_seen=now)
        for n in range(1, COUNT_LIMIT + 3)
    )
    Project.objects.filter(pk=project.pk).update(issue_counter=COUNT_LIMIT + 10)
    make_issue(project, calculated_value="muted")
    apply_to_issues(Issue.objects.filter(calculated_value="muted").select_related("project"), "mute")
    with CaptureQueriesContext(connection) as queries:
        response = member_client.get(f"/projects/{project.pk}/issues/")
    counts = tab_counts(response)
    assert counts == {"unresolved": "1000+", "muted": "1", "resolved": "0", "all": "1000+"}
    count_queries = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(count_queries) == 4
    assert all(f"LIMIT {COUNT_LIMIT + 1}" in sql for sql in count_queries)


# --- search -----------------------------------------------------------------------------------------------------


def test_a_searched_list_counts_its_tabs_from_one_read(member_client, project):
    """A selective search would otherwise scan the project's issues once per tab, never reaching the cap."""
    now = timezone.now()
    Issue.objects.bulk_create(
        Issue(project=project, number=n, calculated_type="Other", first_seen=now, last_seen=now) for n in range(1, 50)
    )
    Project.objects.filter(pk=project.pk).update(issue_counter=100)
    for value in ["needle one", "needle two", "needle three"]:
        make_issue(project, calculated_value=value)
    apply_to_issues(Issue.objects.filter(calculated_value="needle two").select_related("project"), "mute")
    apply_to_issues(Issue.objects.filter(calculated_value="needle three").select_related("project"), "resolve")
    with CaptureQueriesContext(connection) as queries:
        response = member_client.get(f"/projects/{project.pk}/issues/", {"q": "needle"})
    assert tab_counts(response) == {"unresolved": "1", "muted": "1", "resolved": "1", "all": "3"}
    searching = [q["sql"] for q in queries.captured_queries if "needle" in q["sql"]]
    assert len(searching) == 1, "the matches are read once: the page is their rows, by primary key"
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    assert set(row_ids(response)) == {str(i.pk) for i in Issue.objects.filter(calculated_value="needle one")}
    muted = member_client.get(f"/projects/{project.pk}/issues/", {"q": "needle", "tab": "muted"})
    assert set(row_ids(muted)) == {str(i.pk) for i in Issue.objects.filter(calculated_value="needle two")}


def test_a_search_with_many_matches_counts_only_the_tabs_its_one_read_did_not_settle(member_client, project):
    """Over SEARCH_SCAN_LIMIT matches: the tabs that read found over the limit of are '1000+' from it; only the
    others (here muted and resolved) are counted, each up to the limit."""
    now = timezone.now()
    Issue.objects.bulk_create(
        Issue(project=project, number=n, calculated_type="Many", first_seen=now, last_seen=now)
        for n in range(1, SEARCH_SCAN_LIMIT + 3)
    )
    Project.objects.filter(pk=project.pk).update(issue_counter=SEARCH_SCAN_LIMIT + 10)
    make_issue(project, calculated_type="Many", calculated_value="muted one")
    apply_to_issues(Issue.objects.filter(calculated_value="muted one").select_related("project"), "mute")
    with CaptureQueriesContext(connection) as queries:
        response = member_client.get(f"/projects/{project.pk}/issues/", {"q": "Many"})
    assert tab_counts(response) == {
        "unresolved": "1000+",
        "muted": "1",
        "resolved": "0",
        "all": "1000+",
    }
    count_queries = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(count_queries) == 2 and all(f"LIMIT {COUNT_LIMIT + 1}" in sql for sql in count_queries)
    scans = [q["sql"] for q in queries.captured_queries if f"LIMIT {SEARCH_SCAN_LIMIT + 1}" in q["sql"]]
    assert len(scans) == 1


@pytest.fixture
def tagged(project, send_event):
    """Issues made by real events, so that their tags are indexed."""
    send_event(project, exception_event("ValueError", "a", release="1.0", level="error", environment="prod"))
    send_event(project, exception_event("KeyError", "b", release="1.0", level="warning", server_name="web-2"))
    send_event(
        project,
        exception_event(
            "TypeError",
            "connection refused",
            release="2.0",
            level="error",
            user={"email": "bob@example.com"},
            contexts={"browser": {"name": "Chrome", "version": "120"}, "os": {"name": "Linux"}},
            tags={"customer": "acme"},
        ),
    )
    return {issue.calculated_type: issue for issue in Issue.objects.filter(project=project)}


def test_search_by_tag_terms(member_client, project, tagged):
    url = f"/projects/{project.pk}/issues/"

    def found(q: str, **extra) -> set[str]:
        response = member_client.get(url, {"q": q, **extra})
        assert response.status_code == 200
        return {Issue.objects.get(pk=pk).calculated_type for pk in row_ids(response)}

    assert found("release:1.0 level:error") == {"ValueError"}
    assert found("release:1.0") == {"ValueError", "KeyError"}
    assert found("level:error") == {"ValueError", "TypeError"}
    assert found("environment:prod") == {"ValueError"}
    assert found("server_name:web-2") == {"KeyError"}
    assert found("user:bob@example.com") == {"TypeError"}
    assert found('browser:"Chrome 120"') == {"TypeError"}
    assert found("os:Linux customer:acme") == {"TypeError"}
    assert found("release:3.0") == set()
    # search and tabs together: the counts follow the search
    IssueStateManager.resolve(tagged["ValueError"])
    tagged["ValueError"].save()
    response = member_client.get(url, {"q": "release:1.0"})
    assert tab_counts(response) == {"unresolved": "1", "muted": "0", "resolved": "1", "all": "2"}
    assert found("release:1.0", tab="resolved") == {"ValueError"}
    # the same search across all projects
    response = member_client.get("/issues/", {"q": "customer:acme", "tab": "all"})
    assert row_ids(response) == [str(tagged["TypeError"].pk)]


def test_a_tag_term_names_its_values_by_id(member_client, project, other_project, tagged, send_event):
    """The issues are looked up by the TagValue ids of the term in the listed projects (a literal the database's
    statistics know), not through a join on the value's key and text; a value nobody has asks nothing more."""
    send_event(other_project, exception_event("OtherError", release="1.0", level="error"))
    ours = TagValue.objects.get(project=project, key="level", value="error")
    with CaptureQueriesContext(connection) as queries:
        response = member_client.get(f"/projects/{project.pk}/issues/", {"q": "level:error", "tab": "all"})
    assert {Issue.objects.get(pk=pk).calculated_type for pk in row_ids(response)} == {"ValueError", "TypeError"}
    searching = [q["sql"] for q in queries.captured_queries if "tags_issuetag" in q["sql"]]
    assert searching and all("tags_tagvalue" not in sql for sql in searching)
    unquoted = [sql.replace('"', "").replace("`", "").replace("U0.", "") for sql in searching]
    assert all(f"value_id IN ({ours.pk})" in sql for sql in unquoted), searching
    with CaptureQueriesContext(connection) as queries:
        response = member_client.get(f"/projects/{project.pk}/issues/", {"q": "level:nonexistent"})
    assert row_ids(response) == [] and tab_counts(response)["all"] == "0"
    assert not any("tags_issuetag" in q["sql"] for q in queries.captured_queries)


def test_search_free_text_over_the_title(member_client, project, tagged):
    url = f"/projects/{project.pk}/issues/"
    response = member_client.get(url, {"q": "connection refused"})
    assert row_ids(response) == [str(tagged["TypeError"].pk)]
    response = member_client.get(url, {"q": "keyerror"})  # case-insensitive, the exception type too
    assert row_ids(response) == [str(tagged["KeyError"].pk)]
    response = member_client.get(url, {"q": "release:1.0 valueerror"})  # tag terms and text combined
    assert row_ids(response) == [str(tagged["ValueError"].pk)]
    response = member_client.get(url, {"q": "nothing like this"})
    assert row_ids(response) == []
    assert 'match <strong dir="auto">nothing like this</strong>' in response.content.decode()


def test_search_is_states_and_has_key(member_client, project, tagged):
    url = f"/projects/{project.pk}/issues/"
    IssueStateManager.resolve(tagged["ValueError"])
    tagged["ValueError"].save()

    def found(q: str) -> set[str]:
        response = member_client.get(url, {"q": q, "tab": "all"})
        assert response.status_code == 200 and "data-search-notice" not in response.content.decode()
        return {Issue.objects.get(pk=pk).calculated_type for pk in row_ids(response)}

    assert found("is:resolved") == {"ValueError"}
    assert found("is:unresolved") == {"KeyError", "TypeError"}
    assert found("is:muted") == set()
    assert found("has:customer") == {"TypeError"}
    assert found("has:server_name is:unresolved") == {"KeyError"}
    assert found("has:user level:error") == {"TypeError"}


def test_search_says_which_terms_it_did_not_understand(member_client, project, tagged):
    url = f"/projects/{project.pk}/issues/"
    response = member_client.get(url, {"q": "level: is:sleeping levle:error", "tab": "all"})
    html = unescape(response.content.decode())
    assert 'Not understood: <code dir="auto">level:</code>' in html
    assert 'Not understood: <code dir="auto">is:sleeping</code>' in html
    assert 'Not understood: <code dir="auto">levle</code>' in html and "no issue here has a tag by that name" in html
    # an empty key term is left out rather than searched for as text: everything else still shows
    response = member_client.get(url, {"q": "level:", "tab": "all"})
    assert len(row_ids(response)) == 3 and "data-search-notice" in response.content.decode()


def test_search_help_and_wording_of_an_empty_result(member_client, project, tagged):
    url = f"/projects/{project.pk}/issues/"
    html = member_client.get(url, {"q": "nothing like this", "tab": "all"}).content.decode()
    assert 'No issues match <strong dir="auto">nothing like this</strong>' in html and "No all issues" not in html
    html = member_client.get(url, {"q": "nothing like this", "tab": "resolved"}).content.decode()
    assert 'No resolved issues match <strong dir="auto">nothing like this</strong>' in html
    assert "data-search-help" in html
    for syntax in ("is:unresolved", "is:resolved", "is:muted", "has:", 'key:"two words"', "MYAPP-12"):
        assert syntax in unescape(html)


def test_search_finds_an_issue_by_any_form_of_its_id(member_client, project, tagged):
    url = f"/projects/{project.pk}/issues/"
    issue = tagged["KeyError"]
    for q in (issue.short_id, issue.short_id.lower(), str(issue.pk), issue.pk.hex, str(issue.pk).upper()):
        response = member_client.get(url, {"q": q, "tab": "all"})
        assert row_ids(response) == [str(issue.pk)], q
    response = member_client.get("/issues/", {"q": issue.short_id, "tab": "all"})
    assert row_ids(response) == [str(issue.pk)]
    response = member_client.get(url, {"q": f"{project.short_prefix}-999", "tab": "all"})
    assert row_ids(response) == []


def test_search_box_and_links_keep_q_tab_and_sort(member_client, project, tagged):
    url = f"/projects/{project.pk}/issues/"
    html = member_client.get(url, {"q": "level:error", "tab": "all", "sort": "first_seen"}).content.decode()
    assert re.search(r'<input type="search" name="q" value="level:error" data-search', html)
    assert '<input type="hidden" name="tab" value="all">' in html
    assert '<input type="hidden" name="sort" value="first_seen">' in html
    tab_links = [unescape(u) for u in re.findall(r'<a href="([^"]+)"[^>]*data-tab="', html)]
    assert len(tab_links) == 4
    for href in tab_links:
        query = parse_qs(urlsplit(href).query)
        assert query["q"] == ["level:error"] and query["sort"] == ["first_seen"]
    sort_links = [unescape(u) for u in re.findall(r'<a href="([^"]+)"[^>]*data-sort="', html)]
    for href in sort_links:
        query = parse_qs(urlsplit(href).query)
        assert query["q"] == ["level:error"] and query["tab"] == ["all"]
    # the bulk form carries them back
    assert '<input type="hidden" name="q" value="level:error">' in html


# --- sorting and pagination -------------------------------------------------------------------------------------


@pytest.fixture
def many(project):
    """23 issues with ties in every sort key (the id breaks them)."""
    base = timezone.now() - timedelta(days=10)
    issues = []
    for n in range(23):
        issues.append(
            make_issue(
                project,
                calculated_value=f"issue {n}",
                first_seen=base + timedelta(hours=n // 3),
                last_seen=base + timedelta(days=1, minutes=(n * 7) % 5),
                event_count=(n * 5) % 4 + 1,
            )
        )
    return issues


def expected_order(issues, sort: str) -> list[str]:
    """By the sort key, descending; ties in the database's own order of ids (MariaDB's UUID type does not sort
    like the hex string), checked against Python's order of the keys."""
    ordered = list(Issue.objects.filter(pk__in=[i.pk for i in issues]).order_by(f"-{sort}", "-pk"))
    keys = [getattr(i, sort) for i in ordered]
    assert keys == sorted((getattr(i, sort) for i in issues), reverse=True)
    return [str(i.pk) for i in ordered]


@pytest.mark.parametrize("sort", ["last_seen", "first_seen", "event_count"])
def test_sorting(member_client, project, many, sort):
    response = member_client.get(f"/projects/{project.pk}/issues/", {"sort": sort, "per_page": 100})
    assert row_ids(response) == expected_order(many, sort)


def test_default_sort_is_last_seen(member_client, project, many):
    assert row_ids(member_client.get(f"/projects/{project.pk}/issues/")) == expected_order(many, "last_seen")


@pytest.mark.parametrize("sort", ["last_seen", "first_seen", "event_count"])
def test_keyset_pagination_walks_both_ways_without_duplicates_or_gaps(member_client, project, many, sort):
    url = f"/projects/{project.pk}/issues/"
    response = member_client.get(url, {"sort": sort, "per_page": 5, "q": "issue"})
    assert link(response, "prev") is None
    pages = [row_ids(response)]
    while link(response, "next"):
        next_url = link(response, "next")
        query = parse_qs(urlsplit(next_url).query)
        assert query.get("sort", ["last_seen"]) == [sort] and query["per_page"] == ["5"] and query["q"] == ["issue"]
        assert "after" in query and "page" not in query
        response = member_client.get(next_url)
        pages.append(row_ids(response))
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    walked = [pk for page in pages for pk in page]
    assert walked == expected_order(many, sort)  # every issue once, in order
    # and back again with "Newer"
    back = []
    while link(response, "prev"):
        response = member_client.get(link(response, "prev"))
        back.insert(0, row_ids(response))
    assert back == pages[:-1]


@pytest.mark.parametrize("merged", [True, False])
@pytest.mark.parametrize("sort", ["last_seen", "event_count"])
def test_keyset_pagination_across_projects(member_client, member, project, other_project, many, sort, merged,
                                           monkeypatch):  # fmt: skip
    """/issues/ merges the projects' own index scans (or, past MAX_MERGED_PARTS, asks for one ordered query)."""
    if not merged:
        monkeypatch.setattr("issues.pagination.MAX_MERGED_PARTS", 1)
    ProjectMembership.objects.create(project=other_project, user=member)
    base = timezone.now() - timedelta(days=9)
    others = [
        make_issue(other_project, last_seen=base + timedelta(minutes=n % 4), event_count=n % 3 + 1) for n in range(17)
    ]
    everything = many + others
    response = member_client.get("/issues/", {"sort": sort, "per_page": 6})
    pages = [row_ids(response)]
    while link(response, "next"):
        response = member_client.get(link(response, "next"))
        pages.append(row_ids(response))
    assert [pk for page in pages for pk in page] == expected_order(everything, sort)
    assert [len(p) for p in pages] == [6] * 6 + [4]
    back = []
    while link(response, "prev"):
        response = member_client.get(link(response, "prev"))
        back.insert(0, row_ids(response))
    assert back == pages[:-1]


def test_newer_at_the_start_shows_a_full_first_page(member_client, project, many):
    url = f"/projects/{project.pk}/issues/"
    first = member_client.get(url, {"per_page": 5})
    second = member_client.get(link(first, "next"))
    # an issue of the first page left the tab meanwhile: "Newer" from page 2 finds only 4 issues before it, and
    # shows the full first page instead (which now starts page 2's first issue)
    apply_to_issues(Issue.objects.filter(pk=row_ids(first)[0]).select_related("project"), "resolve")
    back = member_client.get(link(second, "prev"))
    assert row_ids(back) == row_ids(first)[1:] + row_ids(second)[:1]
    assert link(back, "prev") is None and link(back, "next")


def test_newer_keeps_its_place_when_an_issue_becomes_newest(member_client, project, many):
    url = f"/projects/{project.pk}/issues/"
    first = member_client.get(url, {"per_page": 5})
    second = member_client.get(link(first, "next"))
    moved = Issue.objects.get(pk=row_ids(second)[-1])
    moved.last_seen = timezone.now()
    moved.save()
    back = member_client.get(link(second, "prev"))
    assert row_ids(back) == row_ids(first)
    assert parse_qs(urlsplit(link(back, "prev")).query)["before"]  # the moved issue is newer still
    assert row_ids(member_client.get(link(back, "prev"))) == [str(moved.pk)] + row_ids(first)[:4]


def test_pages_stay_correct_when_issues_leave_the_tab(member_client, project, many):
    """Keyset pages do not shift when rows before the cursor disappear (resolving a page of issues)."""
    url = f"/projects/{project.pk}/issues/"
    first = member_client.get(url, {"per_page": 5})
    apply_to_issues(Issue.objects.filter(pk__in=row_ids(first)).select_related("project"), "resolve")
    second = member_client.get(link(first, "next"))
    assert row_ids(second) == expected_order(many, "last_seen")[5:10]
    assert link(second, "prev") is None  # nothing newer is left in the open tab


def test_per_page_and_bad_parameters(member_client, project, many):
    url = f"/projects/{project.pk}/issues/"
    assert len(row_ids(member_client.get(url, {"per_page": 7}))) == 7
    assert len(row_ids(member_client.get(url, {"per_page": 100000}))) == 23  # capped at 250
    assert len(row_ids(member_client.get(url, {"per_page": "lots"}))) == 23  # the default, 50
    assert len(row_ids(member_client.get(url, {"per_page": 0}))) == 1
    pk_hex = many[0].pk.hex
    for cursor in ("garbage", "12.zz", "999999999999999999999999.00", f"999999999999999999999999.{pk_hex}"):
        for sort in ("last_seen", "event_count"):
            response = member_client.get(url, {"after": cursor, "sort": sort})
            assert response.status_code == 200 and len(row_ids(response)) == 23
    response = member_client.get(url, {"before": "x"})
    assert response.status_code == 200 and len(row_ids(response)) == 23


def test_per_page_is_capped_at_250(member_client, project):
    now = timezone.now()
    Issue.objects.bulk_create(
        Issue(project=project, number=n, calculated_type="E", first_seen=now, last_seen=now) for n in range(1, 262)
    )
    response = member_client.get(f"/projects/{project.pk}/issues/", {"per_page": 1000})
    assert len(row_ids(response)) == 250 and link(response, "next")


# --- rows -------------------------------------------------------------------------------------------------------


def test_row_contents(member_client, project):
    now = timezone.now()
    counter = PeriodCounter()
    counter.inc(now - timedelta(hours=2), 4)
    counter.inc(now, 2)
    issue = make_issue(
        project,
        calculated_type="ZeroDivisionError",
        calculated_value="division by zero\nsecond line",
        culprit="app.views in handle",
        level="warning",
        event_count=6,
        first_seen=now - timedelta(days=3),
        last_seen=now - timedelta(minutes=5),
        period_counts=counter.to_dict(),
    )
    html = member_client.get(f"/projects/{project.pk}/issues/").content.decode()
    assert f'href="/issues/{issue.pk}/"' in html
    assert f">{issue.short_id}</a>" in html and issue.short_id == "MYAPP-1"
    assert ">ZeroDivisionError: division by zero</bdi></a>" in html
    assert "app.views in handle" in html
    assert 'class="level level-warning"' in html
    assert '<td class="num">6</td>' in html
    assert '<svg class="sparkline"' in html and 'aria-label="6 events"' in html
    assert f'<time datetime="{issue.first_seen.isoformat()}"' in html and ">3d</time>" in html
    assert ">5m</time>" in html
    assert '<th class="il-col-project">' not in html  # no project column on a project's own list
    assert "css/issue-list.css" in html and "js/issue-list.js" in html
    assert "<kbd>j</kbd>/<kbd>k</kbd> move" in html and "<kbd>x</kbd> select" in html
    all_html = member_client.get("/issues/").content.decode()
    assert '<th class="il-col-project">Project</th>' in all_html
    assert f'<a href="/projects/{project.pk}/issues/"><bdi>My App</bdi></a>' in all_html


def test_rows_escape_what_events_wrote(member_client, project):
    """The rows are built in Python (issues.presentation.list_row): whatever an SDK sent is escaped there too."""
    make_issue(
        project, calculated_type="<b>Bold</b>", calculated_value='"quoted" & <i>', culprit="<script>x()</script>"
    )
    html = member_client.get(f"/projects/{project.pk}/issues/").content.decode()
    assert "<b>" not in html and "<script>x()" not in html and "<i>" not in html
    assert "&lt;b&gt;Bold&lt;/b&gt;: &quot;quoted&quot; &amp; &lt;i&gt;</bdi></a>" in html
    assert 'title="&lt;script&gt;x()&lt;/script&gt;">&lt;script&gt;x()&lt;/script&gt;</bdi>' in html


def test_times_are_shown_in_the_users_time_zone(member_client, member, project):
    from accounts.models import UserPreferences

    UserPreferences.objects.update_or_create(user=member, defaults={"timezone": "Asia/Tokyo"})
    make_issue(project, first_seen=timezone.now().replace(2026, 1, 2, 3, 4, 5))
    html = member_client.get(f"/projects/{project.pk}/issues/").content.decode()
    assert 'datetime="2026-01-02T12:04:05' in html and 'title="2026-01-02 12:04:05 JST"' in html


# --- query counts -----------------------------------------------------------------------------------------------


def _populate(project, other_project, send_event, n: int):
    """n issues in two projects, with events and tags on some of them."""
    now = timezone.now()
    counter = PeriodCounter()
    counter.inc(now, 3)
    Issue.objects.bulk_create(
        Issue(
            project=project if i % 2 else other_project,
            number=i + 1000,
            calculated_type="E",
            calculated_value=f"issue {i}",
            culprit="mod in fn",
            first_seen=now - timedelta(minutes=i),
            last_seen=now - timedelta(minutes=i),
            event_count=i + 1,
            period_counts=counter.to_dict(),
        )
        for i in range(n)
    )
    for i in range(3):
        send_event(project, exception_event(f"Error{i}", release="1.0", environment="prod", tags={"customer": "acme"}))


@pytest.mark.parametrize("n", [10, 250])
def test_query_count_is_bounded(client, django_user_model, project, other_project, send_event, n,
                                django_assert_max_num_queries):  # fmt: skip
    user = django_user_model.objects.create_user("ann")
    ProjectMembership.objects.create(project=project, user=user)
    ProjectMembership.objects.create(project=other_project, user=user)
    _populate(project, other_project, send_event, n)
    client.force_login(user)
    client.get("/")  # the session's first request records it for the sessions list (accounts.sessions), once
    # session, user, preferences (middleware, base template), visible projects, 4 capped counts (one per tab), the
    # page (two queries across projects: merged ids, then their rows), one "anything newer?" check, whether the user
    # administers a listed project (the Delete button), the environment and the release controls' choices (one query
    # each) and the page's release links (one): the same bound for 10 rows as for 250, however many events there are
    for url, params in [
        ("/issues/", {"per_page": 250}),
        (f"/projects/{project.pk}/issues/", {"per_page": 250}),
        ("/issues/", {"per_page": 250, "q": "release:1.0 customer:acme", "tab": "all", "sort": "event_count"}),
        (f"/projects/{project.pk}/issues/", {"per_page": 250, "q": "environment:prod release:1.0", "tab": "all"}),
    ]:
        with django_assert_max_num_queries(15):
            response = client.get(url, params)
        assert response.status_code == 200
        assert len(row_ids(response)) > 0
    first = client.get("/issues/", {"per_page": 5})
    with django_assert_max_num_queries(15):
        response = client.get(link(first, "next"))
    assert len(row_ids(response)) == 5


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL's (issues 0006)")
def test_on_postgresql_free_text_search_can_answer_from_the_trigram_indexes(project, tagged):
    """The search's SQL (UPPER(column::text) LIKE ...) is the indexes' very expression, so PostgreSQL can answer it
    from them instead of reading every title (bench/RESULTS.md: 400 -> 6 ms at 100,000 issues). With sequential
    scans off, the plan names them; were the expressions different, it could not."""
    from tags.search import filter_issues, parse_query

    issues = filter_issues(Issue.objects.all(), parse_query("connection refused"))
    assert [issue.pk for issue in issues] == [tagged["TypeError"].pk]
    sql, params = issues.only("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        # a handful of rows: left alone, the planner reads them all; without plain scans only a bitmap of indexes
        # on these very expressions can answer the condition
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    for name in ("issue_title_type_trgm", "issue_title_value_trgm", "issue_culprit_trgm"):
        assert name in plan, plan


# --- environment and release controls, the release column ---------------------------------------------------------


def test_the_controls_offer_the_projects_environments_and_releases_and_write_search_terms(
    member_client, project, other_project, tagged, send_event
):
    send_event(other_project, exception_event("OtherError", "x", release="9.9", environment="elsewhere"))
    url = f"/projects/{project.pk}/issues/"
    html = member_client.get(url).content.decode()
    environments = re.search(r'<select name="environment".*?</select>', html, re.S).group(0)
    releases = re.search(r'<select name="release".*?</select>', html, re.S).group(0)
    assert '<option value="prod">prod</option>' in environments and "elsewhere" not in environments
    assert re.findall(r'<option value="([^"]+)"', releases) == ["2.0", "1.0"]  # newest first; not 9.9
    # a control sets its term in the search (replacing one typed there), keeping the tab and the other words
    response = member_client.get(url, {"q": "level:error environment:staging", "tab": "all", "environment": "prod"})
    assert response.status_code == 302
    assert unescape(response["Location"]) == f"{url}?q=level:error+environment:prod&tab=all".replace(":", "%3A")
    followed = member_client.get(response["Location"])
    assert {Issue.objects.get(pk=pk).calculated_type for pk in row_ids(followed)} == {"ValueError"}
    assert '<option value="prod" selected>prod</option>' in followed.content.decode()
    # and "All" takes the term out again
    response = member_client.get(url, {"q": "release:1.0 boom", "release": ""})
    assert response["Location"] == f"{url}?q=boom"


@pytest.mark.parametrize("key, value", [("environment", "prod"), ("release", "1.0"), ("release", "2.0")])
def test_a_control_gives_the_rows_of_its_search_term(member_client, project, tagged, key, value):
    url = f"/projects/{project.pk}/issues/"
    by_control = member_client.get(url, {key: value, "tab": "all"}, follow=True)
    by_search = member_client.get(url, {"q": f"{key}:{value}", "tab": "all"})
    assert row_ids(by_control) and row_ids(by_control) == row_ids(by_search)


def test_the_release_column_links_the_first_and_last_release(member_client, project, send_event):
    send_event(project, exception_event("ValueError", "a", release="1.0"))
    send_event(project, exception_event("ValueError", "a", release="1.1"))
    send_event(project, exception_event("KeyError", "no release"))
    issue = Issue.objects.get(calculated_type="ValueError")
    assert (issue.first_release, issue.last_release) == ("1.0", "1.1")
    html = member_client.get(f"/projects/{project.pk}/issues/").content.decode()
    assert '<th class="il-col-release">Release</th>' in html
    for version in ("1.0", "1.1"):
        release = Release.objects.get(project=project, version=version)
        assert f'href="/projects/{project.pk}/releases/id/{release.pk}/" data-release><bdi>{version}</bdi>' in html
    assert "first <a" in html
    # the links lead to the release's page
    release = Release.objects.get(project=project, version="1.1")
    assert member_client.get(f"/projects/{project.pk}/releases/id/{release.pk}/").status_code == 200


def test_the_controls_show_another_projects_values_to_no_one(project, other_project, send_event):
    """The choices come from the listed projects only: across projects, only the user's own."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    send_event(other_project, exception_event("OtherError", "x", release="secret-9", environment="hidden-env"))
    send_event(project, exception_event("ValueError", "y", release="1.0", environment="prod"))
    user = get_user_model().objects.create_user("solo")
    ProjectMembership.objects.create(project=project, user=user)
    client = Client()
    client.force_login(user)
    html = client.get("/issues/").content.decode()
    assert "secret-9" not in html and "hidden-env" not in html and '<option value="prod">' in html
    assert client.get(f"/projects/{other_project.pk}/issues/", {"release": "secret-9"}).status_code == 404


def _plan(queryset) -> str:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")  # as at 100,000 issues: the planner's choice is free
        return queryset.explain()
    return queryset.explain()


@pytest.mark.skipif(connection.vendor == "mysql", reason="MariaDB's EXPLAIN of a tiny table says little")
def test_the_controls_queries_read_indexes(project, other_project, send_event):
    """The controls' choices and the release links come from indexes, not from reading the project's rows: a
    project with 100,000 issues and thousands of tag values or releases pays for at most 100 index entries."""
    from django.db import transaction

    from issues.views.list import environment_choices, release_choices, release_lookup

    for n in range(3):
        send_event(project, exception_event("E", str(n), release=f"1.{n}", environment=f"env-{n}"))
    projects = [project.pk, other_project.pk]
    with transaction.atomic():
        plans = {
            "environments": _plan(environment_choices(projects)),
            "releases": _plan(release_choices(projects)),
            "links": _plan(release_lookup({(project.pk, "1.0"), (project.pk, "1.2")})),
        }
    for name, plan in plans.items():
        if connection.vendor == "sqlite":
            scans = [line for line in plan.splitlines() if "SCAN" in line or "SEARCH" in line]
            assert scans and all("USING" in line for line in scans), (name, plan)
        else:
            assert "Seq Scan" not in plan and "Index" in plan, (name, plan)
