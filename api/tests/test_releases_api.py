"""The release, commit and deploy endpoints through the Django client: shapes, the rules Sentry has (208 for a
repeated create, 400 for deleting a release with events) and every kind of bad input."""

import pytest
from django.contrib.auth import get_user_model

from api.models import ApiToken, Scope
from bugsink import jobs
from issues.state import IssueStateManager
from projects.models import Project, ProjectMembership, Role
from releases.models import Commit, Deploy, Release
from testing.utils import exception_event, make_issue

URL = "/api/0/organizations/main/releases/"


@pytest.fixture
def user(db, project):
    user = get_user_model().objects.create_user("dev", "dev@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user, role=Role.ADMIN)
    return user


def token_for(user, scope=Scope.WRITE) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.create_for(user, scope, scope=scope)[1]}"}


@pytest.fixture
def auth(user):
    return token_for(user)


def post(client, url, data, auth):
    return client.post(url, data, content_type="application/json", **auth)


def test_create_then_repeat_is_208_and_lists(client, project, auth):
    response = post(client, URL, {"version": "1.0", "projects": ["myapp"], "url": "https://x.test/1"}, auth)
    assert response.status_code == 201
    body = response.json()
    assert body["version"] == "1.0" and body["projects"][0]["slug"] == "myapp" and body["dateReleased"] is None
    assert body["url"] == "https://x.test/1" and body["dateCreated"]
    assert post(client, URL, {"version": "1.0", "projects": [project.pk]}, auth).status_code == 208
    post(client, URL, {"version": "2.0-beta", "projects": ["myapp"]}, auth)
    listed = client.get(URL, **auth).json()
    assert [r["version"] for r in listed] == ["2.0-beta", "1.0"]
    assert [r["version"] for r in client.get(URL + "?query=BETA", **auth).json()] == ["2.0-beta"]
    assert client.get(URL + f"?project={project.pk}", **auth).json()[0]["version"] == "2.0-beta"
    assert client.get(URL + "?project=999999", **auth).json() == []
    project_list = client.get("/api/0/projects/main/myapp/releases/?per_page=1", **auth)
    assert [r["version"] for r in project_list.json()] == ["2.0-beta"]
    assert 'rel="next"; results="true"' in project_list["Link"]


def test_finalize_and_event_figures(client, project, auth, send_event):
    post(client, URL, {"version": "1.0", "projects": ["myapp"]}, auth)
    send_event(project, exception_event(release="1.0"))
    put = client.put(URL + "1.0/", {"dateReleased": "2026-01-02T03:04:05.123456789Z"}, "application/json", **auth)
    assert put.status_code == 200
    body = put.json()
    assert body["dateReleased"] == "2026-01-02T03:04:05.123456Z"
    assert body["newGroups"] == 1 and body["firstEvent"] and body["lastEvent"]
    assert Release.objects.get(version="1.0").date_finalized.year == 2026


@pytest.mark.parametrize(
    "body, detail",
    [
        ([], "JSON object"),
        ({"projects": ["myapp"]}, "version is required"),
        ({"version": "a/b", "projects": ["myapp"]}, "may not hold a slash"),
        ({"version": "../../admin", "projects": ["myapp"]}, "may not hold a slash"),
        ({"version": "a\\b", "projects": ["myapp"]}, "may not hold a backslash"),
        ({"version": "a\tb", "projects": ["myapp"]}, "may not hold a tab"),
        ({"version": "1.0\n", "projects": ["myapp"]}, "whitespace"),
        ({"version": "1.\n0", "projects": ["myapp"]}, "may not hold a line break"),
        ({"version": "..", "projects": ["myapp"]}, "'..' cannot be"),
        ({"version": ".", "projects": ["myapp"]}, "'.' cannot be"),
        ({"version": " ", "projects": ["myapp"]}, "blank"),
        ({"version": "", "projects": ["myapp"]}, "blank"),
        ({"version": 5, "projects": ["myapp"]}, "must be a string"),
        ({"version": "latest", "projects": ["myapp"]}, "'latest' cannot"),
        ({"version": "Latest", "projects": ["myapp"]}, "'latest' cannot"),
        ({"version": "x" * 201, "projects": ["myapp"]}, "at most 200"),
        ({"version": "1.0"}, "projects is required"),
        ({"version": "1.0", "projects": ["nope"]}, "Invalid project"),
        ({"version": "1.0", "projects": [{"slug": "myapp"}]}, "slugs or ids"),
        ({"version": "1.0", "projects": ["myapp"], "dateReleased": "yesterday"}, "dateReleased"),
        ({"version": "1.0", "projects": ["myapp"], "url": 5}, "url must be a string"),
    ],
)
def test_bad_create_is_400_with_detail(client, auth, body, detail):
    response = post(client, URL, body, auth)
    assert response.status_code == 400
    assert detail in response.json()["detail"]
    assert not Release.objects.exists()


