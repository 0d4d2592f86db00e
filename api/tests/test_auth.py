"""Tokens and the organization endpoints: who may call /api/0/ and what they see."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from api.models import ApiToken, Scope, hash_token
from projects.models import Project, ProjectMembership, Role


@pytest.fixture
def alice(db):
    return get_user_model().objects.create_user("alice", "alice@example.com", "pw")


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.mark.django_db
def test_token_is_stored_hashed_and_authenticates(client, alice):
    row, token = ApiToken.create_for(alice, "ci")
    assert token.startswith("sntryu_") and len(token) == 7 + 64
    assert row.token_hash == hash_token(token) and token not in row.token_hash
    response = client.get("/api/0/", **bearer(token))
    assert response.status_code == 200
    assert response.json()["user"]["username"] == "alice"
    assert "project:releases" in response.json()["auth"]["scopes"]
    row.refresh_from_db()
    assert row.last_used_at is not None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header",
    ["", "Bearer nope", "Bearer ", "Bearer a b", "Bearer sntryu_é"],
)
def test_bad_or_missing_token_is_401_json(client, alice, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get("/api/0/organizations/", **extra)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]


@pytest.mark.django_db
def test_revoked_token_and_inactive_user_are_401(client, alice):
    row, token = ApiToken.create_for(alice, "ci")
    assert client.get("/api/0/", **bearer(token)).status_code == 200
    row.revoked_at = timezone.now()
    row.save()
    assert client.get("/api/0/", **bearer(token)).status_code == 401
    _, other = ApiToken.create_for(alice, "other")
    alice.is_active = False
    alice.save()
    assert client.get("/api/0/", **bearer(other)).status_code == 401


@pytest.mark.django_db
def test_projects_are_those_the_user_may_see(client, alice, settings):
    mine = Project.objects.create(name="Mine")
    Project.objects.create(name="Theirs")
    ProjectMembership.objects.create(project=mine, user=alice, role=Role.MEMBER)
    _, token = ApiToken.create_for(alice, "ci", scope=Scope.READ)
    org = settings.ORGANIZATION_SLUG
    assert [o["slug"] for o in client.get("/api/0/organizations/", **bearer(token)).json()] == [org]
    detail = client.get(f"/api/0/organizations/{org}/", **bearer(token)).json()
    assert detail["links"]["regionUrl"] == "http://testserver"
    listed = client.get(f"/api/0/organizations/{org}/projects/", **bearer(token))
    assert [p["slug"] for p in listed.json()] == ["mine"]
    assert 'rel="next"; results="false"' in listed["Link"]
    assert client.get(f"/api/0/projects/{org}/mine/", **bearer(token)).json()["id"] == str(mine.pk)
    assert client.get(f"/api/0/projects/{org}/theirs/", **bearer(token)).status_code == 404
    assert client.get("/api/0/organizations/other-org/projects/", **bearer(token)).status_code == 404


@pytest.mark.django_db
def test_pagination_walks_all_projects_with_link_cursors(client, alice):
    alice.is_superuser = True
    alice.save()
    for i in range(5):
        Project.objects.create(name=f"P{i}")
    _, token = ApiToken.create_for(alice, "ci", scope=Scope.READ)
    url, seen = "/api/0/organizations/main/projects/?per_page=2", []
    for _ in range(10):
        response = client.get(url, **bearer(token))
        seen += [p["slug"] for p in response.json()]
        next_link = [part for part in response["Link"].split(", ") if 'rel="next"' in part][0]
        if 'results="true"' not in next_link:
            break
        url = next_link.split(">")[0].lstrip("<").replace("http://testserver", "")
    assert seen == ["p0", "p1", "p2", "p3", "p4"]


@pytest.mark.django_db
def test_unknown_api_path_is_json_404(client, alice):
    _, token = ApiToken.create_for(alice, "ci")
    response = client.get("/api/0/no/such/thing/", **bearer(token))
    assert response.status_code == 404 and response.json() == {"detail": "Not found."}


@pytest.mark.django_db
def test_scope_ranks(alice):
    read, _ = ApiToken.create_for(alice, "r", scope=Scope.READ)
    admin, _ = ApiToken.create_for(alice, "a", scope=Scope.ADMIN)
    assert read.allows(Scope.READ) and not read.allows(Scope.WRITE)
    assert admin.allows(Scope.READ) and admin.allows(Scope.WRITE) and admin.allows(Scope.ADMIN)
    assert "event:admin" in admin.scopes() and "event:admin" not in read.scopes()


@pytest.mark.django_db
def test_createtoken_prints_a_working_token_as_last_line(client, alice):
    get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    out = io.StringIO()
    call_command("createtoken", stdout=out, stderr=io.StringIO())
    token = out.getvalue().strip().splitlines()[-1]
    assert client.get("/api/0/", **bearer(token)).json()["user"]["username"] == "root"
    out = io.StringIO()
    call_command("createtoken", "--user", "alice", "--scope", "read", stdout=out, stderr=io.StringIO())
    assert ApiToken.objects.get(token_hash=hash_token(out.getvalue().strip())).user == alice
