"""Assignment, subscriptions, @mentions and Markdown comments (issues.participants, issues.triage, alerts.notify,
issues.markdown) through the issue page, the list and its bulk form, with the e-mails they send."""

import re
from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model

from alerts import dispatch
from alerts.models import DeliveryAttempt
from bugsink import jobs
from issues import participants
from issues.markdown import render_comment
from issues.models import Issue, Subscription, TurningPoint
from projects.models import Project, ProjectMembership, Team, TeamMembership
from testing.utils import make_issue

User = get_user_model()


@pytest.fixture
def team(project):
    team = Team.objects.create(name="Backend")
    project.team = team
    project.save(update_fields=["team"])
    return team


@pytest.fixture
def ann(project):
    user = User.objects.create_user("ann", "ann@example.com", "pw", first_name="Ann", last_name="Lee")
    ProjectMembership.objects.create(project=project, user=user)
    return user


@pytest.fixture
def bob(project):
    user = User.objects.create_user("bob", "bob@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user, send_email_alerts=False)
    return user


@pytest.fixture
def tess(team):
    """In the project through its team only."""
    user = User.objects.create_user("tess", "tess@example.com", "pw")
    TeamMembership.objects.create(team=team, user=user)
    return user


@pytest.fixture
def other_project(db):
    return Project.objects.create(name="Other", slug="other")


@pytest.fixture
def outsider(other_project):
    """A member of another project only: hostile to this one."""
    user = User.objects.create_user("mallory", "mallory@example.com", "pw")
    ProjectMembership.objects.create(project=other_project, user=user)
    return user


def page(client, issue, tab=""):
    return client.get(f"/issues/{issue.pk}/{tab}")


def sent(mailoutbox) -> list[tuple[str, str]]:
    """(recipient, subject) of every message sent, sorted."""
    return sorted((message.to[0], message.subject) for message in mailoutbox)


def run_jobs():
    assert jobs.wait_idle(20), "the notification jobs finished"


# --- parsing who is meant -----------------------------------------------------------------------------------------


def test_assignee_forms_and_refusals(project, ann, tess, team, outsider, other_project):
    parse = participants.parse_assignee
    assert parse(project, "", ann) == (None, None) and parse(project, None, ann) == (None, None)
    assert parse(project, "me", ann) == (ann, None)
    assert parse(project, "ann", None) == (ann, None)
    assert parse(project, "ANN@example.com", None) == (ann, None)
    assert parse(project, f"user:{tess.pk}", None) == (tess, None)  # through the team
    assert parse(project, f"team:{team.pk}", None) == (None, team)
    assert parse(project, "#backend", None) == (None, team)
    for value, words in [
        ("mallory", "not a member"),
        (f"user:{outsider.pk}", "No member"),
        ("user:abc", "takes a number"),
        ("nobody@example.com", "not a member"),
        ("#elsewhere", "not a team of this project"),
        (["ann"], "assignedTo must"),
        (True, "assignedTo must"),
    ]:
        with pytest.raises(participants.AssignmentError, match=words):
            parse(project, value, ann)
    elsewhere = Team.objects.create(name="Elsewhere")
    other_project.team = elsewhere
    other_project.save()
    with pytest.raises(participants.AssignmentError, match="not a team of this project"):
        parse(project, f"team:{elsewhere.pk}", ann)
    with pytest.raises(participants.AssignmentError, match="access"):
        parse(project, "me", outsider)


def test_mentions_find_members_by_username_or_email_only(project, ann, bob, outsider):
    text = "@ann and @BOB@example.com, not @mallory nor @nobody; mail a@ann.example is no mention"
    assert participants.mention_candidates(text) == ["ann", "BOB@example.com", "mallory", "nobody"]
    assert participants.mentioned_users(project, text) == [ann, bob]


# --- assignment from the issue page -------------------------------------------------------------------------------


def test_assign_from_the_page_writes_history_subscribes_and_emails_the_assignee(
    client, project, ann, bob, transactional_db, mailoutbox
):
    issue = make_issue(project)
    client.force_login(ann)
    html = page(client, issue).content.decode()
    assert 'name="assignee"' in html and f'<option value="user:{bob.pk}">bob</option>' in html
    assert f'<option value="user:{ann.pk}">ann (me)</option>' in html

    response = client.post(f"/issues/{issue.pk}/assign/", {"assignee": f"user:{bob.pk}"}, follow=True)
    assert "Assigned to bob." in response.content.decode()
    issue.refresh_from_db()
    assert issue.assigned_user == bob and issue.assigned_team is None
    point = issue.turning_points.get(kind=TurningPoint.Kind.ASSIGNED)
    assert point.user == ann and point.metadata == {"to": "bob", "type": "user", "id": bob.pk}
    assert participants.is_subscribed(issue, bob)
    run_jobs()
    assert sent(mailoutbox) == [("bob@example.com", "[My App] Assigned to you MYAPP-1: ValueError: bad value")]
    body = mailoutbox[0].body
    assert "Ann Lee assigned MYAPP-1 to you" in body and f"/issues/{issue.pk}/history/" in body
    assert DeliveryAttempt.objects.get().alert_kind == "assigned"

    html = page(client, issue).content.decode()
    assert f'<option value="user:{bob.pk}" selected>bob</option>' in html
    history = page(client, issue, "history/").content.decode()
    assert "Assigned" in history and "to bob" in history

    # assigning yourself sends nothing; unassigning writes its own entry
    mailoutbox.clear()
    client.post(f"/issues/{issue.pk}/assign/", {"assignee": f"user:{ann.pk}"})
    client.post(f"/issues/{issue.pk}/assign/", {"assignee": ""})
    run_jobs()
    assert mailoutbox == []
    issue.refresh_from_db()
    assert issue.assigned_user is None
    kinds = list(issue.turning_points.order_by("timestamp", "id").values_list("kind", flat=True))
    assert kinds == ["assigned", "assigned", "unassigned"]
    assert issue.turning_points.get(kind="unassigned").metadata == {"from": "ann"}


def test_assign_a_team_emails_its_members_but_not_the_actor(
    client, project, ann, tess, team, transactional_db, mailoutbox
):
    TeamMembership.objects.create(team=team, user=ann)
    issue = make_issue(project)
    client.force_login(ann)
    client.post(f"/issues/{issue.pk}/assign/", {"assignee": f"team:{team.pk}"})
    issue.refresh_from_db()
    assert issue.assigned_team == team and participants.describe_assignee(issue) == "#Backend"
    run_jobs()
    assert [to for to, _ in sent(mailoutbox)] == ["tess@example.com"]
    assert "assigned MYAPP-1 to the team #Backend" in mailoutbox[0].body


def test_assigning_someone_without_access_is_refused(client, project, ann, outsider, transactional_db, mailoutbox):
    issue = make_issue(project)
    client.force_login(ann)
    response = client.post(f"/issues/{issue.pk}/assign/", {"assignee": f"user:{outsider.pk}"}, follow=True)
    assert "No member of this project" in response.content.decode()
    response = client.post(f"/issues/{issue.pk}/assign/", {"assignee": "mallory"}, follow=True)
    assert "not a member of this project" in response.content.decode()
    issue.refresh_from_db()
    assert issue.assigned_user is None and not issue.turning_points.exists()
    run_jobs()
    assert mailoutbox == []


def test_another_projects_member_cannot_touch_the_issue(client, project, ann, outsider):
    issue = make_issue(project)
    client.force_login(outsider)
    assert page(client, issue).status_code == 404
    assert client.post(f"/issues/{issue.pk}/assign/", {"assignee": "me"}).status_code == 404
    assert client.post(f"/issues/{issue.pk}/assign/", {"assignee": f"user:{ann.pk}"}).status_code == 404
    assert client.post(f"/issues/{issue.pk}/subscription/", {"subscribe": "1"}).status_code == 404
    assert client.post(f"/issues/{issue.pk}/comments/", {"comment": "@ann hi"}).status_code == 404
    issue.refresh_from_db()
    assert issue.assigned_user is None and not Subscription.objects.exists() and not issue.turning_points.exists()


# --- subscriptions ------------------------------------------------------------------------------------------------


def test_subscribe_and_unsubscribe_from_the_page(client, project, ann):
    issue = make_issue(project)
    client.force_login(ann)
    assert "data-subscribe" in page(client, issue).content.decode()
    assert ">Subscribe</button>" in page(client, issue).content.decode()
    client.post(f"/issues/{issue.pk}/subscription/", {"subscribe": "1"})
    assert participants.is_subscribed(issue, ann)
    assert ">Unsubscribe</button>" in page(client, issue).content.decode()
    client.post(f"/issues/{issue.pk}/subscription/", {"subscribe": "0"})
    assert not participants.is_subscribed(issue, ann)
    # an explicit unsubscribe is remembered: commenting, being assigned or mentioned do not undo it
    assert not participants.subscribe(issue, ann, Subscription.Reason.COMMENTED)
    assert not participants.subscribe(issue, ann, Subscription.Reason.ASSIGNED)
    assert participants.subscribe(issue, ann)  # but subscribing by hand does


def test_alerts_reach_subscribers_and_skip_who_unsubscribed(project, ann, bob, transactional_db, mailoutbox):
    """bob switched the project's alerts off but subscribed to this issue; ann gets alerts but unsubscribed."""
    issue = make_issue(project)
    quiet = make_issue(project)
    participants.subscribe(issue, bob)
    participants.unsubscribe(issue, ann)
    dispatch.deliver_email(str(issue.pk), "new_issue", {}, [], 1)  # nobody: skipped
    assert dispatch.fan_out("new_issue", str(issue.pk), {}) == 1
    assert dispatch.fan_out("new_issue", str(quiet.pk), {}) == 1
    assert jobs.wait_idle(20)
    assert sent(mailoutbox) == [
        ("ann@example.com", "[My App] New issue MYAPP-2: ValueError: bad value"),
        ("bob@example.com", "[My App] New issue MYAPP-1: ValueError: bad value"),
    ]
    # a subscriber who loses access is not told any more
    ProjectMembership.objects.filter(user=bob).delete()
    assert participants.subscriber_ids(issue) == []


# --- comments: mentions, Markdown -------------------------------------------------------------------------------


def test_comment_with_mention_notifies_and_subscribes(
    client, project, ann, bob, tess, team, outsider, transactional_db, mailoutbox
):
    issue = make_issue(project)
    participants.subscribe(issue, tess)
    client.force_login(ann)
    text = "Found it: @bob look at `parse()` and https://example.com/log?id=1 — @mallory @nobody"
    response = client.post(f"/issues/{issue.pk}/comments/", {"comment": text}, follow=True)
    assert "Comment added." in response.content.decode()
    assert participants.is_subscribed(issue, ann)  # the author
    assert participants.is_subscribed(issue, bob)  # the mentioned
    assert not Subscription.objects.filter(user=outsider).exists()  # no member: left as text
    run_jobs()
    assert sent(mailoutbox) == [
        ("bob@example.com", "[My App] You were mentioned MYAPP-1: ValueError: bad value"),
        ("tess@example.com", "[My App] New comment MYAPP-1: ValueError: bad value"),
    ]
    mention = next(m for m in mailoutbox if m.to == ["bob@example.com"])
    assert "Ann Lee mentioned you in a comment on MYAPP-1" in mention.body and text in mention.body
    html = mention.alternatives[0][0]
    assert "`parse()`" in html and "<script" not in html

    history = page(client, issue, "history/").content.decode()
    assert "<code>parse()</code>" in history
    assert (
        '<a href="https://example.com/log?id=1" rel="noopener noreferrer nofollow"><bdi>https://example.com/log?id=1'
        in history
    )
    assert "@mallory @nobody" in history

    # the next comment goes to every subscriber but its author
    mailoutbox.clear()
    client.force_login(bob)
    client.post(f"/issues/{issue.pk}/comments/", {"comment": "on it"})
    run_jobs()
    assert [to for to, _ in sent(mailoutbox)] == ["ann@example.com", "tess@example.com"]


def attributes(html: str) -> list[tuple[str, str]]:
    """(tag, attribute name) of every attribute, as a browser's parser reads them."""
    found = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.extend((tag, name) for name, _ in attrs)

    Parser().feed(html)
    return found


HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox)",
    "![x](https://example.com/x.png)",
    "<a href='javascript:alert(1)'>x</a>",
    '<svg onload="alert(1)">',
    "```\n</code><script>alert(1)</script>\n```",
    "`<b onmouseover=alert(1)>`",
    '[x](https://example.com/" onmouseover="alert(1))',
    "<iframe src=https://example.com>",
    '[x](https://example.com "title\\" onclick=\\"alert(1)")',
    "javascript:alert(1)",
    "&lt;script&gt;alert(1)&lt;/script&gt; &#60;script&#62;",
    "<style>body{display:none}</style>",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_markdown_renders_inert(text):
    html = str(render_comment(text))
    assert "<script" not in html.lower() and "<img" not in html and "<iframe" not in html and "<svg" not in html
    assert "<style" not in html and "<a href='" not in html
    assert "javascript:" not in "".join(re.findall(r'href="([^"]*)"', html)).lower()
    assert not [name for _, name in attributes(html) if name.startswith("on")], html  # no event handler
    for href in re.findall(r'href="([^"]*)"', html):
        assert href.startswith(("http://", "https://", "mailto:")), href
    for tag in re.findall(r"<a [^>]*>", html):
        assert 'rel="noopener noreferrer nofollow"' in tag