def test_malformed_json_is_400(client, auth):
    response = client.post(URL, b"{nope", content_type="application/json", **auth)
    assert response.status_code == 400 and response.json()["detail"]


def test_wrong_org_other_project_and_read_only_token(client, user, project, auth):
    assert post(client, "/api/0/organizations/other/releases/", {"version": "1"}, auth).status_code == 404
    theirs = Project.objects.create(name="Theirs")
    assert post(client, URL, {"version": "1", "projects": [theirs.slug]}, auth).status_code == 400
    assert client.get(f"/api/0/projects/main/{theirs.slug}/releases/", **auth).status_code == 404
    Release.objects.create(project=theirs, version="9", date_released="2026-01-01T00:00Z")
    assert client.get(URL + "9/", **auth).status_code == 404
    read = token_for(user, Scope.READ)
    response = post(client, URL, {"version": "1", "projects": ["myapp"]}, read)
    assert response.status_code == 403 and response.json()["detail"]
    assert client.get(URL, **read).status_code == 200


def test_delete_needs_admin_scope_and_role_and_no_events(client, user, project, send_event):
    write, admin = token_for(user), token_for(user, Scope.ADMIN)
    post(client, URL, {"version": "1.0", "projects": ["myapp"]}, write)
    assert client.delete(URL + "1.0/", **write).status_code == 403
    membership = ProjectMembership.objects.get(user=user)
    membership.role = Role.MEMBER
    membership.save()
    assert client.delete(URL + "1.0/", **admin).status_code == 403
    membership.role = Role.ADMIN
    membership.save()
    send_event(project, exception_event(release="1.0"))
    refused = client.delete(URL + "1.0/", **admin)
    assert refused.status_code == 400 and "referenced by events" in refused.json()["detail"]
    post(client, URL, {"version": "2.0", "projects": ["myapp"]}, write)
    assert client.delete(URL + "2.0/", **admin).status_code == 204
    assert not Release.objects.filter(version="2.0").exists()
    assert client.delete(URL + "2.0/", **admin).status_code == 404


def test_commits_refs_and_previous_with_commits(client, auth):
    post(client, URL, {"version": "1.0", "projects": ["myapp"]}, auth)
    commits = [
        {
            "id": "b" * 40,
            "repository": "acme/shop",
            "message": "two",
            "author_name": "A",
            "author_email": "a@x.test",
            "timestamp": "2026-01-02T03:04:05+01:00",
            "patch_set": [],
        },
        {"id": "a" * 40, "repository": "acme/shop", "message": "one", "timestamp": "2026-01-01T00:00:00Z"},
    ]
    response = client.put(URL + "1.0/", {"commits": commits}, "application/json", **auth)
    assert response.status_code == 200 and response.json()["commitCount"] == 2
    assert response.json()["lastCommit"]["id"] == "b" * 40
    listed = client.get(URL + "1.0/commits/", **auth).json()
    assert [c["id"] for c in listed] == ["b" * 40, "a" * 40] and listed[0]["author"]["email"] == "a@x.test"
    repos = client.get("/api/0/organizations/main/repos/", **auth).json()
    assert [r["name"] for r in repos] == ["acme/shop"]

    post(client, URL, {"version": "2.0", "projects": ["myapp"]}, auth)
    assert client.get(URL + "2.0/previous-with-commits/", **auth).json()["lastCommit"]["id"] == "b" * 40
    assert client.get(URL + "1.0/previous-with-commits/", **auth).json() == {}
    refs = [{"repository": "acme/shop", "commit": "c" * 12, "previousCommit": None}]
    assert client.put(URL + "2.0/", {"refs": refs}, "application/json", **auth).status_code == 200
    assert list(Commit.objects.filter(release__version="2.0").values_list("sha", flat=True)) == ["c" * 12]


