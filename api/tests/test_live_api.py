"""The API over real HTTP (the stdlib's urllib against a live server), with a token made on the preferences page in
Chromium; and the Swagger UI page rendering the schema in Chromium with nothing loaded from elsewhere."""

import json
import urllib.error
import urllib.request

import pytest

from api.models import ApiToken, Scope
from issues.models import Issue, TurningPoint
from projects.models import Project, ProjectMembership
from testing.browser import login
from testing.utils import make_issue


def call(url: str, token: str, method: str = "GET", body: dict | None = None) -> tuple[int, object]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


@pytest.fixture
def member(transactional_db, django_user_model):
    user = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    project = Project.objects.create(name="Shop", slug="shop")
    ProjectMembership.objects.create(project=project, user=user)
    return user, project


def test_triage_over_http(live_server_url, member):
    user, project = member
    issue = make_issue(project)
    _, token = ApiToken.create_for(user, "script", scope=Scope.WRITE)
    base = f"{live_server_url}/api/0"

    status, listed = call(f"{base}/projects/main/shop/issues/?query=is:unresolved", token)
    assert status == 200 and [i["shortId"] for i in listed] == ["SHOP-1"]
    status, resolved = call(f"{base}/issues/SHOP-1/", token, "PUT", {"status": "resolvedInNextRelease"})
    assert status == 200 and resolved["statusDetails"] == {"inNextRelease": True}
    issue.refresh_from_db()
    assert issue.is_resolved_by_next_release
    assert issue.turning_points.get(kind=TurningPoint.Kind.RESOLVED).user == user
    status, comment = call(f"{base}/issues/{issue.pk}/comments/", token, "POST", {"text": "deployed"})
    assert status == 201 and comment["user"]["username"] == "ann"
    status, body = call(f"{base}/issues/{issue.pk}/", token, "PUT", {"status": "ignored", "x": 1})
    assert status == 400 and "x" in body["detail"]
    status, body = call(f"{base}/issues/{issue.pk}/", "sntryu_" + "0" * 64)
    assert status == 401 and body["detail"]


def test_token_made_in_the_browser_works_and_the_docs_page_stays_local(live_server_url, member, chromium_page):
    user, project = member
    make_issue(project)
    page = chromium_page
    elsewhere = []
    page.on("request", lambda r: None if r.url.startswith(live_server_url) else elsewhere.append(r.url))
    login(page, live_server_url, "ann", "pw")

    page.get_by_role("link", name="Tokens").click()
    page.get_by_label("Name").fill("laptop")
    page.get_by_label("Read: projects, issues, events, releases").check()
    page.get_by_role("button", name="Create token").click()
    token = page.locator("#new-token").inner_text().strip()
    assert ApiToken.objects.get(user=user).scope == Scope.READ
    status, listed = call(f"{live_server_url}/api/0/organizations/main/issues/?query=", token)
    assert status == 200 and listed[0]["shortId"] == "SHOP-1"
    status, _ = call(f"{live_server_url}/api/0/issues/SHOP-1/", token, "PUT", {"status": "resolved"})
    assert status == 403
    assert not Issue.objects.get().is_resolved

    page.goto(f"{live_server_url}/api/0/docs/")
    page.get_by_text("/api/0/issues/{issue_id}/events/", exact=True).first.wait_for()
    assert page.get_by_role("button", name="Authorize").count() == 1
    assert elsewhere == []
