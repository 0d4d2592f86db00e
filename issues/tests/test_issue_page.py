"""The issue page: header, state actions, the six tabs, event navigation, raw JSON, access rules, CSRF and the
number of queries per page."""

import html
import json
import re
import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import UserPreferences
from events.models import Event
from issues.models import Issue, TurningPoint
from issues.state import IssueStateManager
from issues.views import detail
from projects.models import Project, ProjectMembership
from testing.utils import exception_event, make_issue

# --- fixtures and helpers ---------------------------------------------------------------------------------------


@pytest.fixture
def member(db, project, django_user_model):
    user = django_user_model.objects.create_user("member")
    ProjectMembership.objects.create(project=project, user=user)
    return user


@pytest.fixture
def colleague(db, project, django_user_model):
    user = django_user_model.objects.create_user("colleague")
    ProjectMembership.objects.create(project=project, user=user)
    return user


@pytest.fixture
def outsider(db, django_user_model):
    """A member of another project only."""
    other = Project.objects.create(name="Other", slug="other")
    user = django_user_model.objects.create_user("outsider")
    ProjectMembership.objects.create(project=other, user=user)
    return user


@pytest.fixture
def logged_in(client, member):
    client.force_login(member)
    # a signed-in session is recorded for the sessions list at its first request (accounts.sessions): query counts
    # below are of the pages as a session sees them from then on
    client.get("/")
    return client


@pytest.fixture
def send(project, send_event):
    """Send an event through ingest + digest; returns the stored Event."""

    def _send(event: dict, **extra) -> Event:
        event = {**event, **extra}
        event.setdefault("event_id", uuid.uuid4().hex)
        response = send_event(project, event)
        assert response.status_code == 200, response.content
        return Event.objects.get(project=project, event_id=event["event_id"])

    return _send


def text_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return html.unescape(response.content.decode())


def frame(function, filename=None, lineno=10, in_app=True, **extra) -> dict:
    return {
        "filename": filename or f"app/{function}.py",
        "module": f"app.{function}",
        "function": function,
        "lineno": lineno,
        "in_app": in_app,
        **extra,
    }


def url(name, issue, *args) -> str:
    return reverse(f"issue:{name}", args=[issue.pk if hasattr(issue, "pk") else issue, *args])


# --- header -----------------------------------------------------------------------------------------------------


def test_header_shows_title_short_id_state_level_counts_times_releases_and_culprit(logged_in, send):
    first = send(exception_event("KeyError", "'user_id'", release="1.0.0"))
    send(exception_event("KeyError", "'user_id'", release="1.1.0"))
    issue = Issue.objects.get(pk=first.issue_id)
    page = text_of(logged_in.get(url("stacktrace", issue)))
    assert "KeyError" in page and "'user_id'" in page
    assert issue.short_id in page
    assert 'class="badge badge-open issue-state-badge">Open' in page
    assert 'title="Level: error"' in page
    assert re.search(r"<dt>Events</dt><dd class=\"num\">2</dd>", page)
    assert page.count("<time datetime=") >= 3  # first seen, last seen, the event
    assert 'title="First release"><bdi>1.0.0</bdi><' in page
    assert 'title="Latest release"><bdi>1.1.0</bdi><' in page
    assert "app.views in handle" in page  # the culprit


@pytest.mark.parametrize(
    "fields, expected",
    [
        ({"is_resolved": True}, "Resolved<"),
        ({"is_resolved": True, "fixed_at": ["1.2"]}, "Resolved in 1.2<"),
        ({"is_resolved": True, "is_resolved_by_next_release": True}, "Resolved in the next release<"),
        ({"is_muted": True}, "Muted until unmuted<"),
        (
            {
                "is_muted": True,
                "unmute_on_volume_based_conditions": [{"period": "hour", "nr_of_periods": 1, "volume": 5}],
            },
            "Muted until 5 events in the last hour<",
        ),
    ],
)
def test_state_badge(logged_in, project, fields, expected):
    issue = make_issue(project, **fields)
    assert expected in text_of(logged_in.get(url("history", issue)))


def test_state_badge_of_a_timed_mute_shows_the_end(logged_in, project):
    issue = make_issue(project, is_muted=True, unmute_after=timezone.now() + timedelta(hours=8))
    page = text_of(logged_in.get(url("history", issue)))
    assert re.search(r"Muted until <time datetime=\"[^\"]+\"", page)


# --- actions ----------------------------------------------------------------------------------------------------


def action_buttons(page: str) -> set[str]:
    return set(re.findall(r'name="action" value="(\w+)"', page))


def test_actions_of_an_open_issue(logged_in, project):
    issue = make_issue(project)
    page = text_of(logged_in.get(url("tags", issue)))
    assert action_buttons(page) == {"resolve", "resolve_by_next", "mute"}  # no release yet: no "resolve in latest"
    assert 'name="mute_for" value="1h"' in page and 'name="mute_for" value="7d"' in page
    assert 'name="volume"' in page and '<option value="month"' in page
    assert "calendar periods" in page and "not a rolling window" in page


def test_actions_of_an_open_issue_in_a_project_with_releases(logged_in, send):
    event = send(exception_event(release="2.0.0"))
    page = text_of(logged_in.get(url("tags", event.issue_id)))
    assert action_buttons(page) == {"resolve", "resolve_by_latest", "resolve_by_next", "mute"}
    assert "Resolve in 2.0.0" in page


