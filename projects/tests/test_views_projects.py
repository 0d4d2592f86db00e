"""The project list, creating a project, the DSN/SDK setup page and the general settings."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from digest.period_counter import PeriodCounter
from projects.models import Project, ProjectMembership, Team, TeamMembership
from testing.utils import make_issue


def counts_with(*hours_ago_and_n) -> dict:
    counter = PeriodCounter()
    now = timezone.now()
    for hours_ago, n in hours_ago_and_n:
        counter.inc(now - timedelta(hours=hours_ago), n)
    return counter.to_dict()


# --- list -----------------------------------------------------------------------------------------------------------


def test_list_shows_open_issue_counts_sparkline_and_links(client_for, owner, project):
    make_issue(project)
    make_issue(project)
    make_issue(project, is_resolved=True)
    make_issue(project, is_muted=True)
    project.period_counts = counts_with((0, 3), (5, 4), (30, 100))  # 30 h ago is outside the last 24 h
    project.save()

    response = client_for(owner).get(reverse("projects:list"))

    assert response.status_code == 200
    row = response.context["projects"][0]
    assert row.open_issues == 2  # neither the resolved nor the muted one
    assert row.events_24h == 7
    html = response.content.decode()
    assert f'href="{reverse("issues:project", args=[project.pk])}"' in html
    assert '<svg class="sparkline"' in html and 'aria-label="7 events in the last 24 hours"' in html
    (bars,) = re.findall(r'<svg class="sparkline"[^>]*>.*?<path d="([^"]*)"', html)
    assert bars.count("M") == 24  # one bar per hour
    assert f'href="{reverse("projects:settings", args=[project.pk])}"' in html  # the owner may change settings


def test_list_shows_only_the_users_projects_directly_or_through_a_team(client_for, make_user, project, other_project):
    third = Project.objects.create(name="Third", slug="third")
    team = Team.objects.create(name="Ops")
    third.team = team
    third.save()
    user = make_user("tess")
    ProjectMembership.objects.create(project=project, user=user, role="member")
    TeamMembership.objects.create(team=team, user=user, role="member")

    response = client_for(user).get(reverse("projects:list"))

    names = [p.name for p in response.context["projects"]]
    assert names == ["My App", "Third"]
    # a member is no admin: no settings link
    assert reverse("projects:settings", args=[project.pk]).encode() not in response.content


def test_a_user_in_a_project_twice_sees_it_once_with_the_right_count(client_for, make_user, project):
    """Directly and through the team: the access join must not double rows or counts."""
    team = Team.objects.create(name="Ops")
    project.team = team
    project.save()
    user = make_user("tess")
    ProjectMembership.objects.create(project=project, user=user, role="member")
    TeamMembership.objects.create(team=team, user=user, role="admin")
    make_issue(project)

    rows = client_for(user).get(reverse("projects:list")).context["projects"]

    assert len(rows) == 1 and rows[0].open_issues == 1
    assert rows[0].user_is_admin  # as team admin


def test_empty_list_invites_to_create_a_project(client_for, make_user):
    response = client_for(make_user("new")).get(reverse("projects:list"))
    assert b"No projects yet" in response.content
    assert reverse("projects:create").encode() in response.content


@pytest.mark.parametrize("n", [1, 12])
def test_list_query_count_does_not_grow_with_projects(client_for, make_user, django_assert_max_num_queries, n):
    user = make_user("busy")
    team = Team.objects.create(name="Ops")
    TeamMembership.objects.create(team=team, user=user, role="member")
    for i in range(n):
        p = Project.objects.create(name=f"P{i}", slug=f"p{i}", team=team if i % 2 else None)
        ProjectMembership.objects.create(project=p, user=user, role="admin" if i % 3 else "member")
        p.period_counts = counts_with((1, i + 1))
        p.save()
        make_issue(p)
    client = client_for(user)
    client.get(reverse("projects:list"))  # warm the preferences row

    # session, user, preferences, projects (with counts and admin flags): whatever the number of projects
    with django_assert_max_num_queries(5):
        response = client.get(reverse("projects:list"))
    assert len(response.context["projects"]) == n


# --- create -------------------------------------------------------------------------------------------------------


def test_create_makes_the_creator_admin_and_shows_the_dsn(client_for, make_user, settings):
    settings.BASE_URL = "https://errors.example.com"
    user = make_user("cora")
    client = client_for(user)
    assert client.get(reverse("projects:create")).status_code == 200

    response = client.post(reverse("projects:create"), {"name": "Web Shop", "slug": ""}, follow=True)

    project = Project.objects.get(name="Web Shop")
    assert project.slug == "web-shop"
    assert ProjectMembership.objects.get(project=project, user=user).role == "admin"
    assert response.redirect_chain[-1][0] == reverse("projects:setup", args=[project.pk])
    html = response.content.decode()
    dsn = f"https://{project.sentry_key}@errors.example.com/{project.pk}"
    assert re.search(rf'<div class="copyable">\s*<code id="dsn-{project.pk}">{re.escape(dsn)}</code>', html)
    assert f'data-copy="#dsn-{project.pk}"' in html
    # SDK snippets: Python, JavaScript/Node and the generic ones, each with the DSN (or the key) filled in
    assert f'dsn="{dsn}"' in html and "import sentry_sdk" in html
    assert f'dsn: "{dsn}"' in html and "@sentry/node" in html
    assert "sentry-cli send-event" in html
    assert f"https://errors.example.com/api/{project.pk}/envelope/" in html
    assert f"sentry_key={project.sentry_key}" in html


def test_create_with_a_slug_and_a_team_of_ones_own(client_for, make_user):
    user = make_user("cora")
    team = Team.objects.create(name="Ops")
    TeamMembership.objects.create(team=team, user=user, role="member")
    foreign_team = Team.objects.create(name="Not mine")
    client = client_for(user)

    refused = client.post(reverse("projects:create"), {"name": "X", "slug": "x", "team": foreign_team.pk})
    assert refused.status_code == 200 and "team" in refused.context["form"].errors

    client.post(reverse("projects:create"), {"name": "Web Shop", "slug": "Shop", "team": team.pk})
    project = Project.objects.get(name="Web Shop")
    assert (project.slug, project.team) == ("shop", team)


def test_create_refuses_duplicates_and_keeps_the_input(client_for, make_user, project):
    client = client_for(make_user("cora"))
    response = client.post(reverse("projects:create"), {"name": "My App", "slug": ""})
    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    response = client.post(reverse("projects:create"), {"name": "Fresh", "slug": "myapp"})
    assert "slug" in response.context["form"].errors
    assert b'value="Fresh"' in response.content
    assert not Project.objects.filter(name="Fresh").exists()


def test_the_curl_snippet_is_a_valid_envelope(client, project):
    """The generic snippet's body, sent as the page says, is accepted by the ingest endpoint."""
    body = b'{}\n{"type":"event"}\n{"level":"error","message":"Hello from curl"}\n'
    response = client.post(
        f"/api/{project.pk}/envelope/",
        data=body,
        content_type="application/x-sentry-envelope",
        HTTP_X_SENTRY_AUTH=f"Sentry sentry_version=7, sentry_client=curl/1.0, sentry_key={project.sentry_key}",
    )
    assert response.status_code == 200 and "id" in response.json()


