"""Issues through /api/0/: lists with search, sort and pagination, one issue, Sentry's status updates (checked on
the Issue row and its turning points), bulk updates and deletes, comments, scopes and visibility."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from api.models import ApiToken, Scope
from bugsink import jobs
from issues.models import Issue, TurningPoint
from projects.models import Project, ProjectMembership, Role
from releases.models import Release
from testing.utils import exception_event, make_issue

ORG = "main"


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def alice(db, project):
    user = get_user_model().objects.create_user("alice", "alice@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user, role=Role.MEMBER)
    return user


@pytest.fixture
def token(alice):
    return ApiToken.create_for(alice, "write", scope=Scope.WRITE)[1]


@pytest.fixture
def api(client, token):
    """GET/PUT/POST/DELETE with alice's write token; bodies as JSON."""

    class Api:
        def __init__(self, token):
            self.token = token

        def get(self, url, **kw):
            return client.get(url, **bearer(self.token), **kw)

        def put(self, url, body=None):
            return client.put(url, json.dumps(body or {}), content_type="application/json", **bearer(self.token))

        def post(self, url, body=None):
            return client.post(url, json.dumps(body or {}), content_type="application/json", **bearer(self.token))

        def delete(self, url):
            return client.delete(url, **bearer(self.token))

        def using(self, other_token):
            return Api(other_token)

    return Api(token)


def last_point(issue: Issue) -> TurningPoint:
    return issue.turning_points.order_by("-timestamp", "-id").first()


def kinds(issue: Issue) -> list[str]:
    return list(issue.turning_points.order_by("timestamp", "id").values_list("kind", flat=True))


def test_no_token_is_401_and_read_token_cannot_update(client, project, alice, send_event):
    send_event(project, exception_event())
    issue = Issue.objects.get()
    assert client.get(f"/api/0/issues/{issue.pk}/").status_code == 401
    read = ApiToken.create_for(alice, "read", scope=Scope.READ)[1]
    assert client.get(f"/api/0/issues/{issue.pk}/", **bearer(read)).status_code == 200
    response = client.put(
        f"/api/0/issues/{issue.pk}/", '{"status": "resolved"}', content_type="application/json", **bearer(read)
    )
    assert response.status_code == 403 and response.json()["detail"]
    issue.refresh_from_db()
    assert not issue.is_resolved


def test_issue_shape(api, project, send_event, settings):
    send_event(project, exception_event("KeyError", "'user_id'\nmore", level="warning"))
    issue = Issue.objects.get()
    data = api.get(f"/api/0/issues/{issue.pk}/").json()
    assert data["id"] == str(issue.pk) and data["shortId"] == "MYAPP-1"
    assert data["title"] == "KeyError: 'user_id'"
    assert data["metadata"] == {"type": "KeyError", "value": "'user_id'", "title": "KeyError: 'user_id'"}
    assert data["permalink"] == f"{settings.BASE_URL}/issues/{issue.pk}/"
    assert data["status"] == "unresolved" and data["substatus"] == "new" and data["statusDetails"] == {}
    assert data["level"] == "warning" and data["platform"] == "python" and data["type"] == "error"
    assert data["project"] == {"id": str(project.pk), "name": "My App", "slug": "myapp"}
    assert data["count"] == "1" and data["userCount"] == 0 and data["numComments"] == 0
    assert data["firstSeen"].endswith("Z") and data["lastSeen"] == data["firstSeen"]
    assert data["isBookmarked"] is False and data["annotations"] == [] and data["assignedTo"] is None
    # the short id and the organization's path find it too
    assert api.get("/api/0/issues/MYAPP-1/").json()["id"] == str(issue.pk)
    assert api.get(f"/api/0/organizations/{ORG}/issues/myapp-1/").json()["id"] == str(issue.pk)
    assert api.get(f"/api/0/organizations/{ORG}/issues/{issue.pk.hex.upper()}/").status_code == 200
    assert api.get("/api/0/organizations/elsewhere/issues/MYAPP-1/").status_code == 404


