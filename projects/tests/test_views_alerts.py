"""The Alerts tab of a project's settings: switches, channels (create, pause/activate, delete, test) and the test
email. Webhooks only ever go to a receiver on 127.0.0.1."""

import json

import pytest
from django.urls import reverse

from alerts.models import AlertChannel, DeliveryAttempt
from projects.models import ProjectMembership, Team, TeamMembership


@pytest.fixture
def client(client_for, owner):
    return client_for(owner)


def alerts_url(project) -> str:
    return reverse("projects:alerts", args=[project.pk])


def test_switches(client, project):
    response = client.post(alerts_url(project), {"alert_on_new_issue": "on", "alert_on_unmute": "on"})
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.alert_on_new_issue, project.alert_on_regression, project.alert_on_unmute) == (True, False, True)
    page = client.get(alerts_url(project))
    assert b'name="alert_on_regression"' in page.content
    assert b"A resolved issue comes back (regression)" in page.content


def test_channel_create_list_and_secret(client, project):
    response = client.post(
        reverse("projects:channel_create", args=[project.pk]),
        {"name": "Hooks", "kind": "webhook", "url": "https://93.184.216.34/in"},
        follow=True,
    )
    channel = AlertChannel.objects.get(project=project)
    assert (channel.name, channel.kind, channel.url, channel.is_active) == (
        "Hooks",
        "webhook",
        "https://93.184.216.34/in",
        True,
    )
    html = response.content.decode()
    assert f'id="channel-{channel.pk}"' in html
    # the generic webhook's signing secret is there to copy
    assert f'<code id="secret-{channel.pk}">{channel.secret}</code>' in html
    assert f'data-copy="#secret-{channel.pk}"' in html


def test_slack_channels_show_no_secret(client, project):
    client.post(
        reverse("projects:channel_create", args=[project.pk]),
        {"name": "Chat", "kind": "slack", "url": "https://93.184.216.34/services/T/B/x"},
    )
    channel = AlertChannel.objects.get(project=project)
    assert channel.secret.encode() not in client.get(alerts_url(project)).content


@pytest.mark.parametrize(
    "data, field",
    [
        ({"name": "", "kind": "slack", "url": "https://example.com/"}, "name"),
        ({"name": "X", "kind": "pager", "url": "https://example.com/"}, "kind"),
        ({"name": "X", "kind": "slack", "url": "not a url"}, "url"),
        ({"name": "X", "kind": "slack", "url": "ftp://example.com/"}, "url"),
    ],
)
def test_channel_create_refuses_bad_input(client, project, data, field):
    response = client.post(reverse("projects:channel_create", args=[project.pk]), data)
    assert response.status_code == 200
    assert field in response.context["channel_form"].errors
    assert not AlertChannel.objects.exists()


def test_channel_pause_activate_and_delete(client, project):
    channel = AlertChannel.objects.create(project=project, name="Chat", kind="discord", url="https://e.com/h")
    toggle = reverse("projects:channel_toggle", args=[project.pk, channel.pk])

    client.post(toggle, {"active": "0"})
    channel.refresh_from_db()
    assert not channel.is_active
    assert b"paused" in client.get(alerts_url(project)).content

    client.post(toggle, {"active": "1"})
    channel.refresh_from_db()
    assert channel.is_active

    response = client.post(reverse("projects:channel_delete", args=[project.pk, channel.pk]))
    assert response.status_code == 302
    assert not AlertChannel.objects.filter(pk=channel.pk).exists()


def test_test_alert_button_posts_to_the_channel_and_shows_the_outcome(client, project, receiver):
    channel = AlertChannel.objects.create(project=project, name="Mine", kind="webhook", url=receiver.url)

    response = client.post(reverse("projects:channel_test", args=[project.pk, channel.pk]), follow=True)

    assert len(receiver.bodies) == 1
    payload = json.loads(receiver.bodies[0])
    assert payload["project"]["name"] == "My App"
    assert "Test alert delivered to Mine." in [str(m) for m in response.context["messages"]]
    record = DeliveryAttempt.objects.get()
    assert (record.alert_kind, record.status, record.channel) == ("test", "sent", channel)
    assert b"badge-sent" in response.content  # in "Recent deliveries"


def test_test_alert_failure_is_shown(client, project, receiver):
    receiver.status = 500
    channel = AlertChannel.objects.create(project=project, name="Flaky", kind="slack", url=receiver.url)

    response = client.post(reverse("projects:channel_test", args=[project.pk, channel.pk]), follow=True)

    [message] = list(response.context["messages"])
    assert message.level_tag == "error" and "Test alert to Flaky failed" in str(message) and "500" in str(message)


def test_test_alert_to_a_refused_address_says_why(client, project, settings):
    settings.ALERTS_ALLOW_PRIVATE_WEBHOOK_TARGETS = False
    channel = AlertChannel.objects.create(project=project, name="Local", kind="slack", url="http://127.0.0.1:9/x")

    response = client.post(reverse("projects:channel_test", args=[project.pk, channel.pk]), follow=True)

    [message] = list(response.context["messages"])
    assert "refused" in str(message) and "not a public address" in str(message)


def test_test_email_goes_to_members_and_team_members_who_want_alerts(
    client, project, owner, member, make_user, mailoutbox
):
    team = Team.objects.create(name="Ops")
    project.team = team
    project.save()
    teammate, quiet = make_user("tim"), make_user("quinn")
    TeamMembership.objects.create(team=team, user=teammate)
    TeamMembership.objects.create(team=team, user=quiet, send_email_alerts=False)
    # max turned this project's alerts off: the team's switch does not override that
    ProjectMembership.objects.filter(user=member).update(send_email_alerts=False)
    TeamMembership.objects.create(team=team, user=member)

    page = client.get(alerts_url(project))
    assert b"olivia@example.com, tim@example.com" in page.content

    response = client.post(reverse("projects:test_email", args=[project.pk]), follow=True)

    assert sorted(m.to[0] for m in mailoutbox) == ["olivia@example.com", "tim@example.com"]
    assert "Test email sent to olivia@example.com, tim@example.com." in [str(m) for m in response.context["messages"]]


def test_test_email_with_nobody_to_send_to(client, project, owner, mailoutbox):
    ProjectMembership.objects.filter(user=owner).update(send_email_alerts=False)
    response = client.post(reverse("projects:test_email", args=[project.pk]), follow=True)
    assert mailoutbox == []
    assert "Nobody to email" in str(list(response.context["messages"])[0])


def test_email_recipients_through_the_team(project, make_user):
    """Team members who want alerts get them; a direct membership's own switch wins; inactive users and users
    without an address get nothing; everyone once."""
    from alerts.delivery import email_recipients

    team = Team.objects.create(name="Ops")
    both, direct_off, inactive, no_address, team_off = (
        make_user("both"),
        make_user("direct_off"),
        make_user("inactive", is_active=False),
        make_user("no_address", email=""),
        make_user("team_off"),
    )
    for user in (both, direct_off, inactive, no_address):
        TeamMembership.objects.create(team=team, user=user)
    TeamMembership.objects.create(team=team, user=team_off, send_email_alerts=False)
    ProjectMembership.objects.create(project=project, user=both)
    ProjectMembership.objects.create(project=project, user=direct_off, send_email_alerts=False)

    assert email_recipients(project) == ["both@example.com"]  # the team is not the project's yet
    project.team = team
    project.save()
    assert email_recipients(project) == ["both@example.com"]  # direct_off turned it off for this project

    ProjectMembership.objects.filter(user=direct_off).delete()
    assert email_recipients(project) == ["both@example.com", "direct_off@example.com"]
