"""Direction overrides in client text stay where they are (issue 19, part 4).

U+202E (RIGHT-TO-LEFT OVERRIDE) reverses the text after it until something ends its reach. Every field of an event
here starts with one, as do the project's and the team's names, a person's name, a comment, user feedback and an
attachment's name; then every page that shows them is parsed, and each text that holds the override must sit in an
element that isolates it (`<bdi>` or one with a `dir` attribute), so that it cannot reverse the page's own text
beside it ("· 1 event" next to a title). `<title>`, e-mail subjects and text bodies have no markup to isolate in:
they must hold no direction control at all.
"""

import re
import uuid
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from alerts.messages import Alert, build_email, slack_payload
from alerts.models import AlertChannel
from api.models import ApiToken, Scope
from bugsink.bidi import BIDI_CONTROLS, strip_bidi, visible_controls
from events.models import Attachment, Event, UserFeedback
from issues.models import Issue
from issues.state import IssueStateManager
from projects.models import ProjectMembership, Team, TeamMembership
from projects.people import invite_to_project, send_invitation_email
from releases.models import Commit, Deploy, Release
from testing.utils import exception_event

RLO = "\u202e"
# elements whose content is a paragraph of its own, or is not shown as text of the page
SEPARATE = {"textarea", "option", "script", "style"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class DirectionCheck(HTMLParser):
    """Collects the texts holding an override that no `<bdi>` or `dir` element isolates, and the `<title>`."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []  # (tag, isolates)
        self.leaks: list[str] = []
        self.title = ""

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        isolates = tag == "bdi" or any(name == "dir" for name, _ in attrs) or tag in SEPARATE
        self.stack.append((tag, isolates))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        if [tag for tag, _ in self.stack[-2:]] == ["head", "title"]:
            self.title += data
            return
        if any(c in data for c in BIDI_CONTROLS) and not any(isolates for _, isolates in self.stack):
            path = " > ".join(tag for tag, _ in self.stack[-4:])
            self.leaks.append(f"{path}: {data.strip()[:80]!r}")


def check(html: str) -> DirectionCheck:
    checker = DirectionCheck()
    checker.feed(html)
    checker.close()
    return checker


def hostile_event() -> dict:
    """An event with an override at the start of every text a page shows."""
    frames = [
        {
            "filename": f"{RLO}app/views.py",
            "abs_path": f"/srv/{RLO}app/views.py",
            "module": f"{RLO}app.views",
            "function": f"{RLO}handle",
            "package": f"{RLO}package",
            "lineno": 10,
            "in_app": True,
            "context_line": f"    raise ValueError('{RLO}bad')",
            "pre_context": [f"def {RLO}handle():"],
            "post_context": [f"# {RLO}after"],
            "vars": {f"{RLO}key": f"'{RLO}value'", "nested": {f"{RLO}inner": [f"{RLO}item"]}},
        }
    ]
    event = exception_event(f"{RLO}ValueError", f"{RLO}bad value · 1 event", frames=frames)
    event["exception"]["values"][0]["module"] = f"{RLO}app.errors"
    event["exception"]["values"][0]["mechanism"] = {"type": f"{RLO}generic", "handled": False}
    event.update(
        release=f"{RLO}1.0",
        environment=f"{RLO}production",
        server_name=f"{RLO}web-1",
        logger=f"{RLO}app.logger",
        transaction=f"{RLO}/checkout",
        tags={f"{RLO}color": f"{RLO}blue", "plain": f"{RLO}value"},
        user={"id": f"{RLO}42", "email": f"{RLO}ann@example.com", "username": f"{RLO}ann"},
        request={
            "url": f"https://example.com/{RLO}path",
            "method": "POST",
            "headers": {f"{RLO}X-Header": f"{RLO}header value"},
            "query_string": f"q={RLO}query",
            "data": {f"{RLO}field": f"{RLO}posted"},
        },
        contexts={"os": {"name": f"{RLO}Linux", "version": f"{RLO}6.1"}, f"{RLO}custom": {"a": f"{RLO}b"}},
        extra={f"{RLO}extra key": f"{RLO}extra value", "multi": f"{RLO}line one\nline two"},
        modules={f"{RLO}django": f"{RLO}5.2"},
        sdk={"name": f"{RLO}sentry.python", "version": f"{RLO}2.0"},
        breadcrumbs={
            "values": [
                {"category": f"{RLO}query", "message": f"{RLO}SELECT 1", "type": f"{RLO}http", "level": "info"},
                {"category": "http", "data": {"url": f"{RLO}https://x", "method": f"{RLO}GET"}},
                {"category": "log", "data": {"a": f"{RLO}one\n{RLO}two", "b": f"{RLO}2"}},
            ]
        },
        fingerprint=[f"{RLO}part"],
    )
    return event


@pytest.fixture
def hostile(db, project, send_event, django_user_model):
    """An issue of a project whose every shown text holds an override; its superuser-ish admin logged in."""
    project.name = f"{RLO}Shop"
    project.save()
    team = Team.objects.create(name=f"{RLO}Team")
    project.team = team
    project.save()
    user = django_user_model.objects.create_user("ann", "ann@example.com", "pw", first_name=f"{RLO}Ann")
    ProjectMembership.objects.create(project=project, user=user, role=ProjectMembership.Role.ADMIN)
    TeamMembership.objects.create(team=team, user=user, role=TeamMembership.Role.ADMIN)
    assert send_event(project, hostile_event()).status_code == 200
    issue = Issue.objects.get(project=project)
    event = Event.objects.get(issue=issue)
    IssueStateManager.add_comment(issue, user, f"{RLO}a comment")
    IssueStateManager.resolve_in_release(issue, f"{RLO}1.0", user=user)
    issue.save()
    now = timezone.now()
    UserFeedback.objects.create(
        project=project,
        issue=issue,
        event=event,
        event_uuid=event.event_id,
        name=f"{RLO}Bob",
        email=f"{RLO}bob@example.com",
        comments=f"{RLO}it broke",
        url=f"https://example.com/{RLO}page",
        source=UserFeedback.Source.FEEDBACK,
        received_at=now,
    )
    Attachment.objects.create(
        project=project,
        event=event,
        event_uuid=event.event_id,
        name=f"{RLO}log.txt",
        content_type=f"{RLO}text/plain",
        size=10,
        note=f"{RLO}not kept",
        received_at=now,
    )
    release = Release.objects.get(project=project, version=f"{RLO}1.0")
    release.ref, release.url = f"{RLO}v1", f"https://example.com/{RLO}r"
    release.save()
    Commit.objects.create(
        release=release, repository=f"{RLO}repo", sha="a" * 40, message=f"{RLO}fix it", author_name=f"{RLO}Dev"
    )
    Deploy.objects.create(release=release, environment=f"{RLO}staging", name=f"{RLO}blue", date_finished=now)
    AlertChannel.objects.create(project=project, name=f"{RLO}chat", kind="webhook", url="https://example.com/hook")
    ApiToken.create_for(user, f"{RLO}ci token", Scope.READ)
    return {"project": project, "issue": issue, "event": event, "user": user, "team": team, "release": release}


def pages(client, hostile) -> dict[str, str]:
    project, issue, event, team = hostile["project"], hostile["issue"], hostile["event"], hostile["team"]
    urls = [
        "/projects/",
        f"/projects/{project.pk}/issues/",
        f"/projects/{project.pk}/issues/?tab=all",
        "/issues/?tab=all",
        f"/projects/{project.pk}/issues/?q={RLO}nothing",
        f"/projects/{project.pk}/issues/?q={RLO}key:x",
        f"/projects/{project.pk}/releases/",
        f"/projects/{project.pk}/releases/id/{hostile['release'].pk}/",
        f"/projects/{project.pk}/setup/",
        f"/projects/{project.pk}/settings/",
        f"/projects/{project.pk}/settings/members/",
        f"/projects/{project.pk}/settings/alerts/",
        "/projects/teams/",
        f"/projects/teams/{team.pk}/",
        "/accounts/preferences/",
        "/accounts/preferences/tokens/",
    ]
    for tab in ("", "details/", "breadcrumbs/", "events/", "tags/", "feedback/", "history/"):
        urls.append(f"/issues/{issue.pk}/{tab}")
    for tab in ("", "details/", "breadcrumbs/"):
        urls.append(f"/issues/{issue.pk}/events/{event.pk}/{tab}")
    urls.append(f"/issues/{issue.pk}/events/?q={RLO}nothing")
    result = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        result[url] = response.content.decode()
    confirm = client.post(
        f"/projects/{project.pk}/issues/bulk/", {"action": "delete", "issue": [str(issue.pk)], "tab": "all"}
    )
    assert confirm.status_code == 200 and b"il-confirm-list" in confirm.content
    result["delete confirmation"] = confirm.content.decode()
    return result


def test_every_page_isolates_client_text_and_keeps_it_out_of_the_title(client, hostile):
    client.force_login(hostile["user"])
    leaks, titles = {}, {}
    for url, html in pages(client, hostile).items():
        checked = check(html)
        if checked.leaks:
            leaks[url] = checked.leaks
        if any(c in checked.title for c in BIDI_CONTROLS):
            titles[url] = checked.title
    assert not leaks, "\n".join(f"{url}: {leak}" for url, found in leaks.items() for leak in found)
    assert not titles, titles


def test_the_pages_for_others_isolate_it_too(client, hostile, django_user_model):
    """The refusal a member gets from the settings, and the page of an invitation's link."""
    project = hostile["project"]
    bob = django_user_model.objects.create_user("bob", "bob@example.com", "pw", first_name=f"{RLO}Bob")
    ProjectMembership.objects.create(project=project, user=bob)
    TeamMembership.objects.create(team=hostile["team"], user=bob)
    client.force_login(bob)
    forbidden = client.get(f"/projects/{project.pk}/settings/")
    assert forbidden.status_code == 403 and f"<bdi>{RLO}Shop</bdi>" in forbidden.content.decode()
    team = client.post(f"/projects/teams/{hostile['team'].pk}/members/add/", {"user": "bob", "role": "member"})
    assert team.status_code == 403 and f"<bdi>{RLO}Team</bdi>" in team.content.decode()
    client.logout()
    _, link = invite_to_project(project, "new@example.com", "member", hostile["user"])
    invitation = client.get(link.removeprefix(settings.BASE_URL))
    assert invitation.status_code == 200 and f"<bdi>{RLO}Ann</bdi>" in invitation.content.decode()
    for response in (forbidden, team, invitation):
        checked = check(response.content.decode())
        assert checked.leaks == [] and checked.title == strip_bidi(checked.title), checked.leaks


def test_the_pages_do_show_the_text(client, hostile):
    """The check above would pass on pages that showed nothing: the texts are there, each in its isolate."""
    client.force_login(hostile["user"])
    shown = pages(client, hostile)
    issue_page = shown[f"/issues/{hostile['issue'].pk}/"]
    assert f'<bdi class="issue-value">{RLO}bad value · 1 event</bdi>' in issue_page
    assert f"<bdi>{RLO}Shop</bdi>" in issue_page
    confirm = shown["delete confirmation"]
    assert f'<bdi>{RLO}ValueError: {RLO}bad value · 1 event</bdi> <span class="muted">· 1 event</span>' in confirm
    assert (
        f"data-open><bdi>{RLO}ValueError: {RLO}bad value · 1 event</bdi></a>"
        in shown[f"/projects/{hostile['project'].pk}/issues/?tab=all"]
    )
    # a release and an environment are names: their override is shown, not obeyed
    assert "⟨U+202E⟩1.0" in issue_page and "⟨U+202E⟩production" in issue_page
    assert "⟨U+202E⟩color" in shown[f"/issues/{hostile['issue'].pk}/tags/"]


def test_the_page_title_keeps_the_text_without_its_controls(client, hostile):
    client.force_login(hostile["user"])
    html = client.get(f"/issues/{hostile['issue'].pk}/").content.decode()
    title = check(html).title
    assert "ValueError: bad value · 1 event · " in title and title.endswith(" · Culvert")


def test_alert_email_and_chat_keep_the_controls_out(hostile, settings):
    settings.SITE_TITLE = "Culvert"
    alert = Alert("new_issue", hostile["project"], hostile["issue"])
    message = build_email(alert, "ann@example.com")
    assert message.subject == strip_bidi(message.subject) and "ValueError: bad value" in message.subject
    assert (
        message.body == strip_bidi(message.body)
        and "Shop" in message.body
        and "Culprit: app.views in handle" in message.body
    )
    html = message.alternatives[0][0]
    checked = check(html)
    assert checked.leaks == [] and checked.title == strip_bidi(checked.title)
    assert "<bdi>ValueError: bad value · 1 event</bdi>" in html and f"<bdi>{RLO}Shop</bdi>" in html
    slack = str(slack_payload(alert))
    assert all(c not in slack for c in BIDI_CONTROLS)


def test_invitation_email_keeps_the_controls_out(hostile):
    invitation, link = invite_to_project(hostile["project"], "new@example.com", "member", hostile["user"])
    send_invitation_email(invitation, link)
    (message,) = mail.outbox
    assert message.subject == strip_bidi(message.subject) and "Shop" in message.subject
    assert message.body == strip_bidi(message.body) and '"Shop"' in message.body and "Ann" in message.body


# --- visible controls ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, shown",
    [
        ("1.0.0", "1.0.0"),
        ("1.0.0\u200b", "1.0.0⟨U+200B⟩"),
        ("\ufeff1.0.0", "⟨U+FEFF⟩1.0.0"),
        ("\u200b", "⟨U+200B⟩"),
        ("a\u202eb\u2066c\u2069\u200ed\u061c", "a⟨U+202E⟩b⟨U+2066⟩c⟨U+2069⟩⟨U+200E⟩d⟨U+061C⟩"),
        ("tab\there", "tab⟨U+0009⟩here"),
        ("soft\u00adhyphen\u2028", "soft⟨U+00AD⟩hyphen⟨U+2028⟩"),
        ("\u3164filler", "⟨U+3164⟩filler"),
        ("שלום 1.0", "שלום 1.0"),  # right-to-left letters are text, not controls
        ("❤\ufe0f", "❤\ufe0f"),  # an emoji's variation selector changes a glyph, it hides none
        ("a b\u00a0c", "a b\u00a0c"),  # spaces are visible as spaces
    ],
)
def test_visible_controls(text, shown):
    assert visible_controls(text) == shown


