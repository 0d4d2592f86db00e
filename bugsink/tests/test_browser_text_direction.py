"""An override in a title reverses the title only, in a real browser (Debian's Chromium through Playwright, against
the live server): on the list and the delete confirmation the "· 1 event" and the badges after a title stay to its
right, read left to right; the window title holds no direction control."""

import pytest

from issues.models import Issue
from issues.state import IssueStateManager
from projects.models import ProjectMembership
from testing.browser import login
from testing.utils import exception_event

pytestmark = [pytest.mark.live, pytest.mark.slow]

RLO = "\u202e"

# where the title's own text ends and where the text after it begins, by the title's text node (whatever element
# holds it) and the element that follows
LAYOUT = """([item, after]) => {
  const walker = document.createTreeWalker(item, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode()) && !node.data.includes("\\u202e")) {}
  const range = document.createRange();
  range.selectNodeContents(node);
  const title = range.getBoundingClientRect();
  const following = item.querySelector(after);
  const next = following.getBoundingClientRect();
  return {titleLeft: title.left, titleRight: title.right, nextLeft: next.left, nextText: following.innerText};
}"""


@pytest.fixture
def page(chromium_page, live_server_url, django_user_model, project):
    user = django_user_model.objects.create_user("bea", "bea@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user, role=ProjectMembership.Role.ADMIN)
    login(chromium_page, live_server_url, "bea", "pw")
    return chromium_page


def test_an_override_in_a_title_stays_inside_it(transactional_db, live_server_url, page, project, send_event):
    event = exception_event("ValueError", f"{RLO}reversed on purpose")
    assert send_event(project, event).status_code == 200
    issue = Issue.objects.get(project=project)
    IssueStateManager.mute(issue)
    issue.save()

    page.goto(f"{live_server_url}/projects/{project.pk}/issues/?tab=all")
    assert RLO not in page.title() and "Culvert" in page.title()
    row = page.locator("tr[data-issue-row] .il-title").element_handle()
    layout = page.evaluate(LAYOUT, [row, ".badge-muted"])
    assert layout["nextText"] == "muted" and layout["nextLeft"] >= layout["titleRight"] - 1, layout

    page.locator("input[name=issue]").first.check()
    with page.expect_navigation():
        page.locator("button[value=delete]").click()
    assert RLO not in page.title()
    item = page.locator("ul.il-confirm-list li").first.element_handle()
    layout = page.evaluate(LAYOUT, [item, "span.muted"])
    # "· 1 event" comes after the title, to its right, rather than reversed into the place before it
    assert layout["nextText"] == "· 1 event" and layout["nextLeft"] >= layout["titleRight"] - 1, layout

    page.goto(f"{live_server_url}/issues/{issue.pk}/")
    assert RLO not in page.title() and "reversed on purpose" in page.title()
