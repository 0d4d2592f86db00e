"""Issue 23's defects on the issue page (each test failed before its fix): release links, the Contexts card's ids,
the crash frame's locals, long values."""

import html
import uuid

import pytest
from django.utils import timezone

from bugsink import jobs
from events.models import Event
from issues.models import Issue
from projects.models import Project, ProjectMembership, Role
from releases.models import Release
from testing.utils import exception_event


@pytest.fixture
def member(db, project, django_user_model):
    user = django_user_model.objects.create_user("member")
    ProjectMembership.objects.create(project=project, user=user)
    return user


@pytest.fixture
def logged_in(client, member):
    client.force_login(member)
    return client


@pytest.fixture
def send(project, send_event):
    def _send(event: dict, **extra) -> Event:
        event = {**event, **extra}
        event.setdefault("event_id", uuid.uuid4().hex)
        response = send_event(project, event)
        assert response.status_code == 200, response.content
        return Event.objects.get(project=project, event_id=event["event_id"])

    return _send


def page_of(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return html.unescape(response.content.decode())


# --- releases link to their own page ----------------------------------------------------------------------------


def test_events_table_links_each_release_to_its_page(logged_in, send, project):
    send(exception_event("KeyError", "a", release="1.0"))
    send(exception_event("KeyError", "a", release="2.0 beta#1?x"))
    send(exception_event("KeyError", "a"))  # no release: no link
    issue = Issue.objects.get()
    page = page_of(logged_in, f"/issues/{issue.pk}/events/")
    for version in ("1.0", "2.0 beta#1?x"):
        release = Release.objects.get(project=project, version=version)
        assert f'<a href="/projects/{project.pk}/releases/id/{release.pk}/"><bdi>{version}</bdi></a>' in page
    assert page.count("/releases/id/") == 2  # the table's two (the header links by version)


def test_a_release_of_another_project_with_the_same_version_is_not_linked(logged_in, send, project):
    other = Project.objects.create(name="Other", slug="other")
    elsewhere = Release.objects.create(project=other, version="1.0", date_released=timezone.now())
    send(exception_event("KeyError", "a", release="1.0"))
    issue = Issue.objects.get()
    page = page_of(logged_in, f"/issues/{issue.pk}/events/")
    assert f"/releases/id/{elsewhere.pk}/" not in page
    own = Release.objects.get(project=project, version="1.0")
    assert f"/projects/{project.pk}/releases/id/{own.pk}/" in page


# --- Delete on the issue page -----------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, django_user_model, project):
    user = django_user_model.objects.create_user("boss")
    ProjectMembership.objects.create(project=project, user=user, role=Role.ADMIN)
    client.force_login(user)
    return client


def test_delete_on_the_issue_page_asks_first_then_deletes_as_a_job(admin_client, send, project, transactional_db):
    doomed = send(exception_event("ValueError", "doomed")).issue
    survivor = send(exception_event("KeyError", "survivor")).issue
    page = page_of(admin_client, f"/issues/{doomed.pk}/")
    assert f'href="/issues/{doomed.pk}/delete/" data-issue-delete>Delete…</a>' in page

    confirm = page_of(admin_client, f"/issues/{doomed.pk}/delete/")
    assert f"Delete {doomed.short_id}?" in confirm and "1 stored event," in confirm
    assert 'name="confirm" value="yes"' in confirm and f'href="/issues/{doomed.pk}/">Cancel</a>' in confirm
    # a POST without the confirmation only shows the question again
    assert admin_client.post(f"/issues/{doomed.pk}/delete/").status_code == 200
    assert Issue.objects.filter(pk=doomed.pk, is_deleting=False).exists()

    response = admin_client.post(f"/issues/{doomed.pk}/delete/", {"confirm": "yes"}, follow=True)
    assert response.redirect_chain == [(f"/projects/{project.pk}/issues/", 302)]
    assert f"Deleting {doomed.short_id} and its events in the background." in response.content.decode()
    assert jobs.wait_idle(20)
    assert not Issue.objects.filter(pk=doomed.pk).exists()
    assert not Event.objects.filter(issue_id=doomed.pk).exists()
    assert Issue.objects.filter(pk=survivor.pk).exists()


def test_only_the_projects_admins_may_delete_and_other_projects_get_404(
    logged_in, send, project, django_user_model, client
):
    issue = send(exception_event("ValueError", "kept")).issue
    # a plain member: no button, the page and the POST refused
    assert "data-issue-delete" not in page_of(logged_in, f"/issues/{issue.pk}/")
    assert logged_in.get(f"/issues/{issue.pk}/delete/").status_code == 403
    assert logged_in.post(f"/issues/{issue.pk}/delete/", {"confirm": "yes"}).status_code == 403
    # an admin of another project: as if the issue did not exist
    other = Project.objects.create(name="Other", slug="other")
    stranger = django_user_model.objects.create_user("stranger")
    ProjectMembership.objects.create(project=other, user=stranger, role=Role.ADMIN)
    client.force_login(stranger)
    assert client.get(f"/issues/{issue.pk}/delete/").status_code == 404
    assert client.post(f"/issues/{issue.pk}/delete/", {"confirm": "yes"}).status_code == 404
    issue.refresh_from_db()
    assert not issue.is_deleting