def test_other_projects_issues_are_404(api, project, send_event):
    other = Project.objects.create(name="Other", slug="other")
    send_event(other, exception_event())
    theirs = Issue.objects.get(project=other)
    for url in (f"/api/0/issues/{theirs.pk}/", "/api/0/issues/OTHER-1/", f"/api/0/issues/{theirs.pk}/comments/"):
        assert api.get(url).status_code == 404, url
    assert api.put(f"/api/0/issues/{theirs.pk}/", {"status": "resolved"}).status_code == 404
    assert api.get(f"/api/0/projects/{ORG}/other/issues/").status_code == 404
    assert api.get("/api/0/issues/not-an-id/").status_code == 404
    theirs.refresh_from_db()
    assert not theirs.is_resolved


def test_list_search_sort_and_states(api, project, send_event):
    send_event(project, exception_event("ValueError", "one", tags={"customer": "acme"}))
    for _ in range(3):
        send_event(project, exception_event("KeyError", "two", frames=[{"filename": "b.py", "function": "g"}]))
    send_event(project, exception_event("TypeError", "three", frames=[{"filename": "c.py", "function": "h"}]))
    one, two, three = (Issue.objects.get(calculated_value=v) for v in ("one", "two", "three"))
    url = f"/api/0/projects/{ORG}/myapp/issues/"
    assert [i["shortId"] for i in api.get(url).json()] == [three.short_id, two.short_id, one.short_id]
    assert [i["shortId"] for i in api.get(url + "?sort=freq").json()][0] == two.short_id
    assert [i["shortId"] for i in api.get(url + "?sort=new").json()][0] == three.short_id
    assert [i["title"] for i in api.get(url + "?query=customer:acme").json()] == ["ValueError: one"]
    assert [i["title"] for i in api.get(url, data={"query": "KeyError"}).json()] == ["KeyError: two"]

    assert api.put(f"/api/0/issues/{one.pk}/", {"status": "resolved"}).status_code == 200
    assert api.put(f"/api/0/issues/{two.pk}/", {"status": "ignored"}).status_code == 200
    assert [i["title"] for i in api.get(url).json()] == ["TypeError: three"]  # default: is:unresolved
    assert [i["status"] for i in api.get(url + "?query=is:ignored").json()] == ["ignored"]
    assert [i["status"] for i in api.get(url + "?query=is:resolved").json()] == ["resolved"]
    assert len(api.get(url + "?query=").json()) == 3
    org_url = f"/api/0/organizations/{ORG}/issues/"
    assert len(api.get(org_url, data={"project": project.pk, "query": ""}).json()) == 3
    assert api.get(org_url, data={"project": "x"}).status_code == 400
    assert len(api.get(org_url, data={"project": "-1", "query": "", "limit": 2}).json()) == 2
    assert api.get(org_url, data={"project": project.pk + 1, "query": ""}).json() == []

    for bad in ("?sort=priority", "?query=is:sleeping", "?query=level:"):
        response = api.get(url + bad)
        assert response.status_code == 400 and response.json()["detail"], bad


def test_pagination_walks_every_issue(api, project):
    for i in range(7):
        make_issue(project, event_count=i + 1)
    url, seen = f"/api/0/projects/{ORG}/myapp/issues/?per_page=3&sort=freq", []
    for _ in range(10):
        response = api.get(url)
        seen += [i["count"] for i in response.json()]
        next_link = [part for part in response["Link"].split(", ") if 'rel="next"' in part][0]
        if 'results="true"' not in next_link:
            break
        url = next_link.split(">")[0].lstrip("<").replace("http://testserver", "")
    assert seen == ["7", "6", "5", "4", "3", "2", "1"]


