"""Issue 23's defects on the issue page (each test failed before its fix): release links, the Contexts card's ids,
the crash frame's locals, long values."""

import html
import uuid

import pytest
from django.utils import timezone

from bugsink.testutils import exception_event
from events.models import Event
from issues.models import Issue
from projects.models import Project, ProjectMembership
from releases.models import Release


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
