"""/api/0/projects/{org}/{project}/keys/: list (members), add, rotate, revoke (admins with an admin-scope token);
what it does shows at the envelope endpoint; another project's admin gets 404 for this project's keys."""

import uuid

import pytest

from api.models import ApiToken, Scope
from projects.models import Project, ProjectKey, ProjectMembership
from testing.utils import exception_event, make_envelope


def bearer(user, scope=Scope.ADMIN) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.create_for(user, 'test', scope=scope)[1]}"}


def ingest(client, project_id, key) -> int:
    return client.post(
        f"/api/{project_id}/envelope/",
        data=make_envelope(exception_event(), event_id=uuid.uuid4().hex),
        content_type="application/x-sentry-envelope",
        HTTP_X_SENTRY_AUTH=f"Sentry sentry_version=7, sentry_key={key}",
    ).status_code


@pytest.fixture
def other_project(db):
    return Project.objects.create(name="Other App", slug="other")


@pytest.fixture
def admin(project, django_user_model):
    user = django_user_model.objects.create_user("olivia")
    ProjectMembership.objects.create(project=project, user=user, role="admin")
    return user


@pytest.mark.django_db
def test_list_add_rotate_and_revoke(client, project, admin, settings):
    settings.KEY_ROTATION_GRACE_HOURS = 24
    auth = bearer(admin)
    url = "/api/0/projects/main/myapp/keys/"
    listed = client.get(url, **auth).json()
    assert [k["public"] for k in listed] == [project.sentry_key] and listed[0]["isCurrent"]
    assert listed[0]["dsn"]["public"] == project.dsn

    added = client.post(url, {"name": "worker"}, content_type="application/json", **auth)
    assert added.status_code == 201 and added.json()["name"] == "worker"
    extra = added.json()["public"]
    assert ingest(client, project.pk, extra) == 200

    old = project.sentry_key
    rotated = client.put(f"{url}{old}/", {"rotate": True, "graceHours": 1}, content_type="application/json", **auth)
    assert rotated.status_code == 200
    new = Project.objects.get(pk=project.pk).sentry_key
    assert rotated.json()["current"]["public"] == new and rotated.json()["previous"]["validUntil"]
    assert ingest(client, project.pk, old) == 200 and ingest(client, project.pk, new) == 200

    assert client.delete(f"{url}{old}/", **auth).status_code == 204
    assert client.delete(f"{url}{extra}/", **auth).status_code == 204
    assert ingest(client, project.pk, old) == 403 and ingest(client, project.pk, extra) == 403
    assert [k["public"] for k in client.get(url, **auth).json()] == [new]
    # bad input: clear 400s
    assert client.delete(f"{url}{new}/", **auth).status_code == 400
    bad = client.put(f"{url}{new}/", {"rotate": True, "graceHours": "x"}, content_type="application/json", **auth)
    assert bad.status_code == 400 and "graceHours" in bad.json()["detail"]
    assert client.delete(f"{url}nosuchkey/", **auth).status_code == 404


@pytest.mark.django_db
def test_members_read_admins_manage_strangers_see_nothing(client, project, other_project, admin, django_user_model):
    url = "/api/0/projects/main/myapp/keys/"
    member = django_user_model.objects.create_user("max")
    ProjectMembership.objects.create(project=project, user=member, role="member")
    assert client.get(url, **bearer(member, Scope.READ)).status_code == 200
    assert client.post(url, {}, content_type="application/json", **bearer(member)).status_code == 403
    put = {"rotate": True, "graceHours": 0}
    assert (
        client.put(f"{url}{project.sentry_key}/", put, content_type="application/json", **bearer(member)).status_code
        == 403
    )
    # the admin with a write-scope token: not enough to manage keys
    assert client.post(url, {}, content_type="application/json", **bearer(admin, Scope.WRITE)).status_code == 403
    # another project's admin: this project and its keys do not exist
    stranger = django_user_model.objects.create_user("eve")
    ProjectMembership.objects.create(project=other_project, user=stranger, role="admin")
    auth = bearer(stranger)
    assert client.get(url, **auth).status_code == 404
    assert client.put(f"{url}{project.sentry_key}/", put, content_type="application/json", **auth).status_code == 404
    extra = ProjectKey.objects.create(project=project)
    assert client.delete(f"{url}{extra.public_key}/", **auth).status_code == 404
    # nor through their own project's URL
    assert client.delete(f"/api/0/projects/main/other/keys/{extra.public_key}/", **auth).status_code == 404
    assert client.delete(f"/api/0/projects/main/other/keys/{project.sentry_key}/", **auth).status_code == 404
    assert ProjectKey.objects.get(pk=extra.pk).revoked_at is None
    assert Project.objects.get(pk=project.pk).sentry_key == project.sentry_key