def test_resolve_variants_on_the_row_and_the_history(api, project, alice, send_event):
    send_event(project, exception_event(release="1.0"))
    send_event(project, exception_event("Other", frames=[{"filename": "x.py", "function": "f"}], release="2.0"))
    issue = Issue.objects.get(calculated_type="ValueError")
    url = f"/api/0/issues/{issue.pk}/"

    data = api.put(url, {"status": "resolved"}).json()
    issue.refresh_from_db()
    assert issue.is_resolved and not issue.fixed_at and data["status"] == "resolved"
    point = issue.turning_points.get(kind=TurningPoint.Kind.RESOLVED)
    assert point.user == alice
    # the same again changes nothing (Sentry's PUT is idempotent)
    assert api.put(url, {"status": "resolved"}).status_code == 200
    assert kinds(issue).count("resolved") == 1

    data = api.put(url, {"status": "unresolved"}).json()
    issue.refresh_from_db()
    assert not issue.is_resolved and data["status"] == "unresolved" and kinds(issue)[-1] == "reopened"

    data = api.put(url, {"status": "resolved", "statusDetails": {"inNextRelease": True}}).json()
    issue.refresh_from_db()
    assert issue.is_resolved_by_next_release and data["statusDetails"] == {"inNextRelease": True}
    api.put(url, {"status": "unresolved"})
    data = api.put(url, {"status": "resolvedInNextRelease"}).json()
    assert data["statusDetails"] == {"inNextRelease": True}
    api.put(url, {"status": "unresolved"})

    data = api.put(url, {"status": "resolved", "statusDetails": {"inRelease": "1.0"}}).json()
    issue.refresh_from_db()
    assert issue.fixed_at == ["1.0"] and data["statusDetails"] == {"inRelease": "1.0"}
    assert issue.turning_points.filter(kind="resolved", metadata__release="1.0").exists()
    api.put(url, {"status": "unresolved"})
    data = api.put(url, {"status": "resolved", "statusDetails": {"inRelease": "latest"}}).json()
    issue.refresh_from_db()
    assert issue.fixed_at == ["2.0"] and data["statusDetails"] == {"inRelease": "2.0"}
    assert last_point(issue).metadata == {"release": "2.0"} and last_point(issue).user == alice

    response = api.put(url, {"status": "resolved", "statusDetails": {"inRelease": "9.9"}})
    assert response.status_code == 400 and "9.9" in response.json()["detail"]
    assert Release.objects.filter(project=project).count() == 2


def test_mute_variants(api, project, alice, send_event):
    send_event(project, exception_event())
    issue = Issue.objects.get()
    url = f"/api/0/issues/{issue.pk}/"

    data = api.put(url, {"status": "ignored", "statusDetails": {}, "substatus": "archived_forever"}).json()
    issue.refresh_from_db()
    assert issue.is_muted and issue.unmute_after is None and not issue.unmute_on_volume_based_conditions
    assert data["status"] == "ignored" and data["substatus"] == "archived_forever"
    assert kinds(issue)[-1] == "muted"
    data = api.put(url, {"status": "unresolved"}).json()
    issue.refresh_from_db()
    assert not issue.is_muted and kinds(issue)[-1] == "unmuted" and data["status"] == "unresolved"

    before = timezone.now()
    data = api.put(url, {"status": "ignored", "statusDetails": {"ignoreDuration": 30}}).json()
    issue.refresh_from_db()
    assert before + timedelta(minutes=29) < issue.unmute_after < timezone.now() + timedelta(minutes=31)
    assert data["statusDetails"]["ignoreUntil"] and data["substatus"] == "archived_until_condition_met"
    muted = last_point(issue)
    assert muted.kind == "muted" and muted.user == alice and muted.metadata == {"until": issue.unmute_after.isoformat()}
    api.put(url, {"status": "unresolved"})
    assert last_point(issue).kind == "unmuted" and last_point(issue).user == alice

    data = api.put(url, {"status": "ignored", "statusDetails": {"ignoreUntil": "2099-01-02T03:04:05Z"}}).json()
    issue.refresh_from_db()
    assert issue.unmute_after.isoformat() == "2099-01-02T03:04:05+00:00"
    api.put(url, {"status": "unresolved"})

    for window, condition in [
        (30, {"period": "minute", "nr_of_periods": 30, "volume": 5}),
        (120, {"period": "hour", "nr_of_periods": 2, "volume": 5}),
        (2880, {"period": "day", "nr_of_periods": 2, "volume": 5}),
        (1440 * 62, {"period": "day", "nr_of_periods": 62, "volume": 5}),
    ]:
        data = api.put(url, {"status": "ignored", "statusDetails": {"ignoreCount": 5, "ignoreWindow": window}})
        issue.refresh_from_db()
        assert issue.unmute_on_volume_based_conditions == [condition], window
        assert data.json()["statusDetails"]["ignoreCount"] == 5
        assert data.json()["statusDetails"]["ignoreWindow"] == window
        muted = last_point(issue)
        assert muted.kind == "muted" and muted.user == alice and muted.metadata["conditions"] == [condition]
        api.put(url, {"status": "unresolved"})


