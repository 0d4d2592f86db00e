"""Sentry's documented dotted search keys for an event's fields (issue 23: `user.email:jane@example.com` was "not
understood"): user.email, user.id, user.username, user.ip, and sdk.*, device.*, error.*, http.* of the same class,
in the issue list's search and the issue's Events search."""

import pytest

from events.models import Event
from issues.models import Issue
from projects.models import ProjectMembership
from testing.utils import exception_event


@pytest.fixture
def member_client(client, django_user_model, project):
    user = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user)
    client.force_login(user)
    return client


def _send(project, send_event, exc_type, **fields):
    event = {**exception_event(exc_type, "boom"), **fields}
    assert send_event(project, event).status_code == 200
    return Event.objects.filter(project=project).order_by("-digest_order").first().issue


JANE = {"id": 7, "email": "jane@example.com", "username": "jane", "ip_address": "203.0.113.9"}


def test_user_keys_find_the_issue_and_only_it(member_client, project, send_event):
    jane = _send(project, send_event, "KeyError", user=JANE)
    _send(project, send_event, "ValueError", user={"id": 8, "email": "bob@example.com", "username": "bob"})
    _send(project, send_event, "TypeError")
    url = f"/projects/{project.pk}/issues/"
    for term in (
        "user.email:jane@example.com",
        "user.id:7",
        "user.username:jane",
        "user.ip:203.0.113.9",
        'user.email:"jane@example.com"',
    ):
        response = member_client.get(url, {"q": term, "tab": "all"})
        page = response.content.decode()
        assert response.status_code == 200
        assert "Not understood" not in page, term
        assert list(response.context["issues"]) == [jane], term
    response = member_client.get(url, {"q": "user.email:nobody@example.com", "tab": "all"})
    assert list(response.context["issues"]) == []
    # the issue's Events tab understands them too
    response = member_client.get(f"/issues/{jane.pk}/events/", {"q": "user.username:jane"})
    assert [e.issue_id for e in response.context["rows"]] == [jane.pk]


def test_sdk_error_http_and_device_keys(member_client, project, send_event):
    event = exception_event("KeyError", "boom")
    event["exception"]["values"][-1]["mechanism"] = {"type": "django", "handled": False}
    event["request"] = {"method": "POST", "url": "https://shop.example.com/checkout"}
    event["sdk"] = {"name": "sentry.python.django", "version": "2.19.0"}
    event["contexts"] = {"device": {"family": "iOS", "model": "iPhone15,2", "brand": "Apple"}}
    assert send_event(project, event).status_code == 200
    issue = Issue.objects.get()
    _send(project, send_event, "ValueError")
    url = f"/projects/{project.pk}/issues/"
    for term in (
        "sdk.name:sentry.python.django",
        "sdk.version:2.19.0",
        "error.type:KeyError",
        "error.mechanism:django",
        "error.handled:false",
        "http.method:POST",
        "http.url:https://shop.example.com/checkout",
        "device.family:iOS",
        "device.model:iPhone15,2",
        "device.brand:Apple",
    ):
        response = member_client.get(url, {"q": term, "tab": "all"})
        assert "Not understood" not in response.content.decode(), term
        assert list(response.context["issues"]) == [issue], term