@pytest.mark.parametrize(
    "fields, expected",
    [
        # resolved: reopen, or resolve in the next release instead (the API's inNextRelease does the same)
        ({"is_resolved": True}, {"reopen", "resolve_by_next"}),
        ({"is_resolved": True, "fixed_at": ["1.0"]}, {"reopen", "resolve_by_next"}),
        ({"is_resolved": True, "is_resolved_by_next_release": True}, {"reopen", "resolve"}),
        ({"is_muted": True}, {"unmute", "resolve", "resolve_by_next"}),
    ],
)
def test_actions_follow_the_state(logged_in, project, fields, expected):
    issue = make_issue(project, **fields)
    page = text_of(logged_in.get(url("tags", issue)))
    assert action_buttons(page) == expected
    # the one-click changes are buttons of one form, each naming its action; muting has its own menu of forms
    one_click = re.findall(r'<form [^>]*class="issue-actions-form">(.*?)</form>', page, re.S)
    assert len(one_click) == 1 and action_buttons(one_click[0]) == expected - {"mute"}


def post_action(client, issue, **data):
    return client.post(url("action", issue), data, follow=True)


def test_resolve_reopen_and_resolve_in_next_release(logged_in, project, member):
    issue = make_issue(project)
    page = text_of(post_action(logged_in, issue, action="resolve"))
    assert "Resolved." in page
    issue.refresh_from_db()
    assert issue.is_resolved and not issue.is_resolved_by_next_release

    assert "Reopened." in text_of(post_action(logged_in, issue, action="reopen"))
    issue.refresh_from_db()
    assert not issue.is_resolved

    assert "Resolved in the next release." in text_of(post_action(logged_in, issue, action="resolve_by_next"))
    issue.refresh_from_db()
    assert issue.is_resolved and issue.is_resolved_by_next_release
    points = list(issue.turning_points.values_list("kind", "user_id"))
    assert (TurningPoint.Kind.RESOLVED, member.pk) in points and (TurningPoint.Kind.REOPENED, member.pk) in points


def test_resolve_in_latest_release(logged_in, send):
    send(exception_event(release="1.0.0"))
    event = send(exception_event(release="1.1.0"))
    page = text_of(post_action(logged_in, event.issue_id, action="resolve_by_latest"))
    assert "Resolved in 1.1.0." in page
    issue = Issue.objects.get(pk=event.issue_id)
    assert issue.is_resolved and issue.fixed_at == ["1.1.0"]
    assert "Resolved in 1.1.0<" in page  # the badge


def test_mute_forever_and_unmute(logged_in, project):
    issue = make_issue(project)
    assert "Muted forever." in text_of(post_action(logged_in, issue, action="mute"))
    issue.refresh_from_db()
    assert issue.is_muted and issue.unmute_after is None and issue.unmute_on_volume_based_conditions == []
    assert "Unmuted." in text_of(post_action(logged_in, issue, action="unmute"))
    issue.refresh_from_db()
    assert not issue.is_muted


@pytest.mark.parametrize(
    "key, delta",
    [("1h", timedelta(hours=1)), ("8h", timedelta(hours=8)), ("24h", timedelta(days=1)), ("7d", timedelta(days=7))],
)
def test_mute_for_a_while(logged_in, project, key, delta):
    issue = make_issue(project)
    before = timezone.now()
    post_action(logged_in, issue, action="mute", mute_for=key)
    issue.refresh_from_db()
    assert issue.is_muted
    assert before + delta <= issue.unmute_after <= timezone.now() + delta


def test_mute_for_a_while_says_until_when_in_the_users_time_zone(logged_in, project, member):
    """Issue 13, point 7: not "Muted for a while." but the moment, in the user's zone, in the message and badge."""
    UserPreferences.objects.update_or_create(user=member, defaults={"timezone": "Asia/Tokyo"})
    issue = make_issue(project)
    page = text_of(post_action(logged_in, issue, action="mute", mute_for="1h"))
    issue.refresh_from_db()
    local = issue.unmute_after.astimezone(ZoneInfo("Asia/Tokyo"))
    assert f"Muted until {local:%-d %b %Y, %H:%M} JST." in page
    assert "for a while" not in page
    assert re.search(rf'Muted until <time datetime="[^"]+" title="[^"]+">{local:%-d %b %Y, %H:%M}</time>', page)


def test_mute_until_a_volume_condition(logged_in, project):
    issue = make_issue(project)
    page = text_of(post_action(logged_in, issue, action="mute", volume="10", nr_of_periods="3", period="day"))
    assert "Muted until 10 events in the last 3 days." in page
    issue.refresh_from_db()
    assert issue.is_muted
    assert issue.unmute_on_volume_based_conditions == [{"period": "day", "nr_of_periods": 3, "volume": 10}]
    point = issue.turning_points.get(kind=TurningPoint.Kind.MUTED)
    assert point.metadata["conditions"] == issue.unmute_on_volume_based_conditions


def test_volume_mute_that_is_already_met_is_refused_with_the_reason(logged_in, send):
    for _ in range(3):
        event = send(exception_event())
    # the reason names the issue's real count (3), not the threshold it reaches (2)
    page = text_of(post_action(logged_in, event.issue_id, action="mute", volume="2", nr_of_periods="2", period="day"))
    assert "This issue already has 3 events in the last 2 days, at least the 2 to unmute at" in page
    assert 'class="message message-error"' in page
    issue = Issue.objects.get(pk=event.issue_id)
    assert not issue.is_muted and issue.unmute_on_volume_based_conditions == []
    assert not issue.turning_points.filter(kind=TurningPoint.Kind.MUTED).exists()