def test_setup_page_for_a_member_shows_the_dsn_without_settings(client_for, member, project):
    response = client_for(member).get(reverse("projects:setup", args=[project.pk]))
    assert response.status_code == 200
    assert project.dsn.encode() in response.content
    assert reverse("projects:settings", args=[project.pk]).encode() not in response.content


# --- general settings ---------------------------------------------------------------------------------------------


def test_settings_rename_and_team(client_for, owner, project):
    team = Team.objects.create(name="Ops")
    TeamMembership.objects.create(team=team, user=owner, role="member")
    client = client_for(owner)
    page = client.get(reverse("projects:settings", args=[project.pk]))
    assert page.status_code == 200 and project.dsn.encode() in page.content

    response = client.post(reverse("projects:settings", args=[project.pk]), {"name": "Renamed", "team": team.pk})

    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.name, project.team) == ("Renamed", team)


def test_settings_retention_and_quota_overrides(client_for, owner, project, settings):
    settings.RETENTION_MAX_EVENTS = 10_000
    client = client_for(owner)
    url = reverse("projects:settings", args=[project.pk])
    page = client.get(url).content.decode()
    assert "Keep at most this many events" in page and 'placeholder="10000"' in page
    response = client.post(
        url,
        {
            "name": "My App",
            "retention_max_events": "500",
            "retention_max_age_days": "",
            "quota_events_per_minute": "0",
            "quota_events_per_hour": "120",
        },
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.retention_max_events, project.retention_max_age_days) == (500, None)
    assert (project.quota_events_per_minute, project.quota_events_per_hour) == (0, 120)
    response = client.post(url, {"name": "My App", "retention_max_events": "-3"})
    assert response.status_code == 200 and "greater than or equal to 0" in response.content.decode()


def test_settings_refuse_a_team_the_admin_is_not_in(client_for, owner, project):
    foreign = Team.objects.create(name="Theirs")
    response = client_for(owner).post(
        reverse("projects:settings", args=[project.pk]), {"name": "My App", "team": foreign.pk}
    )
    assert response.status_code == 200 and "team" in response.context["form"].errors
    project.refresh_from_db()
    assert project.team is None


def test_settings_keep_a_team_a_superuser_set(client_for, owner, project):
    foreign = Team.objects.create(name="Theirs")
    project.team = foreign
    project.save()
    response = client_for(owner).post(
        reverse("projects:settings", args=[project.pk]), {"name": "Still", "team": foreign.pk}
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.name, project.team) == ("Still", foreign)


def test_team_admins_administer_the_teams_projects(client_for, make_user, project):
    team = Team.objects.create(name="Ops")
    project.team = team
    project.save()
    lead, plain = make_user("lead"), make_user("plain")
    TeamMembership.objects.create(team=team, user=lead, role="admin")
    TeamMembership.objects.create(team=team, user=plain, role="member")
    assert client_for(lead).get(reverse("projects:settings", args=[project.pk])).status_code == 200
    assert client_for(plain).get(reverse("projects:settings", args=[project.pk])).status_code == 403
    assert client_for(plain).get(reverse("projects:setup", args=[project.pk])).status_code == 200
