"""The Releases page: order, the per-release figures (from events sent through the real endpoint), the links to
the filtered issue list and from the issue page, access, and a bounded number of queries."""

import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone

from issues.models import Issue
from issues.state import IssueStateManager
from projects.models import Project, ProjectMembership
from releases.models import Commit, Deploy, Release
from releases.views import release_search
from testing.utils import exception_event, make_issue


@pytest.fixture
def member(client, django_user_model, project):
    user = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user)
    client.force_login(user)
    return user


def rows(html: str) -> dict[str, dict[str, str]]:
    """version -> {column marker: cell text} from the page's table."""
    result = {}
    for row in re.findall(r'<tr id="release-[^"]*" data-release="([^"]*)">(.*?)</tr>', html, re.S):
        version, body = row
        cells = dict(re.findall(r"<td class=\"num\" data-([a-z-]+)>(.*?)</td>", body, re.S))
        result[version] = {k: re.sub(r"<[^>]+>", "", v).strip() for k, v in cells.items()}
    return result


def test_lists_releases_newest_first_with_their_figures(client, member, project, send_event):
    # issue A first seen in 1.0 (and again in 1.1), issue B first seen in 1.1; 1.10 sorts after 1.9 (semver)
    for _ in range(2):
        send_event(project, exception_event("KeyError", "a", release="1.0"))
    send_event(project, exception_event("KeyError", "a", release="1.1"))
    send_event(project, exception_event("TypeError", "b", release="1.1"))
    send_event(project, exception_event("OSError", "c", release="1.9"))
    send_event(project, exception_event("OSError", "c", release="1.10"))
    a = Issue.objects.get(calculated_type="KeyError")
    IssueStateManager.resolve_by_latest(a)
    a.save()
    assert a.fixed_at == ["1.10"]

    response = client.get(f"/projects/{project.pk}/releases/")
    assert response.status_code == 200
    html = response.content.decode()
    table = rows(html)
    assert list(table) == ["1.10", "1.9", "1.1", "1.0"]
    figures = {"commits": "0"}
    assert table["1.0"] == {**figures, "events": "2", "issues": "1", "new-issues": "1", "resolved-issues": "0"}
    assert table["1.1"] == {**figures, "events": "2", "issues": "2", "new-issues": "1", "resolved-issues": "0"}
    assert table["1.10"] == {**figures, "events": "1", "issues": "1", "new-issues": "0", "resolved-issues": "1"}

    # the issues count leads to the issue list searched for that release, on the "all" tab
    link = re.search(r'<td class="num" data-issues><a href="([^"]+)"', html.split('data-release="1.1"')[1])[1]
    url = urlparse(link.replace("&amp;", "&"))
    assert url.path == f"/projects/{project.pk}/issues/"
    assert parse_qs(url.query) == {"q": ["release:1.1"], "tab": ["all"]}
    listed = client.get(link.replace("&amp;", "&")).content.decode()
    assert "KeyError" in listed and "TypeError" in listed and "OSError" not in listed


def test_first_seen_order_when_not_all_semver(client, member, project):
    now = timezone.now()
    for n, version in enumerate(["zeta", "alpha", "2.0"]):
        Release.objects.create(project=project, version=version, date_released=now + timezone.timedelta(minutes=n))
    html = client.get(f"/projects/{project.pk}/releases/").content.decode()
    assert list(rows(html)) == ["2.0", "alpha", "zeta"]


def test_empty_project_says_so(client, member, project):
    html = client.get(f"/projects/{project.pk}/releases/").content.decode()
    assert "No releases yet" in html and "<table" not in html


def test_non_members_get_404_and_anonymous_users_the_login_page(client, django_user_model, project):
    assert client.get(f"/projects/{project.pk}/releases/").status_code == 302
    other = Project.objects.create(name="Other", slug="other")
    outsider = django_user_model.objects.create_user("bob", "bob@example.com", "pw")
    ProjectMembership.objects.create(project=other, user=outsider)
    client.force_login(outsider)
    assert client.get(f"/projects/{project.pk}/releases/").status_code == 404
    assert client.get(f"/projects/{other.pk}/releases/").status_code == 200


def test_issue_page_and_list_link_to_the_releases(client, member, project, send_event):
    send_event(project, exception_event("KeyError", "a", release="1.0"))
    send_event(project, exception_event("KeyError", "a", release="2.0 beta"))
    issue = Issue.objects.get()
    html = client.get(f"/issues/{issue.pk}/").content.decode()
    # the release's own page (by id), not an anchor in the releases list
    assert f'href="/projects/{project.pk}/releases/1.0/" title="First release"' in html
    assert f'href="/projects/{project.pk}/releases/2.0%20beta/" title="Latest release"' in html
    assert "#release-" not in html
    for path in (f"/projects/{project.pk}/releases/1.0/", f"/projects/{project.pk}/releases/2.0%20beta/"):
        page = client.get(path)
        assert page.status_code == 200 and page.context["release"].project == project
    listing = client.get(f"/projects/{project.pk}/issues/").content.decode()
    assert f'href="/projects/{project.pk}/releases/"' in listing


