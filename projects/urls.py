from django.urls import path

from alerts import views as alerts
from bugsink import overview
from projects.views import keys, members, memberships, projects, teams

app_name = "projects"

# the member views are one set for projects and teams (projects.views.memberships); these say which
PROJECT = {"pages": members.PROJECT_PAGES}
TEAM = {"pages": teams.TEAM_PAGES}

urlpatterns = [
    path("", overview.project_list, name="list"),
    path("new/", projects.project_create, name="create"),
    path("<int:project_id>/setup/", projects.project_setup, name="setup"),
    path("<int:project_id>/settings/", projects.project_settings, name="settings"),
    path("<int:project_id>/settings/alerts/", alerts.project_alerts, name="alerts"),
    path("<int:project_id>/settings/alerts/channels/", alerts.channel_create, name="channel_create"),
    path(
        "<int:project_id>/settings/alerts/channels/<int:channel_id>/delete/",
        alerts.channel_delete,
        name="channel_delete",
    ),
    path(
        "<int:project_id>/settings/alerts/channels/<int:channel_id>/active/",
        alerts.channel_toggle,
        name="channel_toggle",
    ),
    path("<int:project_id>/settings/alerts/channels/<int:channel_id>/test/", alerts.channel_test, name="channel_test"),
    path("<int:project_id>/settings/alerts/test-email/", alerts.test_email, name="test_email"),
    path("<int:project_id>/settings/keys/", keys.project_keys, name="keys"),
    path("<int:project_id>/settings/keys/rotate/", keys.rotate, name="key_rotate"),
    path("<int:project_id>/settings/keys/add/", keys.add, name="key_add"),
    path("<int:project_id>/settings/keys/<int:key_id>/revoke/", keys.revoke, name="key_revoke"),
    path("<int:project_id>/settings/delete/", projects.project_delete, name="delete"),
    path("<int:project_id>/settings/members/", members.project_members, name="members"),
    path("<int:project_id>/settings/members/add/", memberships.add_member, PROJECT, name="member_add"),
    path(
        "<int:project_id>/settings/members/<int:membership_id>/role/",
        memberships.change_role,
        PROJECT,
        name="member_role",
    ),
    path(
        "<int:project_id>/settings/members/<int:membership_id>/remove/",
        memberships.remove_member,
        PROJECT,
        name="member_remove",
    ),
    path("<int:project_id>/settings/invitations/", members.invite, name="invite"),
    path(
        "<int:project_id>/settings/invitations/<int:invitation_id>/revoke/",
        members.invitation_revoke,
        name="invitation_revoke",
    ),
    path("invitations/<str:token>/", members.accept_invitation, name="accept_invitation"),
    path("teams/", teams.team_list, name="teams"),
    path("teams/new/", teams.team_create, name="team_create"),
    path("teams/<int:team_id>/", teams.team_detail, name="team"),
    path("teams/<int:team_id>/members/add/", memberships.add_member, TEAM, name="team_member_add"),
    path(
        "teams/<int:team_id>/members/<int:membership_id>/role/", memberships.change_role, TEAM, name="team_member_role"
    ),
    path(
        "teams/<int:team_id>/members/<int:membership_id>/remove/",
        memberships.remove_member,
        TEAM,
        name="team_member_remove",
    ),
]