def test_markdown_subset():
    html = str(
        render_comment(
            "*em* **strong** `code`\n\n- one\n- two\n\n1. first\n\n> quoted\n\n```\nblock <b>\n```\n\n"
            "[docs](https://example.com/docs) see www.example.org or mail@example.com\n\n# not a heading\n\n---"
        )
    )
    assert "<em>em</em>" in html and "<strong>strong</strong>" in html and "<code>code</code>" in html
    assert '<ul dir="auto">' in html and "<li>two</li>" in html and '<ol dir="auto">' in html
    assert '<blockquote dir="auto">' in html and "<pre><code>block &lt;b&gt;\n</code></pre>" in html
    assert '<a href="https://example.com/docs" rel="noopener noreferrer nofollow"><bdi>docs</bdi></a>' in html
    assert '<a href="http://www.example.org"' in html and '<a href="mailto:mail@example.com"' in html
    assert "<h1" not in html and "# not a heading" in html and "<hr" not in html
    # a direction override stays inside its paragraph (dir=auto), and link text is isolated (bugsink.bidi)
    assert str(render_comment("\u202eevil")).startswith('<p dir="auto">')


# --- the list -----------------------------------------------------------------------------------------------------


def test_bulk_assign_from_the_list_and_the_assignee_column(client, project, ann, bob, team, outsider, other_project):
    mine, theirs, left = make_issue(project), make_issue(project), make_issue(project)
    foreign = make_issue(other_project)
    client.force_login(ann)
    html = client.get(f"/projects/{project.pk}/issues/").content.decode()
    assert 'name="assignee"' in html and f'<option value="user:{bob.pk}">bob</option>' in html
    assert f'<option value="team:{team.pk}">#Backend</option>' in html and "mallory" not in html
    bulk = f"/projects/{project.pk}/issues/bulk/"
    response = client.post(bulk, {"action": "assign", "assignee": "me", "issue": [mine.pk, foreign.pk]}, follow=True)
    assert "Assigned 1 issue." in response.content.decode()
    client.post(bulk, {"action": "assign", "assignee": f"user:{bob.pk}", "issue": [theirs.pk]})
    response = client.post(bulk, {"action": "assign", "assignee": "mallory", "issue": [left.pk]}, follow=True)
    assert "Not assigned:" in response.content.decode()
    assert Issue.objects.get(pk=mine.pk).assigned_user == ann
    assert Issue.objects.get(pk=theirs.pk).assigned_user == bob
    assert Issue.objects.get(pk=left.pk).assigned_user is None
    assert Issue.objects.get(pk=foreign.pk).assigned_user is None  # not of this project's list

    html = client.get(f"/projects/{project.pk}/issues/").content.decode()
    assert '<span class="il-assignee" title="Assigned to Ann Lee (ann)" data-assignee="ann">AL</span>' in html
    assert 'title="Assigned to bob" data-assignee="bob">BO</span>' in html

    # the "Assigned to me" view and the search terms
    def listed(q, where=f"/projects/{project.pk}/issues/"):
        html = client.get(where, {"q": q, "tab": "all"}).content.decode()
        return {issue.pk for issue in (mine, theirs, left) if f'value="{issue.pk}"' in html}

    assert 'href="/projects/' in html and "data-assigned-to-me" in html
    assert listed("assigned:me") == {mine.pk} == listed("assigned:me", "/issues/")
    assert listed("assigned:bob") == {theirs.pk} == listed("assigned:BOB@example.com")
    assert listed("is:assigned") == {mine.pk, theirs.pk}
    assert listed("is:unassigned") == {left.pk} == listed("assigned:none")
    Issue.objects.filter(pk=left.pk).update(assigned_team=team)
    assert listed("assigned:#backend") == {left.pk}
    # another project's member finds nothing of this project through the search
    client.force_login(outsider)
    assert listed("assigned:ann", "/issues/") == set()
    assert client.post(bulk, {"action": "assign", "assignee": "me", "issue": [mine.pk]}).status_code == 404


@pytest.mark.parametrize("n", [10, 120])
def test_list_query_count_holds_with_assignees(client, project, ann, bob, team, n, django_assert_max_num_queries):
    for i in range(n):
        choice = [{"assigned_user": ann}, {"assigned_user": bob}, {"assigned_team": team}, {}][i % 4]
        make_issue(project, **choice)
    client.force_login(ann)
    client.get("/")
    for url in (f"/projects/{project.pk}/issues/", "/issues/"):
        with django_assert_max_num_queries(13):
            response = client.get(url, {"per_page": 250, "q": "is:assigned"})
        assert response.content.decode().count('class="il-assignee"') == n - n // 4
