"""Tenant scope of the event ids that attachments and user feedback name (issue 19): an id is matched within the
sending project only. Shop's event ids are not secret (they show in its users' error dialogs), so Blog's DSN may name
them: its feedback and attachments stay Blog's, never join Shop's event, neither when that event exists already nor
when they wait for an event of that id and Shop's arrives first. Sent through the envelope endpoint, digested."""

import uuid

import pytest

from events.models import Attachment, Event, UserFeedback
from events.tests.test_items import attachment, envelope, feedback_item, new_event, post, user_report
from projects.models import Project


@pytest.fixture
def shop(db):
    return Project.objects.create(name="Shop", slug="shop")


@pytest.fixture
def blog(db):
    return Project.objects.create(name="Blog", slug="blog")


def blogs_items(event_id: str) -> list:
    return [user_report(event_id), feedback_item(event_id), attachment("blog.log", b"blog's log\n")]


def test_items_naming_another_projects_existing_event_stay_with_their_own_project(client, shop, blog):
    shop_event = new_event()
    post(client, shop, envelope(shop_event))
    post(client, blog, envelope(None, blogs_items(shop_event["event_id"]), event_id=shop_event["event_id"]))

    stored = Event.objects.get(project=shop)
    assert not stored.attachments.exists() and not stored.user_feedback.exists()
    assert not UserFeedback.objects.filter(issue__project=shop).exists()
    feedback = list(UserFeedback.objects.all())
    assert len(feedback) == 2 and {(f.project_id, f.event, f.issue) for f in feedback} == {(blog.pk, None, None)}
    kept = Attachment.objects.get()
    assert (kept.project_id, kept.event, kept.event_uuid.hex) == (blog.pk, None, shop_event["event_id"])


def test_waiting_items_are_linked_only_to_their_own_projects_event_of_that_id(client, shop, blog):
    event_id = uuid.uuid4().hex
    post(client, blog, envelope(None, blogs_items(event_id), event_id=event_id))
    # an event of that id arrives in Shop first: Blog's waiting items stay waiting
    post(client, shop, envelope({**new_event(), "event_id": event_id}))
    shop_event = Event.objects.get(project=shop)
    assert not shop_event.attachments.exists() and not shop_event.user_feedback.exists()
    assert set(UserFeedback.objects.values_list("event", flat=True)) == {None}
    assert Attachment.objects.get().event is None

    # Blog's own event of that id takes them
    post(client, blog, envelope({**new_event(), "event_id": event_id}))
    blog_event = Event.objects.get(project=blog)
    assert [a.name for a in blog_event.attachments.all()] == ["blog.log"]
    assert {(f.event_id, f.issue_id) for f in UserFeedback.objects.all()} == {(blog_event.pk, blog_event.issue_id)}
    assert not shop_event.attachments.exists() and not shop_event.user_feedback.exists()