@pytest.mark.parametrize(
    "body, words",
    [
        ({"status": "ignored", "statusDetails": {"ignoreCount": 5, "ignoreWindow": 90}}, "ignoreWindow"),
        ({"status": "ignored", "statusDetails": {"ignoreCount": 5, "ignoreWindow": 1440 * 63}}, "62 days"),
        ({"status": "ignored", "statusDetails": {"ignoreCount": 5}}, "ignoreWindow"),
        ({"status": "ignored", "statusDetails": {"ignoreUserCount": 5, "ignoreUserWindow": 60}}, "users"),
        ({"status": "ignored", "statusDetails": {"ignoreDuration": 0}}, "ignoreDuration"),
        ({"status": "ignored", "statusDetails": {"ignoreDuration": True}}, "ignoreDuration"),
        ({"status": "ignored", "statusDetails": {"ignoreDuration": "9" * 40}}, "ignoreDuration"),
        ({"status": "ignored", "statusDetails": {"ignoreUntil": "tomorrow"}}, "ISO 8601"),
        ({"status": "ignored", "statusDetails": {"ignoreUntil": "2001-01-01T00:00:00Z"}}, "future"),
        ({"status": "ignored", "statusDetails": {"ignoreUntil": "9999-12-31T23:59:59-05:00"}}, "9999"),
        ({"status": "ignored", "statusDetails": {"ignoreUntil": "2099-13-01T00:00:00Z"}}, "ISO 8601"),
        ({"status": "ignored", "statusDetails": {"ignoreUntil": 4102444800}}, "ISO 8601"),
        ({"status": "ignored", "statusDetails": []}, "object"),
        ({"status": "sleeping"}, "status must be"),
        ({"status": "ignored", "statusDetails": {"ignoreCount": "\u00b2", "ignoreWindow": 60}}, "ignoreCount must"),
        ({"status": "ignored", "statusDetails": {"ignoreCount": 5, "ignoreWindow": 61}}, "ignoreWindow must be a"),
        ({}, "status must be"),
        ({"status": "resolved", "assignedTo": "nobody-here"}, "not a member"),
        ({"status": "resolved", "assignedTo": ["me"]}, "assignedTo must"),
        ({"isSubscribed": "yes"}, "isSubscribed must"),
        ({"status": "ignored", "substatus": "archived_until_escalating"}, "ignoreCount"),
        ({"status": "ignored", "substatus": "ongoing"}, "archived_forever"),
        ({"status": "resolved", "substatus": "ongoing"}, "none"),
        ({"status": "resolved", "statusDetails": {"inCommit": "abc"}}, "inCommit"),
        ({"status": "resolved", "statusDetails": {"inNextRelease": "yes"}}, "inNextRelease"),
        ({"status": "resolved", "statusDetails": {"inRelease": ["1"]}}, "inRelease"),
        ({"status": "resolved", "statusDetails": {"inRelease": "latest"}}, "no releases"),
        ([1, 2], "JSON object"),
    ],
)
def test_bad_updates_are_400_and_change_nothing(api, project, send_event, body, words):
    send_event(project, exception_event())
    issue = Issue.objects.get()
    response = api.put(f"/api/0/issues/{issue.pk}/", body)
    assert response.status_code == 400, response.content
    assert words in response.json()["detail"]
    issue.refresh_from_db()
    assert not issue.is_resolved and not issue.is_muted and kinds(issue) == ["first_seen"]


