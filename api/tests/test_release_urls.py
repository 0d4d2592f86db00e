"""A release's and a deploy's `url` are links on the release's page: through the API they are http(s) URLs or
nothing, and anything else is a 400 with a `detail` that changes nothing (issue 19: a write token stored
`javascript:alert(document.domain)` in both)."""

import pytest
from django.contrib.auth import get_user_model

from api.models import ApiToken, Scope
from projects.models import ProjectMembership, Role
from releases.models import Deploy, Release

URL = "/api/0/organizations/main/releases/"
PROJECT_URL = "/api/0/projects/main/myapp/releases/"
HOSTILE = [
    "javascript:alert(document.domain)",
    "JAVASCRIPT:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.example/",
    "ci.example.com/builds/1",
    "https://exa mple.com/",
]


@pytest.fixture
def auth(db, project):
    user = get_user_model().objects.create_user("dev", "dev@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user, role=Role.ADMIN)
    return {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.create_for(user, Scope.WRITE, scope=Scope.WRITE)[1]}"}


def send(client, method, url, body, auth):
    return getattr(client, method)(url, body, content_type="application/json", **auth)


def assert_refused(response):
    assert response.status_code == 400
    assert "url must be an http:// or https:// URL" in response.json()["detail"]


@pytest.mark.parametrize("bad", HOSTILE)
def test_creating_a_release_with_a_non_http_url_is_400(client, project, auth, bad):
    assert_refused(send(client, "post", URL, {"version": "1.0", "projects": ["myapp"], "url": bad}, auth))
    assert_refused(send(client, "post", PROJECT_URL, {"version": "1.0", "url": bad}, auth))
    assert not Release.objects.exists()


@pytest.mark.parametrize("bad", HOSTILE)
def test_updating_a_release_to_a_non_http_url_is_400_and_keeps_the_old_one(client, project, auth, bad):
    body = {"version": "1.0", "projects": ["myapp"], "url": "https://ci.example.com/1"}
    assert send(client, "post", URL, body, auth).status_code == 201
    assert_refused(send(client, "put", URL + "1.0/", {"url": bad, "ref": "v1.0"}, auth))
    release = Release.objects.get()
    assert release.url == "https://ci.example.com/1" and release.ref == ""  # nothing of the refused body applied


@pytest.mark.parametrize("bad", HOSTILE)
def test_a_deploy_with_a_non_http_url_is_400(client, project, auth, bad):
    send(client, "post", URL, {"version": "1.0", "projects": ["myapp"]}, auth)
    deploy = {"environment": "production", "name": "prod", "url": bad}
    assert_refused(send(client, "post", URL + "1.0/deploys/", deploy, auth))
    assert not Deploy.objects.exists()


def test_http_urls_are_kept_and_an_empty_one_clears(client, project, auth):
    created = send(
        client, "post", URL, {"version": "1.0", "projects": ["myapp"], "url": "HTTPS://CI.example.com/1"}, auth
    )
    assert created.status_code == 201 and created.json()["url"] == "HTTPS://CI.example.com/1"
    deploy = {"environment": "production", "url": "http://deploys.example.com/42?tab=log"}
    made = send(client, "post", URL + "1.0/deploys/", deploy, auth)
    assert made.status_code == 201 and made.json()["url"] == "http://deploys.example.com/42?tab=log"
    assert send(client, "put", URL + "1.0/", {"url": ""}, auth).json()["url"] is None
    assert Release.objects.get().url == ""


def test_a_non_http_url_stored_earlier_is_served_as_none(client, project, auth):
    """Rows written before the check (or some other way): the API does not hand the value on as a URL."""
    send(client, "post", URL, {"version": "1.0", "projects": ["myapp"]}, auth)
    release = Release.objects.get()
    Release.objects.filter(pk=release.pk).update(url="javascript:alert(document.domain)")
    Deploy.objects.create(release=release, environment="production", url="javascript:alert(1)")
    body = client.get(URL + "1.0/", **auth).json()
    assert body["url"] is None and body["lastDeploy"]["url"] is None
    assert [d["url"] for d in client.get(URL + "1.0/deploys/", **auth).json()] == [None]
    assert client.get(URL, **auth).json()[0]["url"] is None