@pytest.mark.parametrize(
    "data, message",
    [
        ({"volume": "0", "nr_of_periods": "1", "period": "hour"}, "Volume must be a positive whole number."),
        ({"volume": "5", "nr_of_periods": "1", "period": "week"}, "Unknown period 'week'"),
        ({"volume": "5", "nr_of_periods": "61", "period": "minute"}, "At most 60 minutes can be looked back on"),
        ({"mute_for": "3y"}, "Choose how long to mute the issue for."),
        ({"volume": "\u00b2", "nr_of_periods": "1", "period": "hour"}, "Volume must be a positive whole number."),
    ],
)
def test_invalid_mute_input_is_refused(logged_in, project, data, message):
    issue = make_issue(project)
    page = text_of(post_action(logged_in, issue, action="mute", **data))
    assert message in page
    issue.refresh_from_db()
    assert not issue.is_muted


def test_a_transition_that_makes_no_sense_shows_the_refusal(logged_in, project):
    issue = make_issue(project)
    page = text_of(post_action(logged_in, issue, action="reopen"))
    assert "Only a resolved issue can be reopened." in page
    assert "Unknown action." in text_of(post_action(logged_in, issue, action="explode"))
    resolved = make_issue(project, is_resolved=True)
    assert "A resolved issue cannot be muted; reopen it first." in text_of(
        post_action(logged_in, resolved, action="mute")
    )
    resolved.refresh_from_db()
    assert resolved.is_resolved and not resolved.is_muted


def test_an_action_returns_to_the_page_it_came_from_but_never_elsewhere(logged_in, project):
    issue = make_issue(project)
    here = url("tags", issue)
    response = logged_in.post(url("action", issue), {"action": "resolve", "next": here})
    assert response.status_code == 302 and response["Location"] == here
    response = logged_in.post(url("action", issue), {"action": "reopen", "next": "https://evil.example/"})
    assert response["Location"] == url("stacktrace", issue)


def test_actions_and_comments_are_post_only(logged_in, project):
    issue = make_issue(project)
    for name, args in [("action", []), ("comment_add", []), ("comment_edit", [1]), ("comment_delete", [1])]:
        assert logged_in.get(url(name, issue, *args)).status_code == 405, name
    issue.refresh_from_db()
    assert not issue.is_resolved