@pytest.mark.parametrize("body", ["{nope", "[" * 100_000 + "]" * 100_000, ""])
def test_malformed_json_body_is_400(client, project, token, send_event, body):
    send_event(project, exception_event())
    issue = Issue.objects.get()
    response = client.put(f"/api/0/issues/{issue.pk}/", body, content_type="application/json", **bearer(token))
    assert response.status_code == 400 and response.json()["detail"]


@pytest.mark.parametrize(
    "fields, body, changes",
    [
        ({}, {"status": "unresolved"}, False),
        ({"is_muted": True}, {"status": "unresolved"}, True),
        ({"is_resolved": True}, {"status": "resolved"}, False),
        ({"is_resolved": True}, {"status": "resolvedInNextRelease"}, True),
        ({"is_resolved": True, "is_resolved_by_next_release": True}, {"status": "resolvedInNextRelease"}, False),
        ({"is_resolved": True, "is_resolved_by_next_release": True}, {"status": "resolved"}, True),
    ],
)
def test_an_update_is_done_already_exactly_when_the_issue_page_does_not_offer_it(
    api, client, project, alice, fields, body, changes
):
    """issues.state.allowed_actions serves both: the API leaves alone what the page would not offer as a button."""
    issue = make_issue(project, **fields)
    client.force_login(alice)
    page = client.get(reverse("issue:tags", args=[issue.pk])).content.decode()
    before = issue.turning_points.count()
    assert api.put(f"/api/0/issues/{issue.pk}/", body).status_code == 200
    assert (issue.turning_points.count() > before) == changes
    if body["status"] == "unresolved":
        action = "reopen" if fields.get("is_resolved") else "unmute"
    else:
        action = "resolve_by_next" if body["status"] == "resolvedInNextRelease" else "resolve"
    assert (f'name="action" value="{action}"' in page) == changes


def test_a_resolved_issue_cannot_be_ignored(api, project, send_event):
    send_event(project, exception_event())
    issue = Issue.objects.get()
    api.put(f"/api/0/issues/{issue.pk}/", {"status": "resolved"})
    response = api.put(f"/api/0/issues/{issue.pk}/", {"status": "ignored"})
    assert response.status_code == 400 and "reopen it first" in response.json()["detail"]


def test_bulk_update_by_id_and_by_query(api, project):
    issues = [make_issue(project) for _ in range(4)]
    url = f"/api/0/projects/{ORG}/myapp/issues/"
    response = api.put(f"{url}?id={issues[0].pk}&id={issues[1].short_id}", {"status": "resolved"})
    assert response.status_code == 200 and response.json() == {"status": "resolved", "statusDetails": {}}
    assert [i.is_resolved for i in Issue.objects.order_by("number")] == [True, True, False, False]

    response = api.put(f"{url}?status=unresolved", {"status": "ignored", "statusDetails": {"ignoreDuration": 60}})
    assert response.json() == {"status": "ignored", "statusDetails": {"ignoreDuration": 60}}
    assert [i.is_muted for i in Issue.objects.order_by("number")] == [False, False, True, True]
    assert all(kinds(i)[-1] == "muted" for i in Issue.objects.filter(is_muted=True))

    # ignoring resolved issues is refused per issue and said so; the others are changed
    response = api.put(f"{url}?query=", {"status": "ignored"})
    assert sorted(response.json()["skipped"]) == ["MYAPP-1", "MYAPP-2"]

    response = api.put(f"{url}?query=is:ignored", {"status": "unresolved"})
    assert response.status_code == 200
    assert not Issue.objects.filter(is_muted=True).exists()

    assert api.put(f"{url}?id=MYAPP-99", {"status": "resolved"}).status_code == 204
    for bad in ("", "?id=nonsense", "?status=sleeping", "?" + "&".join(["id=MYAPP-1"] * 101)):
        response = api.put(url + bad, {"status": "resolved"})
        assert response.status_code == 400 and response.json()["detail"], bad