@pytest.mark.parametrize(
    "body",
    [
        {"commits": "nope"},
        {"commits": [{"message": "no id"}]},
        {"commits": [{"id": "x" * 65}]},
        {"commits": [{"id": "abc", "timestamp": "not a date"}]},
        {"refs": [{"repository": "r"}]},
        {"refs": "x"},
    ],
)
def test_bad_commits_are_400(client, auth, body):
    post(client, URL, {"version": "1.0", "projects": ["myapp"]}, auth)
    response = client.put(URL + "1.0/", body, "application/json", **auth)
    assert response.status_code == 400 and response.json()["detail"]
    assert not Commit.objects.exists()


def test_deploys(client, auth):
    post(client, URL, {"version": "1.0", "projects": ["myapp"]}, auth)
    response = post(client, URL + "1.0/deploys/", {"environment": "prod", "name": "n", "url": None}, auth)
    assert response.status_code == 201 and response.json()["environment"] == "prod"
    assert [d["environment"] for d in client.get(URL + "1.0/deploys/", **auth).json()] == ["prod"]
    assert client.get(URL + "1.0/", **auth).json()["deployCount"] == 1
    for body in ({}, {"environment": ""}, {"environment": "a/b"}, {"environment": "e", "dateStarted": 5}):
        bad = post(client, URL + "1.0/deploys/", body, auth)
        assert bad.status_code == 400 and bad.json()["detail"]
    assert post(client, URL + "9.9/deploys/", {"environment": "prod"}, auth).status_code == 404
    assert Deploy.objects.count() == 1


def test_release_made_by_the_api_resolves_issues_waiting_for_the_next_release(transactional_db, client, project, auth):
    # the job runs on the in-process background thread (as without a broker): committed rows only
    Release.objects.create(project=project, version="1.0", date_released="2026-01-01T00:00Z")
    waiting, older = make_issue(project), make_issue(project)
    IssueStateManager.resolve_by_next(waiting)
    waiting.save()
    assert post(client, URL, {"version": "1.1", "projects": ["myapp"]}, auth).status_code == 201
    assert jobs.wait_idle(10)
    waiting.refresh_from_db()
    assert waiting.fixed_at == ["1.1"] and not waiting.is_resolved_by_next_release and waiting.is_resolved
    # a version that sorts before the latest (semver) is not "the next release"
    IssueStateManager.resolve_by_next(older)
    older.save()
    assert post(client, URL, {"version": "0.9", "projects": ["myapp"]}, auth).status_code == 201
    assert jobs.wait_idle(10)
    older.refresh_from_db()
    assert older.is_resolved_by_next_release and older.fixed_at == []


@pytest.mark.parametrize(
    "method, url, body",
    [
        ("post", URL, {"version": "1.0\x00", "projects": ["myapp"]}),
        ("post", URL, {"version": "1.0", "projects": ["myapp"], "url": "x\x00"}),
        ("post", URL + "1.0/deploys/", {"environment": "prod\x00"}),
        ("put", URL + "1.0/", {"commits": [{"id": "abc", "repository": "r", "message": "m\x00"}]}),
    ],
)
def test_nul_characters_are_400_not_a_database_error(client, auth, method, url, body):
    post(client, URL, {"version": "1.0", "projects": ["myapp"]}, auth)
    response = getattr(client, method)(url, body, content_type="application/json", **auth)
    assert response.status_code == 400 and "NUL" in response.json()["detail"]
    assert client.get(URL + "1.0%00/", **auth).status_code == 404
    assert client.get(URL + "?query=1%00", **auth).status_code == 200


def test_deeply_nested_json_is_400(client, auth):
    response = client.post(URL, b"[" * 100_000, content_type="application/json", **auth)
    assert response.status_code == 400 and response.json()["detail"]