def test_post_without_csrf_token_is_refused(project, member):
    issue = make_issue(project)
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    assert client.post(url("action", issue), {"action": "resolve"}).status_code == 403
    assert client.post(url("comment_add", issue), {"comment": "hi"}).status_code == 403
    issue.refresh_from_db()
    assert not issue.is_resolved and not issue.turning_points.exists()

    page = client.get(url("stacktrace", issue))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    response = client.post(url("action", issue), {"action": "resolve", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    issue.refresh_from_db()
    assert issue.is_resolved


# --- access -----------------------------------------------------------------------------------------------------


def every_url(issue, event) -> list[str]:
    names = ["stacktrace", "details", "breadcrumbs", "events", "tags", "history"]
    event_names = ["event", "event_details", "event_breadcrumbs", "event_json", "event_download"]
    return (
        [url(n, issue) for n in names]
        + [url(n, issue, event.pk) for n in event_names]
        + [url("event_by_id", issue, event.event_id.hex)]
    )


def test_outside_your_projects_everything_is_404(client, outsider, send):
    event = send(exception_event())
    issue = Issue.objects.get(pk=event.issue_id)
    client.force_login(outsider)
    for address in every_url(issue, event):
        assert client.get(address).status_code == 404, address
    assert client.post(url("action", issue), {"action": "resolve"}).status_code == 404
    assert client.post(url("comment_add", issue), {"comment": "x"}).status_code == 404
    issue.refresh_from_db()
    assert not issue.is_resolved
    assert not issue.turning_points.filter(kind=TurningPoint.Kind.COMMENT).exists()


def test_anonymous_is_sent_to_the_login_page(client, send):
    event = send(exception_event())
    issue = Issue.objects.get(pk=event.issue_id)
    for address in every_url(issue, event):
        response = client.get(address)
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login")), address
    response = client.post(url("action", issue), {"action": "resolve"})
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_an_event_of_another_issue_is_404(logged_in, send):
    one = send(exception_event("TypeError", "one"))
    other = send(exception_event("KeyError", "two", frames=[frame("elsewhere")]))
    assert one.issue_id != other.issue_id
    for name in ("event", "event_details", "event_breadcrumbs", "event_json", "event_download"):
        assert logged_in.get(url(name, one.issue_id, other.pk)).status_code == 404
    assert logged_in.get(url("event_by_id", one.issue_id, other.event_id.hex)).status_code == 404
    assert logged_in.get(url("event_by_id", one.issue_id, "not-a-uuid")).status_code == 404


def test_a_superuser_sees_every_project(client, send, django_user_model):
    event = send(exception_event())
    client.force_login(django_user_model.objects.create_superuser("root", "", None))
    assert client.get(url("stacktrace", event.issue_id)).status_code == 200


# --- stack trace tab --------------------------------------------------------------------------------------------

CHAINED = {
    "platform": "python",
    "exception": {
        "values": [
            {
                "type": "KeyError",
                "value": "'user_id'",
                "mechanism": {"type": "chained", "handled": True, "exception_id": 1, "parent_id": 0},
                "stacktrace": {"frames": [frame("lookup", lineno=88)]},
            },
            {
                "type": "ValueError",
                "value": "could not load profile",
                "mechanism": {"type": "django", "handled": False, "exception_id": 0},
                "stacktrace": {
                    "frames": [
                        frame("get_response", "django/core/handlers/base.py", 197, in_app=False),
                        frame("inner", "django/core/handlers/exception.py", 55, in_app=False),
                        frame(
                            "profile",
                            lineno=12,
                            pre_context=["@login_required", "def profile(request):"],
                            context_line="    profile = load_profile(request.user)",
                            post_context=["    return render(request, 'profile.html')", None],
                            vars={"request": "<WSGIRequest: GET '/profile/'>", "nested": {"a": [1, 2]}},
                        ),
                        frame("load_profile", lineno=30),
                    ]
                },
            },
        ]
    },
}


def test_chained_exceptions_raised_first_with_their_mechanisms(logged_in, send):
    event = send(CHAINED)
    page = text_of(logged_in.get(url("stacktrace", event.issue_id)))
    raised, cause = (
        page.index('<span class="exception-type mono"><bdi>ValueError'),
        page.index('<span class="exception-type mono"><bdi>KeyError'),
    )
    assert raised < cause
    assert "caused by" in page[raised:cause]
    assert page.index("unhandled", raised) < cause  # the raised one's mechanism
    assert "handled</span>" in page[cause:]
    assert page.index("could not load profile") < page.index("'user_id'", raised)


def test_frames_innermost_first_with_source_context_and_locals(logged_in, send):
    event = send(CHAINED)
    response = logged_in.get(url("event", event.issue_id, event.pk))
    assert b"&lt;WSGIRequest: GET &#x27;/profile/&#x27;&gt;" in response.content  # escaped
    page = text_of(response)
    order = [
        page.index(f'frame-function mono">{name}<') for name in ("load_profile", "profile", "inner", "get_response")
    ]
    assert order == sorted(order)
    # the crashing frame is marked, the line that ran is highlighted and numbered, with its neighbours
    assert page.index("crashed here") < page.index('frame-function mono">profile<')
    assert re.search(
        r'<div class="source-line current"[^>]*><span class="lineno"[^>]*>12</span>'
        r'<code dir="ltr">    profile = load_profile',
        page,
    )
    assert re.search(r'<span class="lineno"[^>]*>10</span><code dir="ltr">@login_required</code>', page)
    assert re.search(r'<span class="lineno"[^>]*>14</span><code dir="ltr"></code>', page)  # a null line in post_context
    # locals in an expandable <details>; nested values as a tree of their own, with a one-line preview
    vars_block = page[page.index('<details class="frame-vars">') :]
    assert "Local variables" in vars_block and '<dt dir="auto">request</dt>' in vars_block
    assert '<bdi class="mono var-preview" dir="ltr">{a: [1, 2]}</bdi>' in vars_block
    assert '<dt dir="auto">a</dt><dd><details class="var-tree">' in vars_block
    assert '<span class="badge badge-in-app">in app</span>' in page


def test_in_app_only_toggle_collapses_library_frames(logged_in, send):
    send(CHAINED)
    event = send(CHAINED)
    address = url("stacktrace", event.issue_id)
    page = text_of(logged_in.get(address))
    assert 'href="?in_app=1"' in page and "In-app frames only" in page
    assert 'frame-function mono">inner<' in page

    page = text_of(logged_in.get(address + "?in_app=1"))
    assert 'frame-function mono">inner<' not in page and 'frame-function mono">get_response<' not in page
    assert "2 library frames hidden" in page
    assert 'frame-function mono">profile<' in page
    assert "Show all frames" in page and 'aria-pressed="true"' in page
    # event navigation keeps the toggle
    assert "?in_app=1" in page[page.index('class="event-nav"') :]


def test_in_app_only_keeps_a_stack_without_in_app_frames(logged_in, send):
    frames = [frame("library_a", in_app=False), frame("library_b", in_app=False)]
    event = send(
        {
            "platform": "ruby",
            "exception": {
                "values": [
                    {"type": "RuntimeError", "value": "x", "stacktrace": {"frames": frames}},
                    {"type": "ArgumentError", "value": "y", "stacktrace": {"frames": [frame("mine")]}},
                ]
            },
        }
    )
    page = text_of(logged_in.get(url("stacktrace", event.issue_id) + "?in_app=1"))
    assert 'frame-function mono">library_a<' in page and 'frame-function mono">library_b<' in page


def test_threads_crashed_first(logged_in, send):
    event = send(
        {
            "platform": "java",
            "exception": {"values": [{"type": "IllegalStateException", "value": "boom", "thread_id": 2}]},
            "threads": {
                "values": [
                    {
                        "id": 1,
                        "name": "main",
                        "main": True,
                        "state": "WAITING",
                        "stacktrace": {"frames": [frame("wait_main")]},
                    },
                    {
                        "id": 2,
                        "name": "worker-1",
                        "crashed": True,
                        "current": True,
                        "stacktrace": {"frames": [frame("run", in_app=False), frame("process_job")]},
                    },
                    {"id": 3, "name": "gc"},
                ]
            },
        }
    )
    page = text_of(logged_in.get(url("stacktrace", event.issue_id)))
    threads = page[page.index('id="threads-title"') :]
    assert 'Threads <span class="muted">(3)' in threads
    assert threads.index("worker-1") < threads.index(">main<") < threads.index(">gc<")
    assert 'badge badge-unhandled">crashed' in threads
    assert threads.index('frame-function mono">process_job<') < threads.index('frame-function mono">run<')
    assert '<details class="thread" open>' in threads  # the crashed one is open
    assert "thread <bdi>2</bdi>" in page  # the exception names its thread


def test_native_thread_only_event(logged_in, send):
    event = send(
        {
            "platform": "native",
            "message": "ANR",
            "threads": [
                {
                    "id": 7,
                    "crashed": True,
                    "stacktrace": {
                        "frames": [{"instruction_addr": "0x1000", "package": "libc.so", "function": "abort"}, None]
                    },
                }
            ],
        }
    )
    page = text_of(logged_in.get(url("stacktrace", event.issue_id)))
    assert "libc.so" in page and "0x1000" in page and "abort" in page


def test_message_event_shows_formatted_and_unformatted_message_with_params(logged_in, send):
    event = send(
        {
            "platform": "python",
            "level": "warning",
            "logentry": {"message": "user %s failed %s", "params": ["alice", 3]},
        }
    )
    page = text_of(logged_in.get(url("stacktrace", event.issue_id)))
    assert '<pre class="message-text" dir="auto">user alice failed 3</pre>' in page
    assert 'Unformatted:</span> <code dir="auto">user %s failed %s</code>' in page
    assert '<dt dir="auto">1</dt><dd><span class="kv-value kv-token" dir="auto">alice</span>' in page
    assert "exception-type" not in page


def test_event_without_anything_says_so(logged_in, send):
    event = send({"platform": "other", "transaction": "/checkout"})
    page = text_of(logged_in.get(url("stacktrace", event.issue_id)))
    assert "This event has no stack trace and no message" in page


def test_issue_without_stored_events(logged_in, project):
    issue = make_issue(project)
    for name in ("stacktrace", "details", "breadcrumbs"):
        assert "No events are stored for this issue." in text_of(logged_in.get(url(name, issue)))
    assert "No events are stored for this issue." in text_of(logged_in.get(url("events", issue)))


# --- details tab ------------------------------------------------------------------------------------------------

RICH = {
    "platform": "python",
    "level": "error",
    "release": "shop@1.2.3",
    "environment": "production",
    "server_name": "web-01",
    "logger": "shop.checkout",
    "transaction": "/checkout/",
    "logentry": {"message": "checkout of %s failed", "params": ["cart_1"]},
    "exception": {"values": [{"type": "PaymentError", "value": "declined"}]},
    "request": {
        "method": "post",
        "url": "https://shop.example/checkout/",
        "query_string": [["step", "pay"], ["retry", "1"]],
        "headers": [["User-Agent", "Mozilla/5.0"], ["X-Request-ID", "req-42"]],
        "cookies": "session=abc; theme=dark",
        "data": {"amount": 4999, "currency": "EUR"},
        "env": {"REMOTE_ADDR": "203.0.113.9"},
    },
    "user": {"id": 42, "email": "ann@example.com", "ip_address": "203.0.113.9", "segment": {"plan": "pro"}},
    "contexts": {
        "browser": {"name": "Chrome", "version": "120.0", "type": "browser"},
        "os": {"name": "Ubuntu", "version": "24.04"},
        "runtime": {"name": "CPython", "version": "3.12.4"},
        "device": {"model": "Pixel 8", "family": "Pixel"},
        "feature_flags": {"new_checkout": True},
        "broken": None,
    },
    "tags": {"customer": "acme corp", "shard": "7"},
    "sdk": {
        "name": "sentry.python.django",
        "version": "2.75.0",
        "integrations": ["django", "logging"],
        "packages": [{"name": "pypi:sentry-sdk", "version": "2.75.0"}],
    },
    "extra": {"cart_total": "49.99", "flags": ["a", "b"]},
    "modules": {"django": "5.2", "Babel": "2.1", "requests": "2.32"},
    "debug_meta": {"images": []},
    "custom_top_level": {"x": 1},
}


def test_details_sections(logged_in, send):
    event = send(RICH)
    page = text_of(logged_in.get(url("details", event.issue_id)))
    for section in ('id="event"', 'id="request"', 'id="user"', 'id="contexts"', 'id="sdk"', 'id="extra"'):
        assert section in page, section
    assert '<pre class="message-text" dir="auto">checkout of cart_1 failed</pre>' in page
    # event fields
    for value in ("shop@1.2.3", "production", "web-01", "shop.checkout", "/checkout/", event.event_id.hex):
        assert value in page
    # request: method + URL, query string, headers (sent as pairs), cookies, body, env
    assert "POST https://shop.example/checkout/" in page
    assert "step=pay&retry=1" in page
    assert '<dt dir="auto">User-Agent</dt>' in page and "req-42" in page
    assert "<h3><bdi>Cookies</bdi></h3>" in page and '<dt dir="auto">theme</dt>' in page
    assert '"amount": 4999' in page and "203.0.113.9" in page
    # user (id sent as an int), contexts known and custom, a null context is skipped
    assert '<dt dir="auto">id</dt><dd><span class="kv-value kv-token" dir="auto">42</span>' in page
    assert "ann@example.com" in page and '"plan": "pro"' in page
    contexts = page[page.index('id="contexts"') : page.index('id="sdk"')]
    assert (
        contexts.index("<h3><bdi>Browser</bdi></h3>")
        < contexts.index("<h3><bdi>OS</bdi></h3>")
        < contexts.index("<h3><bdi>Runtime</bdi></h3>")
    )
    assert "<h3><bdi>Device</bdi></h3>" in contexts and "Pixel 8" in contexts
    assert "<h3><bdi>Feature flags</bdi></h3>" in contexts and "new_checkout" in contexts
    assert '<dt dir="auto">type</dt>' not in contexts
    # tags, each a search for events like it
    events_url = url("events", event.issue_id)
    assert f'href="{events_url}?q=customer%3A%22acme%20corp%22"' in page
    assert f'href="{events_url}?q=shard%3A7"' in page
    assert 'tag-value">Chrome 120.0<' in page  # derived from the browser context
    # sdk, extra, modules (collapsed, sorted), what is left over
    assert "sentry.python.django" in page and "2.75.0" in page and "django, logging" in page
    assert "pypi:sentry-sdk 2.75.0" in page
    assert "49.99" in page and '"a",' in page
    modules = page[page.index('id="modules"') :]
    assert "<details><summary><h2" in modules and "Modules (3)" in modules
    assert (
        modules.index('<dt dir="auto">Babel</dt>')
        < modules.index('<dt dir="auto">django</dt>')
        < modules.index('<dt dir="auto">requests</dt>')
    )
    other = page[page.index('id="other"') :]
    assert '<dt dir="auto">custom_top_level</dt>' in other and '<dt dir="auto">debug_meta</dt>' in other


# --- breadcrumbs tab --------------------------------------------------------------------------------------------


def test_breadcrumbs_timeline(logged_in, send):
    event = send(
        exception_event(
            timestamp="2024-06-20T08:33:30Z",
            breadcrumbs=[
                {"timestamp": "2024-06-20T08:33:20Z", "category": "query", "message": "SELECT 1", "level": "info"},
                {
                    "timestamp": 1718872405.5,
                    "category": "http",
                    "type": "http",
                    "level": "warning",
                    "data": {"url": "https://api.example", "status_code": 500},
                },
                {"category": "ui.click", "message": "button#pay", "level": "nonsense", "timestamp": "garbage"},
            ],
        )
    )
    page = text_of(logged_in.get(url("breadcrumbs", event.issue_id)))
    table = page[page.index('<table class="table breadcrumbs">') :]
    assert table.index("SELECT 1") < table.index("status_code") < table.index("button#pay")
    assert '<time datetime="2024-06-20T08:33:20+00:00"' in table and ">08:33:20<" in table
    assert "-10.0s" in table and "-4.5s" in table
    assert 'class="level level-warning"' in table and "nonsense" in table
    assert "ui.click" in table and "http" in table


def test_no_breadcrumbs(logged_in, send):
    event = send(exception_event())
    assert "This event has no breadcrumbs." in text_of(logged_in.get(url("breadcrumbs", event.issue_id)))


# --- event navigation, raw JSON ---------------------------------------------------------------------------------


def nav_links(page: str) -> dict:
    nav = page[page.index('class="event-nav"') : page.index('class="event-nav-meta"')]
    links = {}
    for label in ("First", "Previous", "Next", "Last"):
        match = re.search(r'<a class="btn btn-small" href="([^"]+)"[^>]*>[^<]*' + label, nav)
        links[label] = match.group(1) if match else None
    return links


def test_event_navigation_first_previous_next_last(logged_in, send):
    events = [send(exception_event(release=f"1.{i}")) for i in range(4)]
    issue = events[0].issue_id
    assert [e.digest_order for e in events] == [1, 2, 3, 4]

    latest = text_of(logged_in.get(url("stacktrace", issue)))
    assert "Event <strong>4</strong> of 4" in latest
    assert nav_links(latest) == {
        "First": url("event", issue, events[0].pk),
        "Previous": url("event", issue, events[2].pk),
        "Next": None,
        "Last": None,
    }

    second = text_of(logged_in.get(url("event", issue, events[1].pk)))
    assert "Event <strong>2</strong> of 4" in second
    assert nav_links(second) == {
        "First": url("event", issue, events[0].pk),
        "Previous": url("event", issue, events[0].pk),
        "Next": url("event", issue, events[2].pk),
        "Last": url("event", issue, events[3].pk),
    }
    assert events[1].event_id.hex in second
    assert f'href="{url("event", issue, events[1].pk)}"' in second  # permalink
    assert f'href="{url("event_json", issue, events[1].pk)}"' in second
    assert f'href="{url("event_download", issue, events[1].pk)}" download' in second

    first = text_of(logged_in.get(url("event_details", issue, events[0].pk)))
    assert "Event <strong>1</strong> of 4" in first
    # on another tab the links stay on that tab
    assert nav_links(first) == {
        "First": None,
        "Previous": None,
        "Next": url("event_details", issue, events[1].pk),
        "Last": url("event_details", issue, events[3].pk),
    }
    # and the tabs keep the event
    assert f'href="{url("event_breadcrumbs", issue, events[0].pk)}"' in first


def test_navigation_skips_evicted_events(logged_in, send):
    events = [send(exception_event()) for _ in range(4)]
    Event.objects.filter(pk=events[2].pk).delete()
    page = text_of(logged_in.get(url("event", events[0].issue_id, events[1].pk)))
    assert nav_links(page)["Next"] == url("event", events[0].issue_id, events[3].pk)


def test_raw_json_and_download(logged_in, send):
    event = send(RICH)
    response = logged_in.get(url("event_json", event.issue_id, event.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "Content-Disposition" not in response
    assert json.loads(response.content) == event.data
    assert response.content.decode().startswith('{\n  "')  # pretty-printed

    response = logged_in.get(url("event_download", event.issue_id, event.pk))
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == f'attachment; filename="{event.event_id.hex}.json"'
    assert json.loads(response.content) == event.data


def test_event_by_sdk_event_id_redirects_to_the_event(logged_in, send):
    event = send(exception_event())
    response = logged_in.get(url("event_by_id", event.issue_id, str(event.event_id)))
    assert response.status_code == 302 and response["Location"] == url("event", event.issue_id, event.pk)


# --- events tab -------------------------------------------------------------------------------------------------


def event_rows(page: str) -> list[str]:
    return re.findall(r'<td class="num muted">(\d+)</td>', page)


def test_events_tab_newest_first_and_filtered_by_search(logged_in, send):
    for i in range(5):
        event = send(exception_event(release="1.0" if i % 2 else "2.0", tags={"browser": f"Firefox {i}"}))
    issue = event.issue_id
    page = text_of(logged_in.get(url("events", issue)))
    assert event_rows(page) == ["5", "4", "3", "2", "1"]
    assert f'href="{url("event", issue, event.pk)}"' in page

    assert event_rows(text_of(logged_in.get(url("events", issue), {"q": "release:1.0"}))) == ["4", "2"]
    # the browser context is not set: the SDK's own `browser` tag counts
    assert event_rows(text_of(logged_in.get(url("events", issue), {"q": 'browser:"Firefox 3"'}))) == ["4"]
    assert event_rows(text_of(logged_in.get(url("events", issue), {"q": "ValueError"}))) == ["5", "4", "3", "2", "1"]
    page = text_of(logged_in.get(url("events", issue), {"q": "release:9.9"}))
    assert event_rows(page) == [] and "No events match" in page


def test_events_tab_keyset_pagination_without_offset_or_count(logged_in, send, monkeypatch):
    monkeypatch.setattr(detail, "EVENTS_PAGE_SIZE", 2)
    for _ in range(5):
        event = send(exception_event())
    address = url("events", event.issue_id)
    with CaptureQueriesContext(connection) as queries:
        page = text_of(logged_in.get(address))
    assert not any("OFFSET" in q["sql"].upper() or "COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    assert event_rows(page) == ["5", "4"]
    older = html.unescape(re.search(r'href="([^"]+)" rel="next">Older', page).group(1))
    assert older == f"{address}?before=4"
    assert "Newer" not in page

    page = text_of(logged_in.get(older))
    assert event_rows(page) == ["3", "2"]
    newer = html.unescape(re.search(r'href="([^"]+)" rel="prev">‹ Newer', page).group(1))
    assert newer == f"{address}?after=3"
    page = text_of(logged_in.get(re.search(r'href="([^"]+)" rel="next">Older', page).group(1)))
    assert event_rows(page) == ["1"] and "Older" not in page

    page = text_of(logged_in.get(newer))
    assert event_rows(page) == ["5", "4"]

    # the search survives paging
    page = text_of(logged_in.get(address, {"q": "ValueError"}))
    assert f'href="{address}?q=ValueError&before=4" rel="next"' in page


# --- tags tab ---------------------------------------------------------------------------------------------------


def test_tags_tab_distribution_with_percentages(logged_in, send):
    for browser in ("Chrome", "Chrome", "Chrome", "Firefox"):
        event = send(exception_event(tags={"browser": browser}))
    send(exception_event(tags={"region": "eu"}))
    issue = event.issue_id
    page = text_of(logged_in.get(url("tags", issue)))
    browser = page[page.index('<bdi class="mono">browser</bdi>') :]
    browser = browser[: browser.index("</section>")]
    assert "2 values" in browser
    assert browser.index(">Chrome<") < browser.index(">Firefox<")
    assert '<td class="num tag-percentage">60.0%</td>' in browser  # 3 of 5 events
    assert '<td class="num tag-percentage">20.0%</td>' in browser
    assert '<rect width="60.0" height="1"/>' in browser  # the bar: an SVG rect, no style attribute (CSP)
    assert "(not set)" in browser  # the fifth event has no browser tag
    assert f'href="{url("events", issue)}?q=browser%3AChrome"' in browser
    assert '<bdi class="mono">level</bdi>' in page and "100.0%" in page


def test_tags_tab_shows_the_top_values_per_key_and_sums_the_rest(logged_in, send, monkeypatch):
    monkeypatch.setattr(detail, "TAG_VALUES_PER_KEY", 2)
    for user in ("a", "a", "a", "b", "b", "c", "d"):
        event = send(exception_event(user={"id": user}))
    page = text_of(logged_in.get(url("tags", event.issue_id)))
    section = page[page.index('<bdi class="mono">user</bdi>') :]
    section = section[: section.index("</section>")]
    assert "4 values" in section
    assert ">a<" in section and ">b<" in section and ">c<" not in section
    assert "2 other values" in section and '<td class="num">28.6%</td><td class="num">2</td>' in section


def test_no_tags(logged_in, project):
    issue = make_issue(project)
    assert "No tags were recorded for this issue." in text_of(logged_in.get(url("tags", issue)))


# --- history tab ------------------------------------------------------------------------------------------------


def test_history_newest_first_with_details(logged_in, send, member):
    event = send(exception_event(release="1.0"))
    issue = Issue.objects.get(pk=event.issue_id)
    post_action(logged_in, issue, action="resolve_by_latest")
    post_action(logged_in, issue, action="reopen")
    post_action(logged_in, issue, action="mute", volume="50", nr_of_periods="1", period="hour")
    post_action(logged_in, issue, action="unmute")
    post_action(logged_in, issue, action="mute", mute_for="8h")
    page = text_of(logged_in.get(url("history", issue)))
    timeline = page[page.index('<ol class="timeline"') :]
    kinds = re.findall(r"<strong>([^<]+)</strong>", timeline)
    assert kinds == ["Muted", "Unmuted", "Muted", "Reopened", "Resolved", "First seen"]
    assert "in release 1.0" in timeline
    assert "until 50 events in the last hour" in timeline
    assert re.search(r'until <time datetime="[^"]+"', timeline)  # the timed mute
    assert timeline.count(f"</span> <bdi>{member.username}</bdi>") == 5
    assert '<span class="muted">Culvert</span>' in timeline  # first seen: nobody did it
    assert f'href="{url("event", issue, event.pk)}">triggering event' in timeline


def test_history_shows_why_digest_unmuted_and_regressed(logged_in, project):
    issue = make_issue(project)
    IssueStateManager._turning_point(issue, TurningPoint.Kind.UNMUTED, reason="5 events in the last hour")
    IssueStateManager._turning_point(issue, TurningPoint.Kind.REGRESSED, release="2.0")
    IssueStateManager._turning_point(issue, TurningPoint.Kind.RESOLVED, release="next")
    page = text_of(logged_in.get(url("history", issue)))
    assert "because of 5 events in the last hour" in page
    assert "release 2.0" in page and "in the next release" in page


def test_comments_add_edit_delete_by_their_author_only(client, project, member, colleague):
    issue = make_issue(project)
    client.force_login(member)
    page = text_of(client.post(url("comment_add", issue), {"comment": "  looking into it\nsecond line "}, follow=True))
    assert "Comment added." in page
    point = issue.turning_points.get(kind=TurningPoint.Kind.COMMENT)
    assert point.comment == "looking into it\nsecond line" and point.user == member
    assert '<p dir="auto">looking into it<br>\nsecond line</p>' in page
    assert url("comment_edit", issue, point.pk) in page and url("comment_delete", issue, point.pk) in page

    assert "A comment needs some text." in text_of(
        client.post(url("comment_add", issue), {"comment": " "}, follow=True)
    )

    page = text_of(client.post(url("comment_edit", issue, point.pk), {"comment": "fixed in #12"}, follow=True))
    assert "Comment saved." in page and "fixed in #12" in page and "edited <time" in page
    point.refresh_from_db()
    assert point.comment == "fixed in #12"
    page = text_of(client.post(url("comment_edit", issue, point.pk), {"comment": ""}, follow=True))
    assert "A comment needs some text; delete it instead." in page

    # another member sees the comment but cannot change it
    client.force_login(colleague)
    page = text_of(client.get(url("history", issue)))
    assert "fixed in #12" in page and url("comment_edit", issue, point.pk) not in page
    page = text_of(client.post(url("comment_edit", issue, point.pk), {"comment": "mine now"}, follow=True))
    assert "Only the author of a comment can change it." in page
    page = text_of(client.post(url("comment_delete", issue, point.pk), follow=True))
    assert "Only the author of a comment can change it." in page
    point.refresh_from_db()
    assert point.comment == "fixed in #12"

    client.force_login(member)
    assert "Comment deleted." in text_of(client.post(url("comment_delete", issue, point.pk), follow=True))
    assert not TurningPoint.objects.filter(pk=point.pk).exists()


def test_comment_routes_only_reach_comments_of_this_issue(logged_in, project, member):
    issue, other = make_issue(project), make_issue(project)
    comment = IssueStateManager.add_comment(other, member, "elsewhere")
    assert logged_in.post(url("comment_edit", issue, comment.pk), {"comment": "x"}).status_code == 404
    assert logged_in.post(url("comment_delete", issue, comment.pk)).status_code == 404
    resolved = IssueStateManager._turning_point(issue, TurningPoint.Kind.RESOLVED, user=member)
    assert logged_in.post(url("comment_delete", issue, resolved.pk)).status_code == 404
    assert TurningPoint.objects.filter(pk__in=[comment.pk, resolved.pk]).count() == 2


# --- query counts -----------------------------------------------------------------------------------------------

MAX_QUERIES = 14  # measured: 10 (issue page), 12-13 (an event tab), 9-10 (events, tags, history); one is "may delete";
# +1 each since the header lists the assignable members with the viewer's subscription (one query)


def rich_event(i: int) -> dict:
    return {
        **RICH,
        "fingerprint": ["query-count-test"],
        "release": f"1.{i % 4}",
        "tags": {"customer": f"c{i % 7}", "shard": str(i % 3)},
        "breadcrumbs": [{"category": "x", "message": f"m{i}", "timestamp": 1718870000 + i}],
        "exception": CHAINED["exception"],
    }


@pytest.mark.parametrize("n", [3, 50])
def test_query_count_is_bounded_whatever_the_number_of_events(
    logged_in, send, member, n, django_assert_max_num_queries
):
    events = [send(rich_event(i)) for i in range(n)]
    issue = Issue.objects.get(pk=events[0].issue_id)
    assert issue.event_count == n
    IssueStateManager.add_comment(issue, member, "a comment")
    middle = events[n // 2]
    pages = [
        url("stacktrace", issue),
        url("stacktrace", issue) + "?in_app=1",
        url("event", issue, middle.pk),
        url("event_details", issue, middle.pk),
        url("event_breadcrumbs", issue, middle.pk),
        url("events", issue),
        url("events", issue) + "?q=customer:c1",
        url("tags", issue),
        url("history", issue),
        url("event_json", issue, middle.pk),
    ]
    for address in pages:
        with django_assert_max_num_queries(MAX_QUERIES):
            assert logged_in.get(address).status_code == 200, address


def test_query_counts_are_the_same_for_3_and_50_events(logged_in, send, member):
    def counts(fingerprint: str, n: int) -> list[int]:
        events = [send({**rich_event(i), "fingerprint": [fingerprint]}) for i in range(n)]
        issue = events[0].issue_id
        result = []
        for address in (url("stacktrace", issue), url("event_details", issue, events[1].pk), url("events", issue)):
            with CaptureQueriesContext(connection) as queries:
                logged_in.get(address)
            result.append(len(queries.captured_queries))
        return result

    assert counts("small", 3) == counts("large", 50)


def test_times_are_shown_in_the_users_time_zone(logged_in, member, send):
    from accounts.models import UserPreferences

    UserPreferences.objects.create(user=member, timezone="Asia/Tokyo")
    event = send(exception_event(timestamp="2024-06-20T08:33:30Z"))
    page = text_of(logged_in.get(url("event", event.issue_id, event.pk)))
    assert '<time datetime="2024-06-20T08:33:30+00:00" title="20 Jun 2024, 17:33:30.000000 JST">' in page
    assert ">20 Jun 2024, 17:33:30</time>" in page
