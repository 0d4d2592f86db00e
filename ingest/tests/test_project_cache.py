"""Ingest answers from a per-process copy of a project's key and quotas (ingest.project_cache): a change made in
this process applies to the next request, one made elsewhere once the copy expires."""

import urllib.error
import urllib.request
import uuid

import pytest
from django.db import connection

from ingest import project_cache
from projects.models import Project, new_sentry_key
from testing.utils import exception_event, make_envelope, start_web_server, wait_until


def post(client, project_id, key):
    return client.post(
        f"/api/{project_id}/envelope/?sentry_key={key}",
        data=make_envelope(exception_event(), event_id=uuid.uuid4().hex),
        content_type="application/x-sentry-envelope",
    ).status_code


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(project_cache, "clock", lambda: now[0])
    return now


@pytest.mark.django_db
def test_a_key_rotated_in_this_process_applies_at_once(client, project):
    old = project.sentry_key
    assert post(client, project.pk, old) == 200
    project.sentry_key = new_sentry_key()
    project.save()
    assert post(client, project.pk, old) == 403
    assert post(client, project.pk, project.sentry_key) == 200


@pytest.mark.django_db
def test_a_quota_changed_in_this_process_applies_at_once(client, project, settings):
    settings.QUOTA_EVENTS_PER_MINUTE = 0
    assert post(client, project.pk, project.sentry_key) == 200
    project.quota_events_per_minute = 1
    project.save(update_fields=["quota_events_per_minute"])
    assert [post(client, project.pk, project.sentry_key) for _ in range(2)] == [200, 429]


@pytest.mark.django_db
def test_a_deleted_project_is_gone_at_once(client, project):
    assert post(client, project.pk, project.sentry_key) == 200
    pk, key = project.pk, project.sentry_key
    project.delete()
    assert post(client, pk, key) == 404


@pytest.mark.django_db
def test_a_change_made_elsewhere_applies_when_the_copy_expires(client, project, settings, clock):
    """An UPDATE that sends no signal here is what another process's save looks like to this one."""
    settings.INGEST_PROJECT_CACHE_SECONDS = 5
    old, new = project.sentry_key, new_sentry_key()
    assert post(client, project.pk, old) == 200
    Project.objects.filter(pk=project.pk).update(sentry_key=new)
    clock[0] += 4.9
    assert post(client, project.pk, old) == 200  # still the copy
    clock[0] += 0.2
    assert post(client, project.pk, old) == 403
    assert post(client, project.pk, new) == 200


@pytest.mark.django_db
def test_no_copy_with_a_ttl_of_zero(client, project, settings, django_assert_num_queries):
    settings.INGEST_PROJECT_CACHE_SECONDS = 0
    assert post(client, project.pk, project.sentry_key) == 200
    Project.objects.filter(pk=project.pk).update(sentry_key="f" * 32)
    assert post(client, project.pk, project.sentry_key) == 403
    with django_assert_num_queries(1):
        project_cache.get(project.pk)


@pytest.mark.django_db
def test_one_read_per_ttl_and_none_for_unknown_projects(project, django_assert_num_queries):
    project_cache.clear()
    with django_assert_num_queries(1):
        for _ in range(5):
            assert project_cache.get(project.pk).sentry_key == project.sentry_key
    with django_assert_num_queries(2):  # a missing project is not remembered: it may be created any moment
        assert project_cache.get(project.pk + 1000) is None
        assert project_cache.get(project.pk + 1000) is None


@pytest.mark.django_db
def test_a_row_read_before_an_invalidation_is_not_kept(project, django_assert_num_queries):
    """Another thread saves the project while this one is reading its (now old) row: the old row is used for this
    request, but not kept for the next ones."""
    project_cache.clear()

    def saved_meanwhile(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        project_cache.forget(project.pk)  # what the saving thread's signal does
        return result

    with connection.execute_wrapper(saved_meanwhile):
        assert project_cache.get(project.pk) is not None
    with django_assert_num_queries(1):
        project_cache.get(project.pk)


def send_live(url, project_id, key) -> int:
    request = urllib.request.Request(
        f"{url}/api/{project_id}/envelope/",
        data=make_envelope(exception_event(), event_id=uuid.uuid4().hex),
        headers={"X-Sentry-Auth": f"Sentry sentry_version=7, sentry_key={key}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.live
def test_a_key_rotated_by_another_process_reaches_the_web_server(transactional_db, tmp_path):
    """The web server is another process: this test's save sends it no signal. Its copy expires after
    INGEST_PROJECT_CACHE_SECONDS and the next request reads the new key."""
    project = Project.objects.create(name="Rotated")
    old = project.sentry_key
    with start_web_server(tmp_path, extra_env={"INGEST_PROJECT_CACHE_SECONDS": "1"}) as url:
        assert send_live(url, project.pk, old) == 200
        project.sentry_key = new_sentry_key()
        project.save()
        wait_until(lambda: send_live(url, project.pk, old) == 403, 30, message="the old key to be refused")
        assert send_live(url, project.pk, project.sentry_key) == 200
        project.delete()
        wait_until(lambda: send_live(url, project.pk, old) == 404, 30, message="the deleted project to be gone")
