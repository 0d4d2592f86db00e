"""The cap on tags indexed per event (MAX_EVENT_TAGS, issue 19): an event may carry 10,000 tags, and digest indexes
each one inside the project's single-writer transaction, so only the first MAX_EVENT_TAGS are: the ones derived from
the event's fields first, then the SDK's in the order it sent them. The rest stay in the stored event and its page
says how many were not indexed."""

import json
import urllib.request
import uuid

from django.test import Client
from django.urls import reverse

from events.models import Event
from projects.models import Project, ProjectMembership
from tags.extract import NOT_INDEXED_KEY, capped_event_tags, event_tags
from tags.models import EventTag, IssueTag
from tags.search import filter_events, parse_query
from testing.utils import exception_event, make_envelope, wait_until

DERIVED = {"level": "error", "release": "1.0", "environment": "prod"}


def many_tags(count: int) -> dict[str, str]:
    return {f"tag{i:05d}": f"value {i}" for i in range(count)}


def test_the_derived_tags_come_first_then_the_sdks_in_order():
    event = {**DERIVED, "tags": {"environment": "not this one", **many_tags(10)}}
    tags, over = capped_event_tags(event, 5)
    assert tags == {**DERIVED, "tag00000": "value 0", "tag00001": "value 1"} and over == 8
    assert capped_event_tags(event, 100) == ({**DERIVED, **many_tags(10)}, 0)
    assert capped_event_tags({"level": "error", "tags": many_tags(3)}, 0) == ({}, 4)


def test_max_event_tags_is_the_limit(settings):
    settings.MAX_EVENT_TAGS = 7
    assert len(event_tags({**DERIVED, "tags": many_tags(50)})) == 7


def test_an_sdks_own_marker_is_not_believed(project, send_event):
    forged = {**exception_event(), NOT_INDEXED_KEY: {"count": 5000, "limit": 1}, "tags": many_tags(3)}
    assert send_event(project, forged).status_code == 200
    event = Event.objects.get()
    assert NOT_INDEXED_KEY not in event.data and EventTag.objects.filter(event=event).count() == 4


def test_ten_thousand_tags_over_http_index_the_first_hundred(live_server_url, transactional_db, django_user_model):
    project = Project.objects.create(name="Tagged", slug="tagged")
    sent = many_tags(10_000)
    event = {**exception_event(**DERIVED), "event_id": uuid.uuid4().hex, "tags": sent}
    request = urllib.request.Request(
        f"{live_server_url}/api/{project.pk}/envelope/",
        data=make_envelope(event),
        headers={
            "Content-Type": "application/x-sentry-envelope",
            "X-Sentry-Auth": f"Sentry sentry_version=7, sentry_key={project.sentry_key}",
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # the server's default MAX_EVENT_TAGS: 100
        assert response.status == 200 and json.loads(response.read()) == {"id": event["event_id"]}
    stored = wait_until(lambda: Event.objects.filter(project=project).first(), 60, message="the event's digest")

    indexed = dict(EventTag.objects.filter(event=stored).values_list("value__key", "value__value"))
    assert indexed == {**DERIVED, **dict(list(sent.items())[:97])}
    assert IssueTag.objects.filter(issue=stored.issue).count() == 100
    assert stored.data[NOT_INDEXED_KEY] == {"count": 9_903, "limit": 100}
    assert len(stored.data["tags"]) == 10_000  # kept in the event, shown on its page
    assert filter_events(Event.objects.all(), parse_query('tag00096:"value 96"')).count() == 1
    assert filter_events(Event.objects.all(), parse_query('tag00097:"value 97"')).count() == 0

    user = django_user_model.objects.create_user("viewer")
    ProjectMembership.objects.create(project=project, user=user)
    browser = Client()
    browser.force_login(user)
    for tab in ("stacktrace", "details", "breadcrumbs"):
        response = browser.get(reverse(f"issue:{tab}", args=[stored.issue_id]))
        assert response.status_code == 200
        page = response.content.decode()
        assert "9,903 tags not indexed (over MAX_EVENT_TAGS): the first 100 are indexed" in page