def test_bulk_update_does_not_reach_other_projects(api, project):
    other = Project.objects.create(name="Other", slug="other")
    theirs = make_issue(other)
    mine = make_issue(project)
    url = f"/api/0/projects/{ORG}/myapp/issues/?id={theirs.pk}&id={mine.pk}"
    assert api.put(url, {"status": "resolved"}).status_code == 200
    theirs.refresh_from_db()
    mine.refresh_from_db()
    assert mine.is_resolved and not theirs.is_resolved
    org_url = f"/api/0/organizations/{ORG}/issues/?id={theirs.pk}"
    assert api.put(org_url, {"status": "resolved"}).status_code == 204


def test_delete_needs_admin_scope_and_project_admin(api, project, alice, transactional_db):
    issue = make_issue(project)
    url = f"/api/0/issues/{issue.pk}/"
    assert api.delete(url).status_code == 403  # write token
    admin_token = ApiToken.create_for(alice, "admin", scope=Scope.ADMIN)[1]
    response = api.using(admin_token).delete(url)
    assert response.status_code == 403 and "admin" in response.json()["detail"]  # alice is a member only
    other = Project.objects.create(name="Other", slug="other")
    theirs = make_issue(other)
    assert api.using(admin_token).delete(f"/api/0/issues/{theirs.pk}/").status_code == 404
    ProjectMembership.objects.filter(user=alice).update(role=Role.ADMIN)
    assert api.using(admin_token).delete(url).status_code == 202
    assert jobs.wait_idle(20), "the deletion job finished"
    assert not Issue.objects.filter(pk=issue.pk).exists()  # the deletion job ran
    assert Issue.objects.filter(pk=theirs.pk).exists()


def test_bulk_delete(api, project, alice, transactional_db):
    keep, gone = make_issue(project), make_issue(project)
    admin_token = ApiToken.create_for(alice, "admin", scope=Scope.ADMIN)[1]
    url = f"/api/0/projects/{ORG}/myapp/issues/?id={gone.short_id}"
    assert api.using(admin_token).delete(url).status_code == 403
    ProjectMembership.objects.filter(user=alice).update(role=Role.ADMIN)
    assert api.using(admin_token).delete(url).status_code == 204
    assert jobs.wait_idle(20), "the deletion job finished"
    assert list(Issue.objects.values_list("pk", flat=True)) == [keep.pk]


def test_comments(api, project, alice, send_event):
    send_event(project, exception_event())
    issue = Issue.objects.get()
    url = f"/api/0/issues/{issue.pk}/comments/"
    response = api.post(url, {"text": "  looking into it  "})
    assert response.status_code == 201
    assert response.json()["data"] == {"text": "looking into it"} and response.json()["type"] == "note"
    point = issue.turning_points.get(kind=TurningPoint.Kind.COMMENT)
    assert point.user == alice and point.comment == "looking into it"
    api.post(url, {"text": "fixed in \x00 main \ud800"})
    listed = api.get(url).json()
    assert [c["data"]["text"] for c in listed] == ["fixed in \ufffd main \ufffd", "looking into it"]
    assert listed[0]["user"]["username"] == "alice"
    assert api.get(f"/api/0/issues/{issue.pk}/").json()["numComments"] == 2
    assert api.get(f"/api/0/projects/{ORG}/myapp/issues/").json()[0]["numComments"] == 2
    for bad in ({"text": ""}, {"text": 5}, {}, {"text": "x" * 10_001}):
        response = api.post(url, bad)
        assert response.status_code == 400 and response.json()["detail"], bad
    read = ApiToken.create_for(alice, "read", scope=Scope.READ)[1]
    assert api.using(read).post(url, {"text": "hi"}).status_code == 403
    assert issue.turning_points.filter(kind=TurningPoint.Kind.COMMENT).count() == 2


