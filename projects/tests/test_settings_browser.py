"""Project settings in Debian's Chromium against the live server: rotating the DSN key (the old one keeps working
for its grace period, then a revoke ends it: checked through the real envelope endpoint of that server), editing
the slug (short ids follow), and deleting the project after typing its name."""

import urllib.error
import urllib.request
import uuid

import pytest

from projects.models import Project, ProjectKey, ProjectMembership
from testing.browser import login
from testing.utils import exception_event, make_envelope

pytestmark = [pytest.mark.live, pytest.mark.slow]


def ingest(base_url: str, project_id: int, key: str) -> int:
    request = urllib.request.Request(
        f"{base_url}/api/{project_id}/envelope/",
        data=make_envelope(exception_event(), event_id=uuid.uuid4().hex),
        headers={
            "Content-Type": "application/x-sentry-envelope",
            "X-Sentry-Auth": f"Sentry sentry_version=7, sentry_key={key}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def admin_page(chromium_page, live_server_url, django_user_model, project):
    user = django_user_model.objects.create_user("olivia", "olivia@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user, role="admin")
    login(chromium_page, live_server_url, "olivia", "pw")
    return chromium_page


def test_rotate_then_revoke_the_old_key(transactional_db, live_server_url, admin_page, project, settings):
    page = admin_page
    old = project.sentry_key
    page.goto(f"{live_server_url}/projects/{project.pk}/settings/")
    with page.expect_navigation():
        page.get_by_role("navigation", name="Project settings").get_by_role("link", name="DSN keys").click()
    assert old in page.locator("[data-current-key]").inner_text()
    assert page.get_by_label("Old key keeps working for").input_value() == "24"
    page.get_by_label("Old key keeps working for").fill("2")
    with page.expect_navigation():
        page.get_by_role("button", name="Rotate key").click()
    assert "The old key keeps working for 2 h" in page.locator(".messages").inner_text()
    new = Project.objects.get(pk=project.pk).sentry_key
    assert new != old and new in page.locator("[data-current-key]").inner_text()
    row = page.locator(f'tr[data-key="{old}"]')
    assert "(grace period)" in row.inner_text()
    # the live server (its own process, its own copy of the keys) takes both now
    assert ingest(live_server_url, project.pk, new) == 200
    assert ingest(live_server_url, project.pk, old) == 200
    with page.expect_navigation():
        row.get_by_role("button", name=f"Revoke key {old}").click()
    assert f"Key {old} revoked" in page.content()
    assert ProjectKey.objects.get(public_key=old).revoked_at is not None
    assert old in page.locator("[data-ended-keys]").inner_text()
    # refused by the server within its cache's lifetime (INGEST_PROJECT_CACHE_SECONDS, 5 s by default)
    deadline = 40
    status = None
    for _ in range(deadline):
        status = ingest(live_server_url, project.pk, old)
        if status == 403:
            break
        page.wait_for_timeout(500)
    assert status == 403
    assert ingest(live_server_url, project.pk, new) == 200
    assert page.console_watch.errors == []


def test_edit_the_slug_then_delete_the_project(transactional_db, live_server_url, admin_page, project, send_event):
    send_event(project, exception_event("ValueError", "boom"))
    page = admin_page
    page.goto(f"{live_server_url}/projects/{project.pk}/settings/")
    page.get_by_label("Slug").fill("web shop")
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    assert "letters, numbers, underscores or hyphens" in page.content()
    page.get_by_label("Slug").fill("web-shop")
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    assert "Short ids now start with WEB-SHOP-" in page.content()
    page.goto(f"{live_server_url}/projects/{project.pk}/issues/")
    assert page.locator("tr[data-issue-row] .il-short").first.inner_text() == "WEB-SHOP-1"

    page.goto(f"{live_server_url}/projects/{project.pk}/settings/")
    with page.expect_navigation():
        page.locator("[data-delete-project-link]").click()
    field = page.get_by_label("Type the project's name to confirm")
    field.fill("my app")
    with page.expect_navigation():
        page.get_by_role("button", name="Delete this project").click()
    assert "nothing was deleted" in page.content()
    assert not Project.objects.get(pk=project.pk).is_deleting
    page.get_by_label("Type the project's name to confirm").fill("My App")
    with page.expect_navigation():
        page.get_by_role("button", name="Delete this project").click()
    assert page.url.endswith("/projects/")
    assert "Deleting project My App" in page.content()
    # the server's background job deletes it (the embedded mode's job thread)
    for _ in range(60):
        if not Project.objects.filter(pk=project.pk).exists():
            break
        page.wait_for_timeout(500)
    assert not Project.objects.filter(pk=project.pk).exists()
    # the one error: the wrong name's 400, which Chromium logs as a failed load
    unexpected = [e for e in page.console_watch.errors if "status of 400" not in e or "/settings/delete/" not in e]
    assert unexpected == []
