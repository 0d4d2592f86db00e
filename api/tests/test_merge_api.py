"""Merging through Sentry's bulk PUT (`{"merge": 1}`): the answer names parent and children, later events of either
grouping land in the merged issue (through the real ingest endpoint), cross-project merges are refused, other
projects' issues are a 404, and a merge while events arrive loses none of them (a live server)."""

import json
import threading
import urllib.request

import pytest
from django.contrib.auth import get_user_model

from api.models import ApiToken, Scope
from bugsink import jobs
from events.models import Event
from issues.models import Issue, TurningPoint
from projects.models import Project, ProjectMembership, Role
from testing.utils import auth_header, exception_event, make_envelope, wait_until

ORG = "main"


@pytest.fixture
def alice(db, project):
    user = get_user_model().objects.create_user("alice", "alice@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user, role=Role.MEMBER)
    return user


@pytest.fixture
def put(client, alice):
    token = ApiToken.create_for(alice, "write", scope=Scope.WRITE)[1]

    def _put(url, body):
        return client.put(url, json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")

    return _put


def two_issues(project, send_event, big=3, small=2):
    for _ in range(big):
        send_event(project, exception_event("KeyError", "gone"))
    for _ in range(small):
        send_event(project, exception_event("ValueError", "bad"))
    return Issue.objects.get(calculated_type="KeyError"), Issue.objects.get(calculated_type="ValueError")


def test_api_merge_then_later_events_of_either_grouping_land_in_the_merged_issue(
    project, send_event, put, transactional_db
):
    parent, child = two_issues(project, send_event)
    url = f"/api/0/projects/{ORG}/myapp/issues/?id={child.short_id}&id={parent.pk}"
    response = put(url, {"merge": 1})
    assert response.status_code == 200, response.content
    assert response.json() == {"merge": {"parent": str(parent.pk), "children": [str(child.pk)]}}
    assert jobs.wait_idle(20), "the merge job finished"
    assert list(Issue.objects.values_list("pk", flat=True)) == [parent.pk]
    parent.refresh_from_db()
    assert parent.event_count == 5

    send_event(project, exception_event("ValueError", "bad"))
    send_event(project, exception_event("KeyError", "gone"))
    parent.refresh_from_db()
    assert parent.event_count == 7 and Event.objects.filter(issue=parent).count() == 7
    assert parent.turning_points.filter(kind=TurningPoint.Kind.MERGED).exists()


def test_api_merge_refusals(project, send_event, put):
    parent, child = two_issues(project, send_event)
    base = f"/api/0/projects/{ORG}/myapp/issues/"
    one = put(f"{base}?id={parent.pk}", {"merge": 1})
    assert one.status_code == 400 and "two or more" in one.json()["detail"]
    mixed = put(f"{base}?id={parent.pk}&id={child.pk}", {"merge": 1, "status": "resolved"})
    assert mixed.status_code == 400 and "no other changes" in mixed.json()["detail"]
    assert put(f"{base}?id={parent.pk}&id={child.pk}", {"merge": "yes"}).status_code == 400
    assert Issue.objects.count() == 2


def test_api_merge_across_projects_is_refused_and_other_projects_are_hostile(project, send_event, put, alice):
    mine, _ = two_issues(project, send_event)
    other = Project.objects.create(name="Other", slug="other")
    send_event(other, exception_event("OSError", "theirs"))
    theirs = Issue.objects.get(project=other)

    # not a member of the other project: its issue is not found, and its project's URL neither
    response = put(f"/api/0/organizations/{ORG}/issues/?id={mine.pk}&id={theirs.pk}", {"merge": 1})
    assert response.status_code == 404
    assert put(f"/api/0/projects/{ORG}/other/issues/?id={theirs.pk}", {"merge": 1}).status_code == 404
    assert put(f"/api/0/projects/{ORG}/myapp/issues/?id={mine.pk}&id={theirs.pk}", {"merge": 1}).status_code == 404

    # a member of both may still not merge across projects
    ProjectMembership.objects.create(project=other, user=alice, role=Role.MEMBER)
    response = put(f"/api/0/organizations/{ORG}/issues/?id={mine.pk}&id={theirs.pk}", {"merge": 1})
    assert response.status_code == 400 and "one project" in response.json()["detail"]
    assert Issue.objects.count() == 3


def _send_over_http(url: str, project, event: dict) -> int:
    request = urllib.request.Request(
        f"{url}/api/{project.pk}/envelope/",
        data=make_envelope(event),
        headers={"Content-Type": "application/x-sentry-envelope", **_header(project)},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


def _header(project) -> dict:
    ((name, value),) = auth_header(project).items()
    return {name.removeprefix("HTTP_").replace("_", "-").title(): value}


@pytest.mark.live
def test_a_merge_while_events_arrive_loses_nothing(live_server_url, transactional_db, alice):
    project = Project.objects.create(name="Busy", slug="busy")
    ProjectMembership.objects.create(project=project, user=alice, role=Role.MEMBER)
    token = ApiToken.create_for(alice, "write", scope=Scope.WRITE)[1]
    sent = {"KeyError": 0, "ValueError": 0}
    stop = threading.Event()
    errors = []

    def sender(exc_type):
        try:
            while not stop.is_set() or sent[exc_type] < 30:
                assert _send_over_http(live_server_url, project, exception_event(exc_type, "busy")) == 200
                sent[exc_type] += 1
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=sender, args=(t,)) for t in sent]
    for thread in threads:
        thread.start()
    wait_until(lambda: Issue.objects.filter(project=project).count() == 2, message="both issues to exist")
    ids = "&".join(f"id={pk}" for pk in Issue.objects.filter(project=project).values_list("pk", flat=True))
    request = urllib.request.Request(
        f"{live_server_url}/api/0/projects/{ORG}/busy/issues/?{ids}",
        data=json.dumps({"merge": 1}).encode(),
        method="PUT",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        parent_id = json.loads(response.read())["merge"]["parent"]
    wait_until(lambda: Issue.objects.filter(project=project).count() == 1, message="the merge to finish")
    stop.set()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    total = sum(sent.values())
    wait_until(lambda: Event.objects.filter(project=project).count() == total, message="every event digested")
    parent = Issue.objects.get(project=project)
    assert str(parent.pk) == parent_id
    assert parent.event_count == total and Event.objects.filter(issue=parent).count() == total
    orders = list(Event.objects.filter(issue=parent).values_list("digest_order", flat=True))
    assert len(set(orders)) == total and max(orders) <= total
