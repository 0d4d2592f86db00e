"""Assignment, subscription, and comments with @mentions and Markdown, in a real browser (Debian's Chromium through
Playwright, against our live web server). The pages run under the strict CSP; a violation or a console error fails
the test."""

import pytest

from issues import participants
from issues.models import Issue, TurningPoint
from projects.models import ProjectMembership
from testing.browser import login
from testing.utils import make_issue

pytestmark = [pytest.mark.live, pytest.mark.slow]


@pytest.fixture
def people(django_user_model, project):
    ann = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    bob = django_user_model.objects.create_user("bob", "bob@example.com", "pw")
    for user in (ann, bob):
        ProjectMembership.objects.create(project=project, user=user)
    return ann, bob


@pytest.fixture
def page(chromium_page, live_server_url, people):
    login(chromium_page, live_server_url, "ann", "pw")
    return chromium_page


def clean_console(page):
    assert page.console_watch.errors == [], page.console_watch.errors


def test_assign_and_subscribe_from_the_issue_page(transactional_db, live_server_url, page, project, people):
    ann, bob = people
    issue = make_issue(project)
    page.goto(f"{live_server_url}/issues/{issue.pk}/")
    page.locator("[data-assignee]").select_option(label="bob")
    with page.expect_navigation():
        page.locator("[data-assign-button]").click()
    assert "Assigned to bob." in page.locator(".messages").inner_text()
    assert page.locator("[data-assignee] option:checked").inner_text() == "bob"
    issue.refresh_from_db()
    assert issue.assigned_user == bob
    assert issue.turning_points.filter(kind=TurningPoint.Kind.ASSIGNED, user=ann).exists()

    # subscribe, then unsubscribe
    assert page.locator("[data-subscribe]").inner_text() == "Subscribe"
    with page.expect_navigation():
        page.locator("[data-subscribe]").click()
    assert page.locator("[data-subscribe]").inner_text() == "Unsubscribe"
    assert participants.is_subscribed(issue, ann)
    with page.expect_navigation():
        page.locator("[data-subscribe]").click()
    assert page.locator("[data-subscribe]").inner_text() == "Subscribe"
    assert not participants.is_subscribed(issue, ann)

    # unassign; the history tab tells both
    page.locator("[data-assignee]").select_option(label="Nobody")
    with page.expect_navigation():
        page.locator("[data-assign-button]").click()
    assert "Unassigned." in page.locator(".messages").inner_text()
    page.goto(f"{live_server_url}/issues/{issue.pk}/history/")
    timeline = page.locator(".timeline").inner_text()
    assert "Assigned" in timeline and "to bob" in timeline and "Unassigned" in timeline
    clean_console(page)


def test_comment_with_mention_and_markdown(transactional_db, live_server_url, page, project, people):
    ann, bob = people
    issue = make_issue(project)
    page.goto(f"{live_server_url}/issues/{issue.pk}/history/")
    text = (
        "@bob see *this* and `parse()`:\n\n```\n<script>window.pwned = 1</script>\n```\n\n"
        "- https://example.com/log\n- [bad](javascript:window.pwned=2)\n\n> <img src=x onerror=window.pwned=3>"
    )
    page.locator("#comment-new").fill(text)
    with page.expect_navigation():
        page.locator(".comment-form button[type=submit]").click()
    assert "Comment added." in page.locator(".messages").inner_text()
    comment = page.locator("[data-comment-text]").first
    assert comment.locator("em").inner_text() == "this"
    assert comment.locator("code").first.inner_text() == "parse()"
    assert "<script>window.pwned = 1</script>" in comment.locator("pre code").inner_text()
    link = comment.locator("a", has_text="https://example.com/log")
    assert link.get_attribute("href") == "https://example.com/log"
    assert link.get_attribute("rel") == "noopener noreferrer nofollow"
    assert comment.locator("a").count() == 1  # the javascript: link stayed text
    assert comment.locator("img, script").count() == 0
    assert page.evaluate("() => window.pwned === undefined")
    assert participants.is_subscribed(issue, bob) and participants.is_subscribed(issue, ann)
    clean_console(page)


def test_bulk_assign_from_the_list_and_the_assigned_to_me_view(
    transactional_db, live_server_url, page, project, people
):
    ann, bob = people
    first, second = make_issue(project, calculated_value="first"), make_issue(project, calculated_value="second")
    page.goto(f"{live_server_url}/projects/{project.pk}/issues/")
    page.locator(f'input[name="issue"][value="{first.pk}"]').check()
    page.locator("details.il-menu summary", has_text="Assign").click()
    page.locator("[data-bulk-assignee]").select_option(label="Me")
    with page.expect_navigation():
        page.locator('button[value="assign"]').click()
    assert "Assigned 1 issue." in page.locator(".messages").inner_text()
    assert Issue.objects.get(pk=first.pk).assigned_user == ann
    assert Issue.objects.get(pk=second.pk).assigned_user is None
    badge = page.locator(f'tr:has(input[value="{first.pk}"]) .il-assignee')
    assert badge.inner_text() == "AN" and badge.get_attribute("title") == "Assigned to ann"

    with page.expect_navigation():
        page.locator("[data-assigned-to-me]").click()
    assert page.locator("input[data-search]").input_value() == "assigned:me"
    rows = page.locator("tr[data-issue-row]")
    assert rows.count() == 1 and rows.first.locator('input[name="issue"]').get_attribute("value") == str(first.pk)
    clean_console(page)
