"""Deleting a project (bugsink.project_deletion): the confirmation (its name typed), the project gone at once for
everyone (lists, pages, ingest), and a job that deletes everything it holds in bounded batches, leaving other
projects alone. Editing the slug (validated, unique; short ids follow it; links by id keep working)."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts.models import AlertChannel, DeliveryAttempt
from bugsink.project_deletion import delete_project
from events.models import Event
from ingest import store
from issues.models import Grouping, Issue, TurningPoint
from logs.models import LogEntry
from monitors.models import CheckIn, Monitor
from projects import keys
from projects.models import Project, ProjectKey, ProjectMembership
from releases.models import Release
from tags.models import EventTag, IssueTag, TagValue
from testing.utils import exception_event, store_event


def _fill(project, send_event):
    for n in range(4):
        assert (
            send_event(
                project, exception_event("ValueError", f"v{n}", release=f"1.{n}", tags={"n": str(n)})
            ).status_code
            == 200
        )
    send_event(project, exception_event("KeyError", "k", release="1.0"))
    keys.add_key(project, "extra")
    AlertChannel.objects.create(project=project, name="hook", kind="webhook", url="https://example.com/hook")
    issue = Issue.objects.filter(project=project).first()
    DeliveryAttempt.objects.create(
        project=project, issue=issue, alert_kind="new_issue", channel_kind="email", target="a@b.c", status="sent"
    )
    now = timezone.now()
    monitor = Monitor.objects.create(project=project, slug="nightly", created_at=now)
    CheckIn.objects.create(monitor=monitor, status="ok", date_added=now, date_updated=now)


PER_PROJECT = [
    (Issue, "project"),
    (Event, "project"),
    (Grouping, "project"),
    (TagValue, "project"),
    (IssueTag, "issue__project"),
    (EventTag, "issue__project"),
    (TurningPoint, "issue__project"),
    (Release, "project"),
    (ProjectKey, "project"),
    (AlertChannel, "project"),
    (DeliveryAttempt, "project"),
    (Monitor, "project"),
    (CheckIn, "monitor__project"),
    (LogEntry, "project"),
]


def _counts(project_id):
    return {model.__name__: model.objects.filter(**{f"{path}_id": project_id}).count() for model, path in PER_PROJECT}


def test_delete_project_removes_everything_in_bounded_batches(project, other_project, send_event):
    _fill(project, send_event)
    _fill(other_project, send_event)
    others_before = _counts(other_project.pk)
    # an accepted event that digest has not taken yet
    raw_key = store_event(project, exception_event("Pending", "not digested"))
    assert store.pending_keys(project.pk)
    Project.objects.filter(pk=project.pk).update(is_deleting=True)
    with CaptureQueriesContext(connection) as queries:
        result = delete_project(project.pk, batch_size=2)
    assert result.deleted and result.rows["issues"] == 2 and result.rows["events"] == 5
    assert not Project.objects.filter(pk=project.pk).exists()
    assert all(n == 0 for n in _counts(project.pk).values()), _counts(project.pk)
    assert _counts(other_project.pk) == others_before and others_before["Event"] == 5
    assert not store.pending_keys(project.pk) and not store.exists(raw_key)
    # bounded: 5 events and 2 check-ins... went at most 2 per statement
    event_deletes = [
        q["sql"] for q in queries.captured_queries if re.match(r'DELETE FROM [`"]?events_event\b', q["sql"])
    ]
    assert len(event_deletes) >= 3, event_deletes


def test_a_project_not_marked_for_deletion_is_left_alone(project, send_event):
    send_event(project, exception_event())
    assert delete_project(project.pk).deleted is False
    assert Issue.objects.filter(project=project).count() == 1
    assert delete_project(987654).deleted is False  # gone already: a job run twice


def test_delete_needs_the_name_and_hides_the_project_at_once(
    client_for, owner, project, send_event, django_capture_on_commit_callbacks
):
    send_event(project, exception_event())
    client = client_for(owner)
    url = f"/projects/{project.pk}/settings/delete/"
    page = client.get(url)
    assert page.status_code == 200 and "Type the project&#x27;s name to confirm" in page.content.decode()
    wrong = client.post(url, {"name": "my app"})
    assert wrong.status_code == 400 and "nothing was deleted" in wrong.content.decode()
    assert not Project.objects.get(pk=project.pk).is_deleting
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(url, {"name": "My App"})
    assert response.status_code == 302 and response["Location"] == "/projects/"
    # the deletion job, asked for after the commit (besides dropping ingest's copy of the project)
    assert any("_run" in callback.__qualname__ for callback in callbacks)
    assert Project.objects.get(pk=project.pk).is_deleting
    # gone for everyone at once: pages, the project list, ingest
    assert client.get(f"/projects/{project.pk}/issues/").status_code == 404
    assert "My App" not in client.get("/projects/").content.decode()
    assert send_event(project, exception_event()).status_code == 404
    delete_project(project.pk)
    assert not Project.objects.filter(pk=project.pk).exists()


def test_only_the_projects_admins_may_delete_it(client_for, member, project, other_project, make_user):
    url = f"/projects/{project.pk}/settings/delete/"
    assert client_for(member).post(url, {"name": "My App"}).status_code == 403
    stranger = make_user("eve")
    ProjectMembership.objects.create(project=other_project, user=stranger, role="admin")
    assert client_for(stranger).post(url, {"name": "My App"}).status_code == 404
    assert client_for(stranger).get(url).status_code == 404
    assert not Project.objects.get(pk=project.pk).is_deleting


# --- the slug -----------------------------------------------------------------------------------------------------


def _settings_data(project, **changes):
    data = {"name": project.name, "slug": project.slug, "team": "", "scrub_defaults": "on"}
    data.update(changes)
    return data


def test_editing_the_slug_changes_short_ids_and_keeps_links_by_id(
    client_for, owner, project, other_project, send_event
):
    send_event(project, exception_event())
    issue = Issue.objects.get(project=project)
    client = client_for(owner)
    url = f"/projects/{project.pk}/settings/"
    assert 'name="slug" value="myapp"' in client.get(url).content.decode()
    for bad, reason in [
        ("web shop!", "letters, numbers, underscores or hyphens"),
        ("other", "Another project has this slug."),
        ("---", "at least one letter or digit"),
    ]:
        response = client.post(url, _settings_data(project, slug=bad))
        assert response.status_code == 200 and reason in response.content.decode(), bad
        assert Project.objects.get(pk=project.pk).slug == "myapp"
    assert client.post(url, _settings_data(project, slug="")).status_code == 302  # empty: it stays
    assert Project.objects.get(pk=project.pk).slug == "myapp"
    response = client.post(url, _settings_data(project, slug="web-shop"), follow=True)
    assert "Short ids now start with WEB-SHOP- (were MYAPP-)" in response.content.decode()
    project.refresh_from_db()
    assert project.slug == "web-shop" and project.short_prefix == "WEB-SHOP"
    # links by id still work, and the issue is now WEB-SHOP-1
    page = client.get(f"/issues/{issue.pk}/").content.decode()
    assert "WEB-SHOP-1" in page
    assert client.get(f"/projects/{project.pk}/issues/", {"q": "WEB-SHOP-1"}).content.decode().count(str(issue.pk)) >= 1
    # a new event still lands in the same project and issue
    assert send_event(project, exception_event()).status_code == 200
    assert Issue.objects.get(project=project).event_count == 2
