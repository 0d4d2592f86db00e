"""The release-files API (uploads before artifact bundles): upload, list, read, delete, at project and organization
level, with its limits and rules."""

import io

import pytest
from django.contrib.auth import get_user_model

from api.models import ApiToken, Scope
from artifacts.models import ReleaseFile
from artifacts.storage import read_blob
from projects.models import Project, ProjectMembership, Role
from releases.models import Release

FILES = "/api/0/projects/main/myapp/releases/1.0/files/"
ORG_FILES = "/api/0/organizations/main/releases/1.0/files/"


@pytest.fixture
def user(db, project):
    user = get_user_model().objects.create_user("dev", "dev@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user, role=Role.ADMIN)
    Release.objects.create(project=project, version="1.0", date_released="2026-01-01T00:00Z")
    return user


def token_for(user, scope=Scope.WRITE) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.create_for(user, scope, scope=scope)[1]}"}


@pytest.fixture
def auth(user):
    return token_for(user)


def upload(client, auth, url=FILES, content=b"console.log(1)", **fields):
    f = io.BytesIO(content)
    f.name = "app.min.js"
    return client.post(url, {"file": f, **fields}, **auth)


def test_upload_list_read_delete(client, user, auth):
    response = upload(client, auth, name="~/static/app.min.js", dist="web", header=["Sourcemap: app.min.js.map"])
    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["dist"], body["size"]) == ("~/static/app.min.js", "web", 14)
    assert body["headers"] == {"Sourcemap": "app.min.js.map"} and len(body["sha1"]) == 40
    row = ReleaseFile.objects.get()
    assert read_blob(row.blob) == b"console.log(1)" and row.release == "1.0"

    again = upload(client, auth, name="~/static/app.min.js", dist="web")
    assert again.status_code == 409 and again.json()["detail"]
    assert upload(client, auth).json()["name"] == "app.min.js"  # the file's own name by default

    assert [f["name"] for f in client.get(FILES, **auth).json()] == ["app.min.js", "~/static/app.min.js"]
    assert client.get(f"{FILES}{row.pk}/", **auth).json()["id"] == str(row.pk)
    assert client.delete(f"{FILES}{row.pk}/", **auth).status_code == 403  # write scope
    assert client.delete(f"{FILES}{row.pk}/", **token_for(user, Scope.ADMIN)).status_code == 204
    assert client.get(f"{FILES}{row.pk}/", **auth).status_code == 404


def test_organization_level_stores_it_for_each_project(client, user, auth):
    other = Project.objects.create(name="Other")
    ProjectMembership.objects.create(project=other, user=user, role=Role.ADMIN)
    Release.objects.create(project=other, version="1.0", date_released="2026-01-01T00:00Z")
    assert upload(client, auth, url=ORG_FILES, name="~/a.js").status_code == 201
    assert ReleaseFile.objects.filter(name="~/a.js").count() == 2
    assert [f["name"] for f in client.get(ORG_FILES, **auth).json()] == ["~/a.js"]
    file_id = ReleaseFile.objects.first().pk
    assert client.delete(f"{ORG_FILES}{file_id}/", **token_for(user, Scope.ADMIN)).status_code == 204
    assert not ReleaseFile.objects.exists()


@pytest.mark.parametrize(
    "fields, status, detail",
    [
        ({"header": ["no colon"]}, 400, "Name: value"),
        ({"dist": "a/b"}, 400, "dist"),
        ({"name": "x" * 1025}, 400, "name"),
    ],
)
def test_bad_uploads(client, auth, fields, status, detail):
    response = upload(client, auth, **fields)
    assert response.status_code == status and detail in response.json()["detail"]
    assert not ReleaseFile.objects.exists()


def test_limits_and_access(client, user, auth, settings):
    settings.RELEASE_FILE_MAX_SIZE = 10
    too_large = upload(client, auth, content=b"x" * 11)
    assert too_large.status_code == 413 and "at most 10" in too_large.json()["detail"]
    assert client.post(FILES, {}, **auth).status_code == 400
    settings.RELEASE_FILE_MAX_SIZE = 10**6
    assert upload(client, token_for(user, Scope.READ)).status_code == 403
    assert upload(client, auth, url="/api/0/projects/main/myapp/releases/9.9/files/").status_code == 404
    Project.objects.create(name="Theirs")
    assert upload(client, auth, url="/api/0/projects/main/theirs/releases/1.0/files/").status_code == 404
    assert upload(client, auth, url="/api/0/projects/other-org/myapp/releases/1.0/files/").status_code == 404
    assert not ReleaseFile.objects.exists()
