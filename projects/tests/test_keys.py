"""DSN keys (projects.keys): rotate with a grace period, add, revoke; ingest (ingest.auth, ingest.project_cache)
accepts exactly the valid keys, through the real envelope endpoint, and refuses a revoked key within the cache's
lifetime in other processes. Only the project's admins manage its keys."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from ingest import project_cache
from projects import keys
from projects.models import Project, ProjectKey, ProjectMembership
from testing.utils import exception_event, make_envelope


def post(client, project_id, key):
    return client.post(
        f"/api/{project_id}/envelope/",
        data=make_envelope(exception_event(), event_id=uuid.uuid4().hex),
        content_type="application/x-sentry-envelope",
        HTTP_X_SENTRY_AUTH=f"Sentry sentry_version=7, sentry_key={key}",
    ).status_code


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(project_cache, "clock", lambda: now[0])
    return now


@pytest.mark.django_db
def test_a_rotated_key_works_for_its_grace_period_then_is_refused(client, project, settings, monkeypatch):
    settings.INGEST_PROJECT_CACHE_SECONDS = 5
    old = project.sentry_key
    assert post(client, project.pk, old) == 200
    rotated = keys.rotate_key(project, timedelta(hours=2))
    new = Project.objects.get(pk=project.pk).sentry_key
    assert new != old and rotated.public_key == old and project.sentry_key == new
    assert post(client, project.pk, new) == 200
    assert post(client, project.pk, old) == 200  # in its grace period
    # two hours later (wall clock, as ingest.auth reads it), even from the cached copy: refused
    later = rotated.valid_until.timestamp() + 1
    monkeypatch.setattr("ingest.auth.time.time", lambda: later)
    assert post(client, project.pk, old) == 403
    assert post(client, project.pk, new) == 200


@pytest.mark.django_db
def test_the_default_grace_is_the_setting(project, settings):
    settings.KEY_ROTATION_GRACE_HOURS = 24
    before = timezone.now()
    rotated = keys.rotate_key(project)
    assert timedelta(hours=24) <= rotated.valid_until - before < timedelta(hours=24, minutes=1)
    with pytest.raises(keys.KeyActionRefused):
        keys.rotate_key(project, timedelta(hours=-1))


@pytest.mark.django_db
def test_a_rotation_without_grace_and_a_revoke_end_keys_at_once(client, project):
    old = project.sentry_key
    keys.rotate_key(project, timedelta(0))
    assert post(client, project.pk, old) == 403
    extra = keys.add_key(project, "mobile app")
    assert post(client, project.pk, extra.public_key) == 200  # a further key, valid until revoked
    keys.revoke_key(project, extra.pk)
    assert post(client, project.pk, extra.public_key) == 403
    assert post(client, project.pk, project.sentry_key) == 200
    with pytest.raises(keys.KeyActionRefused):
        keys.revoke_key(project, extra.pk)  # already ended


@pytest.mark.django_db
def test_a_key_revoked_in_another_process_is_refused_once_the_copy_expires(client, project, settings, clock):
    """An UPDATE sends no signal here: that is what another web process's revoke looks like to this one."""
    settings.INGEST_PROJECT_CACHE_SECONDS = 5
    extra = keys.add_key(project)
    assert post(client, project.pk, extra.public_key) == 200
    ProjectKey.objects.filter(pk=extra.pk).update(valid_until=timezone.now(), revoked_at=timezone.now())
    clock[0] += 4.9
    assert post(client, project.pk, extra.public_key) == 200  # this process's copy, for at most 5 s
    clock[0] += 0.2
    assert post(client, project.pk, extra.public_key) == 403


@pytest.mark.django_db
def test_another_projects_key_is_refused(client, project, other_project):
    extra = keys.add_key(other_project)
    assert post(client, project.pk, extra.public_key) == 403
    assert post(client, project.pk, other_project.sentry_key) == 403


@pytest.mark.django_db
def test_one_query_per_cache_read_with_keys(project, django_assert_num_queries):
    keys.add_key(project)
    keys.add_key(project)
    keys.rotate_key(project, timedelta(hours=1))
    ended = keys.add_key(project)
    keys.revoke_key(project, ended.pk)
    project_cache.clear()
    with django_assert_num_queries(1):
        cached = project_cache.get(project.pk)
    assert len(cached.other_keys) == 3 and ended.public_key not in {key for key, _ in cached.other_keys}


# --- the settings page --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_keys_page_rotates_adds_and_revokes(client_for, owner, project, settings):
    settings.KEY_ROTATION_GRACE_HOURS = 24
    client = client_for(owner)
    url = f"/projects/{project.pk}/settings/keys/"
    page = client.get(url).content.decode()
    assert project.sentry_key in page and "24 h" in page and 'value="24"' in page
    old = project.sentry_key
    response = client.post(f"{url}rotate/", {"grace_hours": "6"}, follow=True)
    assert "The old key keeps working for 6 h" in response.content.decode()
    project.refresh_from_db()
    assert project.sentry_key != old
    assert ProjectKey.objects.get(public_key=old).valid_until is not None
    page = client.get(url).content.decode()
    assert f'data-key="{old}"' in page and "(grace period)" in page
    client.post(f"{url}add/", {"label": "worker"})
    extra = ProjectKey.objects.get(label="worker")
    response = client.post(f"{url}{extra.pk}/revoke/", follow=True)
    assert f"Key {extra.public_key} revoked" in response.content.decode()
    assert f'data-key="{extra.public_key}"' not in response.content.decode()
    # a bad grace is a message, no rotation
    response = client.post(f"{url}rotate/", {"grace_hours": "-3"}, follow=True)
    assert "Not rotated" in response.content.decode()
    assert Project.objects.get(pk=project.pk).sentry_key == project.sentry_key


@pytest.mark.django_db
def test_keys_are_for_the_projects_admins_only(client_for, member, project, other_project, make_user):
    extra = keys.add_key(project)
    url = f"/projects/{project.pk}/settings/keys/"
    plain = client_for(member)
    assert plain.get(url).status_code == 403
    assert plain.post(f"{url}rotate/", {"grace_hours": "0"}).status_code == 403
    assert plain.post(f"{url}{extra.pk}/revoke/").status_code == 403
    # another project's admin: this project does not exist for them
    stranger = make_user("eve")
    ProjectMembership.objects.create(project=other_project, user=stranger, role="admin")
    hostile = client_for(stranger)
    assert hostile.get(url).status_code == 404
    assert hostile.post(f"{url}rotate/", {"grace_hours": "0"}).status_code == 404
    assert hostile.post(f"{url}{extra.pk}/revoke/").status_code == 404
    # and through their own project's URL, this project's key is no key of theirs
    response = hostile.post(f"/projects/{other_project.pk}/settings/keys/{extra.pk}/revoke/", follow=True)
    assert "No such key" in response.content.decode()
    before = project.sentry_key
    project.refresh_from_db()
    assert project.sentry_key == before and ProjectKey.objects.get(pk=extra.pk).revoked_at is None