def test_script_flow_list_resolve_then_mute_until_volume(api, project, send_event):
    """What a triage script does: list the open issues, resolve one, mute another until it gets loud again; the
    mute ends when events arrive through ingest."""
    send_event(project, exception_event("ValueError", "first"))
    send_event(project, exception_event("KeyError", "second", frames=[{"filename": "b.py", "function": "g"}]))
    listed = api.get(f"/api/0/projects/{ORG}/myapp/issues/?query=is:unresolved").json()
    by_title = {i["title"]: i for i in listed}
    assert set(by_title) == {"ValueError: first", "KeyError: second"}

    assert api.put(f"/api/0/issues/{by_title['ValueError: first']['id']}/", {"status": "resolved"}).status_code == 200
    loud = by_title["KeyError: second"]
    body = {"status": "ignored", "statusDetails": {"ignoreCount": 3, "ignoreWindow": 120}}
    muted = api.put(f"/api/0/issues/{loud['id']}/", body).json()
    assert muted["status"] == "ignored"
    assert muted["statusDetails"]["unmuteConditions"][0]["description"] == "3 events in the last 2 hours"
    issue = Issue.objects.get(pk=loud["id"])
    assert issue.unmute_on_volume_based_conditions == [{"period": "hour", "nr_of_periods": 2, "volume": 3}]

    second = exception_event("KeyError", "second", frames=[{"filename": "b.py", "function": "g"}])
    send_event(project, second)
    assert api.get(f"/api/0/issues/{loud['id']}/").json()["status"] == "ignored"  # 2 of 3
    send_event(project, second)
    after = api.get(f"/api/0/issues/{loud['id']}/").json()
    assert after["status"] == "unresolved" and after["count"] == "3"
    issue.refresh_from_db()
    assert not issue.is_muted
    assert issue.turning_points.get(kind="unmuted").metadata == {"reason": "3 events in the last 2 hours"}
    assert [i["title"] for i in api.get(f"/api/0/projects/{ORG}/myapp/issues/").json()] == ["KeyError: second"]


def test_list_queries_are_bounded(api, project, django_assert_max_num_queries):
    for _ in range(30):
        issue = make_issue(project)
        issue.turning_points.create(kind=TurningPoint.Kind.COMMENT, timestamp=timezone.now(), comment="x")
    # token, last-used update, project, the page (comment counts in it), nothing per issue
    with django_assert_max_num_queries(6):
        response = api.get(f"/api/0/projects/{ORG}/myapp/issues/?per_page=30")
    assert len(response.json()) == 30 and all(i["numComments"] == 1 for i in response.json())
    with django_assert_max_num_queries(6):
        assert len(api.get(f"/api/0/organizations/{ORG}/issues/?per_page=30").json()) == 30


EVENT_ID = "7e0bc0b3a8d24f8c9d3d1c0de0a1b2c3"


def test_an_issue_being_deleted_is_gone_for_the_api(api, project, send_event):
    send_event(project, exception_event(event_id=EVENT_ID))
    doomed, kept = Issue.objects.get(), make_issue(project)
    Issue.objects.filter(pk=doomed.pk).update(is_deleting=True)  # what DELETE leaves until the job has run
    assert api.get(f"/api/0/projects/{ORG}/myapp/events/{EVENT_ID}/").status_code == 404
    assert api.get(f"/api/0/issues/{doomed.pk}/").status_code == 404
    assert api.get(f"/api/0/issues/{doomed.pk}/events/").status_code == 404
    listed = api.get(f"/api/0/projects/{ORG}/myapp/issues/?query=").json()
    assert [i["id"] for i in listed] == [str(kept.pk)]
    assert api.put(f"/api/0/projects/{ORG}/myapp/issues/?id={doomed.pk}", {"status": "resolved"}).status_code == 204


def test_environment_filter(api, project, send_event):
    send_event(project, exception_event("ValueError", "prod only", environment="production"))
    send_event(project, exception_event("KeyError", "staging", frames=[{"filename": "b.py"}], environment="staging"))
    url = f"/api/0/projects/{ORG}/myapp/issues/"
    assert [i["title"] for i in api.get(url, data={"environment": "production"}).json()] == ["ValueError: prod only"]
    both = api.get(url, data={"environment": ["production", "staging"]}).json()
    assert len(both) == 2
    assert api.get(url, data={"environment": "nowhere\x00"}).json() == []
