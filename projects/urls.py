from django.urls import path

from projects import views

app_name = "projects"

urlpatterns = [
    path("", views.project_list, name="list"),
    path("new/", views.project_create, name="create"),
    path("<int:project_id>/setup/", views.project_setup, name="setup"),
    path("<int:project_id>/settings/", views.project_settings, name="settings"),
    path("<int:project_id>/settings/alerts/", views.project_alerts, name="alerts"),
    path("<int:project_id>/settings/alerts/channels/", views.channel_create, name="channel_create"),
    path(
        "<int:project_id>/settings/alerts/channels/<int:channel_id>/delete/",
        views.channel_delete,
        name="channel_delete",
    ),
    path(
        "<int:project_id>/settings/alerts/channels/<int:channel_id>/active/",
        views.channel_toggle,
        name="channel_toggle",
    ),
    path("<int:project_id>/settings/alerts/channels/<int:channel_id>/test/", views.channel_test, name="channel_test"),
    path("<int:project_id>/settings/alerts/test-email/", views.test_email, name="test_email"),
    path("<int:project_id>/settings/members/", views.project_members, name="members"),
    path("<int:project_id>/settings/members/add/", views.member_add, name="member_add"),
    path("<int:project_id>/settings/members/<int:membership_id>/role/", views.member_role, name="member_role"),
    path("<int:project_id>/settings/members/<int:membership_id>/remove/", views.member_remove, name="member_remove"),
    path("<int:project_id>/settings/invitations/", views.invite, name="invite"),
    path(
        "<int:project_id>/settings/invitations/<int:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("invitations/<str:token>/", views.accept_invitation, name="accept_invitation"),
    path("teams/", views.team_list, name="teams"),
    path("teams/new/", views.team_create, name="team_create"),
    path("teams/<int:team_id>/", views.team_detail, name="team"),
    path("teams/<int:team_id>/members/add/", views.team_member_add, name="team_member_add"),
    path("teams/<int:team_id>/members/<int:membership_id>/role/", views.team_member_role, name="team_member_role"),
    path(
        "teams/<int:team_id>/members/<int:membership_id>/remove/", views.team_member_remove, name="team_member_remove"
    ),
]
