"""Merge, unmerge and reprocess in a real browser (Debian's Chromium through Playwright, against our live web server,
events sent through its ingest endpoint): select two issues, Merge; the survivor's History tab names the merged
issue and lists both groupings; Unmerge splits one off again; Reprocess shows its request, then its result."""

import urllib.request

import pytest

from issues.models import Issue, TurningPoint
from projects.models import ProjectMembership
from testing.browser import login
from testing.utils import auth_header, exception_event, make_envelope, wait_until

pytestmark = [pytest.mark.live, pytest.mark.slow]


def send(url: str, project, event: dict) -> None:
    ((name, value),) = auth_header(project).items()
    request = urllib.request.Request(
        f"{url}/api/{project.pk}/envelope/",
        data=make_envelope(event),
        headers={"Content-Type": "application/x-sentry-envelope", "X-Sentry-Auth": value},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200


@pytest.fixture
def logged_in(chromium_page, live_server_url, django_user_model, project):
    user = django_user_model.objects.create_user("mia", "mia@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user, role=ProjectMembership.Role.MEMBER)
    login(chromium_page, live_server_url, "mia", "pw")
    return chromium_page


def test_bulk_merge_then_unmerge_and_reprocess(transactional_db, live_server_url, logged_in, project):
    for _ in range(3):
        send(live_server_url, project, exception_event("KeyError", "missing key"))
    send(live_server_url, project, exception_event("ValueError", "bad value"))
    wait_until(lambda: Issue.objects.filter(project=project, event_count__gte=1).count() == 2, message="two issues")
    big = Issue.objects.get(calculated_type="KeyError")
    small = Issue.objects.get(calculated_type="ValueError")

    page = logged_in
    page.goto(f"{live_server_url}/projects/{project.pk}/issues/")
    merge = page.locator('button[value="merge"]')
    assert merge.is_disabled()
    page.locator("[data-select-all]").check()
    with page.expect_navigation():
        merge.click()
    assert f"Merging {small.short_id} into {big.short_id}" in page.locator(".messages").inner_text()
    wait_until(lambda: Issue.objects.filter(project=project).count() == 1, message="the merge job")
    big.refresh_from_db()
    assert big.event_count == 4

    page.goto(f"{live_server_url}/issues/{big.pk}/history/")
    history = page.locator(".timeline").inner_text()
    assert "Merged issues into this one" in history and f"{small.short_id}: ValueError: bad value" in history
    assert f"into {big.short_id}" in history  # the merged issue's own entry came along
    groupings = page.locator("[data-grouping]")
    assert groupings.count() == 2

    # unmerge the ValueError grouping (after the confirmation the page's script asks for)
    page.on("dialog", lambda dialog: dialog.accept())
    row = groupings.filter(has_text="ValueError")
    with page.expect_navigation():
        row.locator("button", has_text="Unmerge").click()
    assert "Splitting the grouping" in page.locator(".messages").inner_text()
    wait_until(lambda: Issue.objects.filter(project=project).count() == 2, message="the unmerge job")
    split = Issue.objects.exclude(pk=big.pk).get(project=project)
    assert split.title() == "ValueError: bad value" and split.event_count == 1
    big.refresh_from_db()
    assert big.event_count == 3

    # reprocess: the request shows at once, the result once the job ran
    page.goto(f"{live_server_url}/issues/{big.pk}/history/")
    with page.expect_navigation():
        page.locator("[data-reprocess]").click()
    assert "Reprocessing the issue's events" in page.locator(".messages").inner_text()
    wait_until(lambda: big.turning_points.filter(kind=TurningPoint.Kind.REPROCESSED).exists(), message="reprocessing")
    page.goto(f"{live_server_url}/issues/{big.pk}/history/")
    assert "3 events symbolicated and grouped again" in page.locator(".timeline").inner_text()
    assert page.locator("[data-reprocess]").is_enabled()
