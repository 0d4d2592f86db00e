"""The monitor mute switch in a real browser (Debian's Chromium through Playwright, against our live web server):
muting a monitor on the Monitors page shows it muted, its failure then opens no issue; unmuting on the monitor's own
page lets the next failure open one. No console error, no CSP violation (testing.browser checks)."""

import uuid

import pytest

from issues.models import Issue
from monitors.models import Monitor
from monitors.tests.conftest import HOURLY
from projects.models import ProjectMembership
from testing.browser import login

pytestmark = [pytest.mark.live, pytest.mark.slow]


def checkin(status, slug="nightly"):
    return {"check_in_id": uuid.uuid4().hex, "monitor_slug": slug, "status": status, "monitor_config": HOURLY}


def test_mute_and_unmute_a_monitor(
    transactional_db, chromium_page, live_server_url, django_user_model, project, send_checkins
):
    user = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user)
    send_checkins(checkin("ok"), checkin("ok", slug="hourly-sync"))
    page = chromium_page
    login(page, live_server_url, "ann", "pw")

    page.goto(f"{live_server_url}/projects/{project.pk}/monitors/")
    row = page.locator('tr[data-monitor="nightly"]')
    assert row.locator("[data-alerting]").inner_text() == "on"
    with page.expect_navigation():
        row.get_by_role("button", name="Mute").click()
    assert "Monitor nightly muted" in page.locator(".messages").inner_text()
    row = page.locator('tr[data-monitor="nightly"]')
    assert row.locator("[data-muted]").inner_text() == "muted"
    assert page.locator('tr[data-monitor="hourly-sync"] [data-alerting]').count() == 1  # the other one is not
    assert Monitor.objects.get(slug="nightly").is_muted

    send_checkins(checkin("error"))
    assert not Issue.objects.filter(project=project).exists()
    page.reload()
    assert page.locator('tr[data-monitor="nightly"] [data-status]').inner_text() == "Failing"
    assert page.locator('tr[data-monitor="nightly"] [data-issue]').inner_text() == "none"

    page.goto(f"{live_server_url}/projects/{project.pk}/monitors/nightly/")
    with page.expect_navigation():
        page.locator("[data-monitor-facts]").get_by_role("button", name="Unmute").click()
    assert page.url.endswith(f"/projects/{project.pk}/monitors/nightly/")
    assert page.locator("[data-monitor-facts] [data-alerting]").inner_text() == "on"
    send_checkins(checkin("error"))
    assert Issue.objects.filter(project=project).count() == 1
    page.reload()
    assert page.locator("[data-issue-link]").count() == 1
