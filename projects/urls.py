from django.urls import path

from alerts import views as alerts
from bugsink import overview
from projects.views import members, projects, teams

app_name = "projects"

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
    path("<int:project_id>/settings/members/", members.project_members, name="members"),
    path("<int:project_id>/settings/members/add/", members.member_add, name="member_add"),
    path("<int:project_id>/settings/members/<int:membership_id>/role/", members.member_role, name="member_role"),
    path("<int:project_id>/settings/members/<int:membership_id>/remove/", members.member_remove, name="member_remove"),
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
    path("teams/<int:team_id>/members/add/", teams.team_member_add, name="team_member_add"),
    path("teams/<int:team_id>/members/<int:membership_id>/role/", teams.team_member_role, name="team_member_role"),
    path(
        "teams/<int:team_id>/members/<int:membership_id>/remove/", teams.team_member_remove, name="team_member_remove"
    ),
]