def test_strip_bidi_removes_every_direction_control_and_nothing_else():
    assert (
        strip_bidi(f"a{RLO}b\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069\u200e\u200f\u061cc\u200b") == "abc\u200b"
    )
    assert strip_bidi(None) == ""


@pytest.mark.django_db
def test_look_alike_releases_and_an_invisible_environment_are_told_apart(
    client, project, send_event, django_user_model
):
    user = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user)
    client.force_login(user)
    for release in ("1.0.0", "1.0.0\u200b", "\ufeff1.0.0"):
        event = exception_event(release=release, environment="\u200b", tags={"\u200bkey": "value\u200d"})
        assert send_event(project, {**event, "event_id": uuid.uuid4().hex}).status_code == 200
    releases = client.get(f"/projects/{project.pk}/releases/").content.decode()
    for shown in (">1.0.0</bdi>", ">1.0.0⟨U+200B⟩</bdi>", ">⟨U+FEFF⟩1.0.0</bdi>"):
        assert shown in releases
    issue = Issue.objects.get(project=project)
    events = client.get(f"/issues/{issue.pk}/events/").content.decode()
    assert events.count('<td dir="auto">⟨U+200B⟩</td>') == 3  # the environment, once per event
    # the release cell links to the release's page, its invisible characters shown
    cell = r'<td class="mono" dir="auto"><a href="/projects/\d+/releases/id/\d+/"><bdi>⟨U\+FEFF⟩1\.0\.0</bdi>'
    assert re.search(cell, events)
    tags = client.get(f"/issues/{issue.pk}/tags/").content.decode()
    assert "⟨U+200B⟩key" in tags and "value⟨U+200D⟩" in tags and "⟨U+200B⟩" in tags
    details = client.get(f"/issues/{issue.pk}/details/").content.decode()
    assert "⟨U+200B⟩key" in details and "⟨U+FEFF⟩1.0.0" in details