def test_release_search_terms():
    assert release_search("1.2.3") == "release:1.2.3"
    assert release_search("2.0 beta") == 'release:"2.0 beta"'
    assert release_search('say "hi"') is None


def test_queries_do_not_grow_with_the_number_of_releases(client, member, project, django_assert_max_num_queries):
    now = timezone.now()
    Release.objects.bulk_create(
        Release(project=project, version=f"1.{n}.0", date_released=now + timezone.timedelta(seconds=n))
        for n in range(200)
    )
    for n in range(20):
        make_issue(
            project, first_release=f"1.{n}.0", last_release=f"1.{n + 1}.0", fixed_at=[f"1.{n + 2}.0"], is_resolved=True
        )
    client.get("/")  # the session's first request records it for the sessions list (accounts.sessions), once
    # session, user, project, then the four aggregates and the releases themselves
    with django_assert_max_num_queries(10):
        response = client.get(f"/projects/{project.pk}/releases/")
    table = rows(response.content.decode())
    assert len(table) == 200 and list(table)[0] == "1.199.0"
    assert table["1.5.0"]["new-issues"] == "1" and table["1.5.0"]["resolved-issues"] == "1"
    assert table["1.0.0"]["resolved-issues"] == "0" and table["1.0.0"]["new-issues"] == "1"


def test_created_finalized_commits_and_deploys(client, member, project):
    """What sentry-cli recorded: the list shows each release's finalize date, commit count and latest deploy; the
    release's page lists its commits and deploys."""
    now = timezone.now()
    done = Release.objects.create(project=project, version="2.0", date_released=now, date_finalized=now)
    Release.objects.create(project=project, version="1.0", date_released=now - timezone.timedelta(days=1))
    for position, sha in enumerate(["b" * 40, "a" * 40]):
        Commit.objects.create(
            release=done,
            sha=sha,
            repository="acme/shop",
            position=position,
            message=f"<b>commit</b> {sha[0]}",
            author_name="Dev",
            timestamp=now,
        )
    Deploy.objects.create(release=done, environment="staging", date_finished=now - timezone.timedelta(hours=1))
    Deploy.objects.create(release=done, environment="production", name="blue", date_finished=now)

    html = client.get(f"/projects/{project.pk}/releases/").content.decode()
    assert rows(html)["2.0"]["commits"] == "2" and rows(html)["1.0"]["commits"] == "0"
    newest = html.split('data-release="2.0"')[1].split("</tr>")[0]
    assert "production" in re.search(r"data-last-deploy>(.*?)</td>", newest, re.S)[1]
    assert "not yet" not in re.search(r"data-finalized>(.*?)</td>", newest, re.S)[1]
    oldest = html.split('data-release="1.0"')[1].split("</tr>")[0]
    assert "not yet" in oldest and "none" in oldest
    # the link is by id (a version like `..` makes a path that browsers normalise away); by version works too
    assert f'href="/projects/{project.pk}/releases/id/{done.pk}/"' in html
    by_id = client.get(f"/projects/{project.pk}/releases/id/{done.pk}/")
    assert by_id.status_code == 200 and b'<h1 class="mono" dir="auto">2.0</h1>' in by_id.content
    assert client.get(f"/projects/{project.pk}/releases/id/{done.pk + 1000}/").status_code == 404

    page = client.get(f"/projects/{project.pk}/releases/2.0/")
    assert page.status_code == 200
    detail = page.content.decode()
    assert re.findall(r'data-commit="([0-9a-f]+)"', detail) == ["b" * 40, "a" * 40]
    assert "&lt;b&gt;commit&lt;/b&gt; b" in detail and "<b>commit" not in detail
    assert "(2)" in detail and detail.index("production") < detail.index("staging")
    assert client.get(f"/projects/{project.pk}/releases/9.9/").status_code == 404


def test_release_page_is_for_members_only(client, django_user_model, project):
    Release.objects.create(project=project, version="1.0", date_released=timezone.now())
    outsider = django_user_model.objects.create_user("bob", "bob@example.com", "pw")
    client.force_login(outsider)
    assert client.get(f"/projects/{project.pk}/releases/1.0/").status_code == 404


def test_setup_page_shows_how_to_point_sentry_cli_here(client, member, project, settings):
    settings.ORGANIZATION_SLUG = "acme"
    html = client.get(f"/projects/{project.pk}/setup/").content.decode()
    assert 'export SENTRY_URL="http://127.0.0.1:8000"' in html
    assert 'export SENTRY_ORG="acme"' in html and 'export SENTRY_PROJECT="myapp"' in html
    assert 'href="/accounts/preferences/tokens/"' in html
