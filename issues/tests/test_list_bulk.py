"""The issue list's bulk actions: every state action through IssueStateManager, mutes of every kind (and their
refusals), delete with its confirm step, redirects that keep the list's place, access rules and CSRF."""

import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from bugsink import jobs
from digest.period_counter import PeriodCounter
from events.models import Event
from issues.models import Grouping, Issue, TurningPoint
from issues.state import apply_to_issues
from projects.models import Project, ProjectMembership
from releases.models import Release
from tags.models import EventTag, IssueTag
from testing.utils import exception_event, make_issue


@pytest.fixture
def member(django_user_model, project):
    user = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user)
    return user


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


@pytest.fixture
def project_admin(django_user_model, project):
    user = django_user_model.objects.create_user("ada", "ada@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user, role=ProjectMembership.Role.ADMIN)
    return user


@pytest.fixture
def admin_member_client(project_admin):
    client = Client()
    client.force_login(project_admin)
    return client


@pytest.fixture
def bulk_url(project):
    return f"/projects/{project.pk}/issues/bulk/"


def post(client, url, action, issues, **data):
    return client.post(url, {"action": action, "issue": [str(i.pk) for i in issues], **data})


MESSAGE = re.compile(r'<div class="message message-(\w+)">(.*?)</div>', re.S)


def texts(response) -> list[tuple[str, str]]:
    """The messages the redirect target shows (reading them there also uses them up)."""
    assert response.status_code == 302, response.status_code
    page = response.client.get(response["Location"])
    return [(level, unescape(text)) for level, text in MESSAGE.findall(page.content.decode())]


def fresh(issue) -> Issue:
    return Issue.objects.get(pk=issue.pk)


# --- resolving and reopening ------------------------------------------------------------------------------------


def test_resolve(member_client, member, project, bulk_url):
    one, two, untouched = make_issue(project), make_issue(project), make_issue(project)
    response = post(member_client, bulk_url, "resolve", [one, two])
    assert response.status_code == 302 and response["Location"] == f"/projects/{project.pk}/issues/"
    assert texts(response) == [("success", "Resolved 2 issues.")]
    assert fresh(one).is_resolved and fresh(two).is_resolved and not fresh(untouched).is_resolved
    turning_point = TurningPoint.objects.filter(issue=one).get()
    assert (turning_point.kind, turning_point.user) == ("resolved", member)


def test_resolve_in_latest_and_next_release(member_client, project, bulk_url):
    now = timezone.now()
    Release.objects.create(project=project, version="1.0.0", date_released=now - timedelta(days=1))
    Release.objects.create(project=project, version="1.1.0", date_released=now)
    one, two = make_issue(project), make_issue(project)
    response = post(member_client, bulk_url, "resolve_by_latest", [one])
    assert texts(response) == [("success", "Resolved 1 issue in the latest release.")]
    assert fresh(one).is_resolved and fresh(one).fixed_at == ["1.1.0"]
    response = post(member_client, bulk_url, "resolve_by_next", [one, two])
    assert texts(response) == [("success", "Resolved 2 issues in the next release.")]
    assert fresh(two).is_resolved_by_next_release and fresh(one).is_resolved_by_next_release
    response = post(member_client, bulk_url, "resolve_by_next", [one])
    assert texts(response) == [
        ("warning", f"Skipped {one.short_id}: This issue is already resolved in the next release.")
    ]


def test_resolve_in_latest_release_without_releases_is_skipped_with_the_reason(member_client, project, bulk_url):
    issue = make_issue(project)
    response = post(member_client, bulk_url, "resolve_by_latest", [issue])
    assert texts(response) == [
        ("warning", f"Skipped {issue.short_id}: This project has no releases yet; resolve the issue without one.")
    ]
    assert not fresh(issue).is_resolved


def test_reopen(member_client, project, bulk_url):
    resolved, still_open = make_issue(project), make_issue(project)
    apply_to_issues([resolved], "resolve")
    response = post(member_client, bulk_url, "reopen", [resolved, still_open])
    assert texts(response) == [
        ("success", "Reopened 1 issue."),
        ("warning", f"Skipped {still_open.short_id}: Only a resolved issue can be reopened."),
    ]
    assert not fresh(resolved).is_resolved


# --- muting -----------------------------------------------------------------------------------------------------


def test_mute_forever_and_unmute(member_client, project, bulk_url):
    issue = make_issue(project)
    response = post(member_client, bulk_url, "mute", [issue])
    assert texts(response) == [("success", "Muted 1 issue until unmuted by hand.")]
    issue = fresh(issue)
    assert issue.is_muted and issue.unmute_after is None and issue.unmute_on_volume_based_conditions == []
    response = post(member_client, bulk_url, "unmute", [issue])
    assert texts(response) == [("success", "Unmuted 1 issue.")]
    assert not fresh(issue).is_muted
    response = post(member_client, bulk_url, "unmute", [issue])
    assert texts(response) == [("warning", f"Skipped {issue.short_id}: This issue is not muted.")]


@pytest.mark.parametrize(
    "action, duration, label",
    [
        ("mute_1h", timedelta(hours=1), "1 hour"),
        ("mute_8h", timedelta(hours=8), "8 hours"),
        ("mute_24h", timedelta(hours=24), "24 hours"),
        ("mute_7d", timedelta(days=7), "7 days"),
    ],
)
def test_mute_for_a_time(member_client, project, bulk_url, action, duration, label):
    issue = make_issue(project)
    before = timezone.now()
    response = post(member_client, bulk_url, action, [issue])
    after = timezone.now()
    [(level, message)] = texts(response)
    assert level == "success" and message.startswith(f"Muted 1 issue for {label} (until ")
    issue = fresh(issue)
    assert issue.is_muted and before + duration <= issue.unmute_after <= after + duration
    assert TurningPoint.objects.get(issue=issue, kind="muted").metadata["until"] == issue.unmute_after.isoformat()


@pytest.mark.parametrize("period", ["minute", "hour", "day", "month", "year"])
def test_mute_until_a_volume_condition(member_client, project, bulk_url, period):
    issue = make_issue(project)
    response = post(member_client, bulk_url, "mute_volume", [issue], volume="5", nr_of_periods="2", period=period)
    assert texts(response) == [
        ("success", f"Muted 1 issue; each unmutes when it has 5 events in the last 2 {period}s.")
    ]
    issue = fresh(issue)
    assert issue.is_muted and issue.unmute_after is None
    assert issue.unmute_on_volume_based_conditions == [{"period": period, "nr_of_periods": 2, "volume": 5}]


def test_mute_refused_when_the_volume_condition_is_already_met(member_client, project, bulk_url):
    counter = PeriodCounter()
    counter.inc(timezone.now(), 3)
    loud = make_issue(project, period_counts=counter.to_dict(), event_count=3)
    quiet = make_issue(project)
    response = post(member_client, bulk_url, "mute_volume", [loud, quiet], volume="2", nr_of_periods="1", period="hour")
    assert texts(response) == [
        ("success", "Muted 1 issue; each unmutes when it has 2 events in the last hour."),
        (
            "warning",
            f"Skipped {loud.short_id}: This issue already has 3 events in the last hour, at least the 2 to unmute "
            "at: muting until that happens would unmute it at the next event. Choose a higher volume or a shorter "
            "span.",
        ),
    ]
    assert not fresh(loud).is_muted and fresh(quiet).is_muted
    # the message reaches the page after the redirect
    data = {"action": "mute_volume", "issue": [str(loud.pk)], "volume": "3", "nr_of_periods": "1", "period": "hour"}
    response = member_client.post(bulk_url, data, follow=True)
    assert response.redirect_chain == [(f"/projects/{project.pk}/issues/", 302)]
    assert "This issue already has 3 events in the last hour, at least the 3" in response.content.decode()


def test_mute_refusals_for_resolved_issues_are_grouped_by_reason(member_client, project, bulk_url):
    resolved = [make_issue(project) for _ in range(3)]
    apply_to_issues(resolved, "resolve")
    response = post(member_client, bulk_url, "mute", resolved)
    ids = ", ".join(i.short_id for i in resolved)
    assert texts(response) == [("warning", f"Skipped {ids}: A resolved issue cannot be muted; reopen it first.")]


@pytest.mark.parametrize(
    "data, error",
    [
        ({"volume": "", "nr_of_periods": "1", "period": "hour"}, "Not muted: Volume must be a positive whole number."),
        ({"volume": "0", "nr_of_periods": "1", "period": "hour"}, "Not muted: Volume must be a positive whole number."),
        (
            {"volume": "5", "nr_of_periods": "x", "period": "hour"},
            "Not muted: Number of periods must be a positive whole number.",
        ),
        ({"volume": "5", "nr_of_periods": "1", "period": "week"}, "Not muted: Unknown period 'week'"),
        ({"volume": "\u00b2", "nr_of_periods": "1", "period": "hour"}, "Not muted: Volume must be a positive whole"),
        (
            {"volume": "5", "nr_of_periods": "49", "period": "hour"},
            "Not muted: At most 48 hours can be looked back on; use a longer period.",
        ),
    ],
)
def test_invalid_volume_conditions_are_refused(member_client, project, bulk_url, data, error):
    issue = make_issue(project)
    response = post(member_client, bulk_url, "mute_volume", [issue], **data)
    [(level, message)] = texts(response)
    assert level == "error" and message.startswith(error)
    assert not fresh(issue).is_muted


def test_the_mute_form_explains_the_window(member_client, project):
    make_issue(project)
    html = member_client.get(f"/projects/{project.pk}/issues/").content.decode()
    assert "calendar periods in UTC, not rolling windows" in html
    assert "“the last 2 hours” at 10:20 counts the events since\n          09:00" in html
    assert "at most 60 minutes, 48 hours, 62 days, 24 months, 10 years" in html
    for value in ("mute", "mute_1h", "mute_8h", "mute_24h", "mute_7d", "mute_volume"):
        assert f'name="action" value="{value}"' in html


# --- the form itself --------------------------------------------------------------------------------------------


def test_redirect_keeps_q_tab_sort_and_page(member_client, project, bulk_url):
    issue = make_issue(project)
    response = post(
        member_client,
        bulk_url,
        "resolve",
        [issue],
        q="level:error",
        tab="all",
        sort="event_count",
        per_page="25",
        after="5." + issue.pk.hex,
    )
    location = urlsplit(response["Location"])
    assert location.path == f"/projects/{project.pk}/issues/"
    assert parse_qs(location.query) == {
        "q": ["level:error"],
        "tab": ["all"],
        "sort": ["event_count"],
        "per_page": ["25"],
        "after": ["5." + issue.pk.hex],
    }
    # what the list page puts in the form comes back the same way
    html = member_client.get(f"/projects/{project.pk}/issues/", {"q": "bad", "tab": "all"}).content.decode()
    assert f'<form method="post" action="{bulk_url}"' in html
    assert (
        '<input type="hidden" name="q" value="bad">' in html and '<input type="hidden" name="tab" value="all">' in html
    )


def test_nothing_selected_and_unknown_actions(member_client, project, bulk_url):
    issue = make_issue(project)
    response = member_client.post(bulk_url, {"action": "resolve"})
    assert response.status_code == 302 and texts(response) == [("error", "Select one or more issues first.")]
    response = member_client.post(bulk_url, {"action": "resolve", "issue": ["not-a-uuid"]})
    assert texts(response) == [("error", "Select one or more issues first.")]
    response = post(member_client, bulk_url, "explode", [issue])
    assert texts(response) == [("error", "Unknown action.")]
    response = member_client.post(bulk_url, {"action": "resolve", "issue": [str(issue.pk)] * 501})
    assert texts(response) == [("error", "At most 500 issues can be changed at once.")]
    assert not fresh(issue).is_resolved


def test_only_post(member_client, project, bulk_url):
    assert member_client.get(bulk_url).status_code == 405
    assert member_client.get("/issues/bulk/").status_code == 405


def test_issues_of_other_projects_are_never_touched(member_client, project, bulk_url):
    other = Project.objects.create(name="Other", slug="other")
    mine, theirs = make_issue(project), make_issue(other)
    # through my project's endpoint: the other project's issue is not found
    response = post(member_client, bulk_url, "resolve", [mine, theirs])
    assert texts(response) == [("success", "Resolved 1 issue.")]
    # through the all-projects endpoint: not visible
    response = post(member_client, "/issues/bulk/", "resolve", [theirs])
    assert texts(response) == [("error", "The selected issues no longer exist.")]
    assert not fresh(theirs).is_resolved
    # and the other project's own endpoint is a 404, for state changes and deletion alike
    assert post(member_client, f"/projects/{other.pk}/issues/bulk/", "resolve", [theirs]).status_code == 404
    response = post(member_client, f"/projects/{other.pk}/issues/bulk/", "delete", [theirs], confirm="yes")
    assert response.status_code == 404 and Issue.objects.filter(pk=theirs.pk).exists()


def test_all_projects_endpoint(member_client, member, project):
    other = Project.objects.create(name="Other", slug="other")
    ProjectMembership.objects.create(project=other, user=member)
    one, two = make_issue(project), make_issue(other)
    response = post(member_client, "/issues/bulk/", "resolve", [one, two], tab="all")
    assert response["Location"] == "/issues/?tab=all"
    assert texts(response) == [("success", "Resolved 2 issues.")]
    html = member_client.get("/issues/", {"tab": "all"}).content.decode()
    assert '<form method="post" action="/issues/bulk/"' in html


def test_csrf_is_enforced(member, project, bulk_url):
    issue = make_issue(project)
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    response = post(client, bulk_url, "resolve", [issue])
    assert response.status_code == 403 and not fresh(issue).is_resolved
    # with the token of the list page's form it goes through
    page = client.get(f"/projects/{project.pk}/issues/")
    token = page.context["csrf_token"]
    assert f'name="csrfmiddlewaretoken" value="{token}"' in page.content.decode()
    response = post(client, bulk_url, "resolve", [issue], csrfmiddlewaretoken=token)
    assert response.status_code == 302 and fresh(issue).is_resolved


def test_the_form_works_without_javascript(member_client, project):
    """Buttons are plain submit buttons, enabled in the HTML (the script disables them until something is selected)."""
    make_issue(project)
    html = member_client.get(f"/projects/{project.pk}/issues/").content.decode()
    assert '<form method="post" action="/projects/' in html and 'name="csrfmiddlewaretoken"' in html
    assert "disabled" not in html.split("data-issue-list", 1)[1].split("</form>", 1)[0]
    assert html.count("data-bulk-action") == 13  # with Assign and Merge; a plain member has no Delete button


# --- delete -----------------------------------------------------------------------------------------------------


def test_delete_asks_first_then_deletes_everything_of_the_issue(
    admin_member_client, project, bulk_url, send_event, transactional_db
):
    member_client = admin_member_client
    send_event(project, exception_event("ValueError", "doomed", release="1.0", tags={"customer": "acme"}))
    send_event(project, exception_event("ValueError", "doomed", release="1.1"))
    send_event(project, exception_event("KeyError", "survivor", release="1.0"))
    doomed = Issue.objects.get(calculated_type="ValueError")
    survivor = Issue.objects.get(calculated_type="KeyError")
    apply_to_issues([doomed], "resolve")

    response = post(member_client, bulk_url, "delete", [doomed], q="doomed", tab="all")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Delete 1 issue?" in html and doomed.short_id in html and "2 stored events" in html
    assert 'name="confirm" value="yes"' in html and f'name="issue" value="{doomed.pk}"' in html
    assert '<input type="hidden" name="q" value="doomed">' in html
    assert f'href="/projects/{project.pk}/issues/?q=doomed&amp;tab=all">Cancel</a>' in html
    assert Issue.objects.filter(pk=doomed.pk).exists()  # nothing deleted yet

    response = post(member_client, bulk_url, "delete", [doomed], confirm="yes", q="doomed", tab="all")
    assert response.status_code == 302 and response["Location"] == f"/projects/{project.pk}/issues/?q=doomed&tab=all"
    assert texts(response) == [("success", "Deleting 1 issue and its events in the background.")]
    assert jobs.wait_idle(20), "the deletion job finished"
    assert not Issue.objects.filter(pk=doomed.pk).exists()
    for model in (Event, EventTag, IssueTag, Grouping, TurningPoint):
        assert not model.objects.filter(issue_id=doomed.pk).exists(), model
        assert model.objects.filter(issue_id=survivor.pk).exists(), model
    # a new event of the same kind starts a new issue
    send_event(project, exception_event("ValueError", "doomed", release="1.2"))
    assert Issue.objects.filter(calculated_type="ValueError").count() == 1


def test_delete_confirm_page_without_javascript_and_csrf(project_admin, project, bulk_url, transactional_db):
    issue = make_issue(project)
    client = Client(enforce_csrf_checks=True)
    client.force_login(project_admin)
    token = client.get(f"/projects/{project.pk}/issues/").context["csrf_token"]
    response = post(client, bulk_url, "delete", [issue], csrfmiddlewaretoken=token)
    assert response.status_code == 200 and 'name="csrfmiddlewaretoken"' in response.content.decode()
    assert post(client, bulk_url, "delete", [issue], confirm="yes").status_code == 403
    assert Issue.objects.filter(pk=issue.pk).exists()
    post(client, bulk_url, "delete", [issue], confirm="yes", csrfmiddlewaretoken=token)
    assert jobs.wait_idle(20)
    assert not Issue.objects.filter(pk=issue.pk).exists()


# --- who may delete ---------------------------------------------------------------------------------------------


DELETE_BUTTON = 'value="delete"'


def test_a_plain_member_sees_no_delete_button_and_is_refused(member_client, project, bulk_url):
    issue = make_issue(project)
    for list_url in (f"/projects/{project.pk}/issues/", "/issues/"):
        html = member_client.get(list_url).content.decode()
        assert 'value="resolve"' in html and DELETE_BUTTON not in html
    for url in (bulk_url, "/issues/bulk/"):
        for confirm in ({}, {"confirm": "yes"}):  # neither the confirm page nor the deletion itself
            response = post(member_client, url, "delete", [issue], **confirm)
            assert response.status_code == 403
            assert "Only a project's admins can delete its issues" in response.content.decode()
    assert Issue.objects.filter(pk=issue.pk).exists()


def test_project_admins_team_admins_and_superusers_may_delete(
    admin_member_client, project, bulk_url, django_user_model, transactional_db
):
    from projects.models import Team, TeamMembership

    first = make_issue(project)
    html = admin_member_client.get(f"/projects/{project.pk}/issues/").content.decode()
    assert DELETE_BUTTON in html
    assert texts(post(admin_member_client, bulk_url, "delete", [first], confirm="yes")) == [
        ("success", "Deleting 1 issue and its events in the background.")
    ]

    team = Team.objects.create(name="Core")
    project.team = team
    project.save()
    team_admin = django_user_model.objects.create_user("tia", "tia@example.com", "pw")
    TeamMembership.objects.create(team=team, user=team_admin, role="admin")
    superuser = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    for user in (team_admin, superuser):
        client = Client()
        client.force_login(user)
        issue = make_issue(project)
        assert DELETE_BUTTON in client.get("/issues/").content.decode()
        assert post(client, "/issues/bulk/", "delete", [issue], confirm="yes").status_code == 302
        assert jobs.wait_idle(20)
        assert not Issue.objects.filter(pk=issue.pk).exists()


def test_across_projects_every_selected_project_must_be_administered(project_admin, project, transactional_db):
    """Admin of one project, member of another: a selection that includes the other project's issue is refused."""
    other = Project.objects.create(name="Other", slug="other")
    ProjectMembership.objects.create(project=other, user=project_admin, role=ProjectMembership.Role.MEMBER)
    mine, theirs = make_issue(project), make_issue(other)
    client = Client()
    client.force_login(project_admin)
    assert DELETE_BUTTON in client.get("/issues/").content.decode()
    assert DELETE_BUTTON not in client.get(f"/projects/{other.pk}/issues/").content.decode()
    assert post(client, "/issues/bulk/", "delete", [mine, theirs], confirm="yes").status_code == 403
    assert Issue.objects.filter(pk__in=[mine.pk, theirs.pk]).count() == 2
    assert post(client, "/issues/bulk/", "delete", [mine], confirm="yes").status_code == 302
    assert jobs.wait_idle(20)
    assert not Issue.objects.filter(pk=mine.pk).exists()


def test_issues_being_deleted_show_as_deleting_until_the_job_ran(admin_member_client, project, bulk_url):
    """Inside this test's transaction the deletion job never starts (it waits for a commit): what the pages show
    between the request and the job."""
    doomed, kept = make_issue(project), make_issue(project)
    response = post(admin_member_client, bulk_url, "delete", [doomed], confirm="yes")
    assert texts(response) == [("success", "Deleting 1 issue and its events in the background.")]
    assert Issue.objects.get(pk=doomed.pk).is_deleting and not Issue.objects.get(pk=kept.pk).is_deleting
    html = admin_member_client.get(f"/projects/{project.pk}/issues/").content.decode()
    assert html.count("data-deleting") == 1
    assert "data-deleting" in admin_member_client.get(f"/issues/{doomed.pk}/").content.decode()
    assert "data-deleting" not in admin_member_client.get(f"/issues/{kept.pk}/").content.decode()
