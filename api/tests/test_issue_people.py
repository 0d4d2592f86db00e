"""Assignment and subscription through /api/0/: Sentry's `assignedTo` and `isSubscribed` in the issue JSON and in
PUT (one issue, and in bulk), the assignment search terms, and another project's token."""

import json

import pytest
from django.contrib.auth import get_user_model

from api.models import ApiToken, Scope
from bugsink import jobs
from issues import participants
from issues.models import Issue, TurningPoint
from projects.models import Project, ProjectMembership, Team
from testing.utils import make_issue

User = get_user_model()
ORG = "main"


@pytest.fixture
def team(project):
    team = Team.objects.create(name="backend")
    project.team = team
    project.save(update_fields=["team"])
    return team


@pytest.fixture
def alice(project):
    user = User.objects.create_user("alice", "alice@example.com", "pw", first_name="Alice", last_name="Ng")
    ProjectMembership.objects.create(project=project, user=user)
    return user


@pytest.fixture
def bob(project):
    user = User.objects.create_user("bob", "bob@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user)
    return user


@pytest.fixture
def mallory(db):
    other = Project.objects.create(name="Other", slug="other")
    user = User.objects.create_user("mallory", "mallory@example.com", "pw")
    ProjectMembership.objects.create(project=other, user=user)
    return user


def api(client, user, scope=Scope.WRITE):
    token = ApiToken.create_for(user, "t", scope=scope)[1]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    class Api:
        def get(self, url, **params):
            return client.get(url, params, **headers)

        def put(self, url, body):
            return client.put(url, json.dumps(body), content_type="application/json", **headers)

    return Api()


def test_assigned_to_in_the_issue_json_and_put_forms(client, project, alice, bob, team, transactional_db, mailoutbox):
    issue = make_issue(project)
    a = api(client, alice)
    url = f"/api/0/issues/{issue.pk}/"
    data = a.get(url).json()
    assert data["assignedTo"] is None and data["isSubscribed"] is False

    data = a.put(url, {"assignedTo": "bob"}).json()
    assert data["assignedTo"] == {
        "type": "user",
        "id": str(bob.pk),
        "name": "bob",
        "username": "bob",
        "email": "bob@example.com",
    }
    assert data["status"] == "unresolved"
    assert jobs.wait_idle(20)
    assert [m.to for m in mailoutbox] == [["bob@example.com"]]

    assert a.put(url, {"assignedTo": f"user:{alice.pk}"}).json()["assignedTo"]["name"] == "Alice Ng"
    assert a.put(url, {"assignedTo": "bob@example.com"}).json()["assignedTo"]["id"] == str(bob.pk)
    assert a.put(url, {"assignedTo": "me"}).json()["assignedTo"]["id"] == str(alice.pk)
    team_json = a.put(url, {"assignedTo": f"team:{team.pk}"}).json()["assignedTo"]
    assert team_json == {"type": "team", "id": str(team.pk), "name": "backend"}
    assert a.put(url, {"assignedTo": ""}).json()["assignedTo"] is None
    a.put(url, {"assignedTo": "bob"})
    assert a.put(url, {"assignedTo": None}).json()["assignedTo"] is None

    # with a status in the same body: both apply
    data = a.put(f"/api/0/organizations/{ORG}/issues/{issue.short_id}/", {"status": "resolved", "assignedTo": "bob"})
    assert data.status_code == 200 and data.json()["status"] == "resolved"
    issue.refresh_from_db()
    assert issue.is_resolved and issue.assigned_user == bob
    kinds = list(issue.turning_points.values_list("kind", flat=True))
    assert kinds.count(TurningPoint.Kind.ASSIGNED) == 7 and kinds.count(TurningPoint.Kind.UNASSIGNED) == 2


def test_is_subscribed_through_the_api(client, project, alice):
    issue = make_issue(project)
    a = api(client, alice)
    url = f"/api/0/issues/{issue.pk}/"
    assert a.put(url, {"isSubscribed": True}).json()["isSubscribed"] is True
    assert participants.is_subscribed(issue, alice)
    listed = a.get(f"/api/0/projects/{ORG}/{project.slug}/issues/").json()
    assert [row["isSubscribed"] for row in listed] == [True]
    assert a.put(url, {"isSubscribed": False}).json()["isSubscribed"] is False
    assert not participants.is_subscribed(issue, alice)
    assert a.put(url, {"isSubscribed": "yes"}).status_code == 400


def test_bulk_assign_and_search_terms(client, project, alice, bob, team):
    one, two, three = make_issue(project), make_issue(project), make_issue(project)
    a = api(client, alice)
    base = f"/api/0/projects/{ORG}/{project.slug}/issues/"
    response = a.put(f"{base}?id={one.pk}&id={two.short_id}", {"assignedTo": "me"})
    assert response.status_code == 200 and response.json()["assignedTo"]["id"] == str(alice.pk)
    a.put(f"{base}?id={three.pk}", {"assignedTo": f"team:{team.pk}"})

    def found(query):
        return {row["id"] for row in a.get(base, query=query).json()}

    assert found("assigned:me") == {str(one.pk), str(two.pk)}
    assert found("assigned:alice@example.com") == {str(one.pk), str(two.pk)}
    assert found("assigned:#backend is:unresolved") == {str(three.pk)}
    assert found("is:assigned") == {str(one.pk), str(two.pk), str(three.pk)}
    assert found("is:unassigned") == set()
    assert found("assigned:bob") == set()
    rows = a.get(base, query="assigned:me").json()
    assert all(row["assignedTo"]["type"] == "user" for row in rows)
    # a bulk assignment by query, to nobody
    assert a.put(f"{base}?query=assigned:me", {"assignedTo": ""}).status_code == 200
    assert found("is:unassigned") == {str(one.pk), str(two.pk)}


def test_assignment_outside_the_project_is_400_and_another_projects_token_404(client, project, alice, mallory):
    issue = make_issue(project)
    url = f"/api/0/issues/{issue.pk}/"
    a = api(client, alice)
    for value, words in [
        ("mallory", "not a member"),
        (f"user:{mallory.pk}", "No member"),
        ("team:999", "not a team"),
        (["x"], "assignedTo must"),
    ]:
        response = a.put(url, {"assignedTo": value})
        assert response.status_code == 400 and words in response.json()["detail"], value
    response = a.put(url, {"status": "resolved", "assignedTo": "mallory"})
    assert response.status_code == 400
    issue.refresh_from_db()
    assert issue.assigned_user is None and not issue.is_resolved and not issue.turning_points.exists()

    m = api(client, mallory)
    assert m.get(url).status_code == 404
    assert m.put(url, {"assignedTo": "me"}).status_code == 404
    assert m.put(url, {"isSubscribed": True}).status_code == 404
    bulk = f"/api/0/organizations/{ORG}/issues/?id={issue.pk}"
    assert m.put(bulk, {"assignedTo": "me"}).status_code == 204  # none of the named issues is visible: nothing
    assert m.get(f"/api/0/organizations/{ORG}/issues/", query="assigned:alice").json() == []
    assert Issue.objects.get(pk=issue.pk).assigned_user is None

    reader = api(client, alice, scope=Scope.READ)
    assert reader.put(url, {"assignedTo": "me"}).status_code == 403


def test_a_comment_through_the_api_notifies_the_mentioned(client, project, alice, bob, transactional_db, mailoutbox):
    issue = make_issue(project)
    token = ApiToken.create_for(alice, "c", scope=Scope.WRITE)[1]
    response = client.post(
        f"/api/0/issues/{issue.pk}/comments/",
        json.dumps({"text": "@bob please look"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 201
    assert participants.is_subscribed(issue, bob) and participants.is_subscribed(issue, alice)
    assert jobs.wait_idle(20)
    assert [(m.to, m.subject) for m in mailoutbox] == [
        (["bob@example.com"], "[My App] You were mentioned MYAPP-1: ValueError: bad value")
    ]
