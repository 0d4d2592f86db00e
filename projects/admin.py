from django.contrib import admin

from projects.models import Invitation, Project, ProjectKey, ProjectMembership, Team, TeamMembership


class MembershipInline(admin.TabularInline):
    model = ProjectMembership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(ProjectMembership)
class ProjectMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "project", "role", "send_email_alerts"]
    list_filter = ["project", "role", "send_email_alerts"]
    search_fields = ["user__username", "user__email", "project__name"]
    list_select_related = ["user", "project"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    inlines = [MembershipInline]
    list_display = ["name", "slug", "id", "dsn", "issue_counter", "created_at", "is_deleting"]
    search_fields = ["name", "slug"]
    readonly_fields = ["dsn", "issue_counter", "created_at", "is_deleting"]
    list_filter = ["alert_on_new_issue", "alert_on_regression", "alert_on_unmute", "is_deleting"]


class ViewOnlyAdmin(admin.ModelAdmin):
    """Shown for looking things up, changed only through the app's pages (projects.people), which keep the rules
    a plain form would skip: a team keeps an admin, an invitation's token is made and used once by its own code."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class TeamMembershipInline(admin.TabularInline):
    model = TeamMembership
    extra = 0
    can_delete = False
    fields = ["user", "role", "send_email_alerts"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    inlines = [TeamMembershipInline]
    list_display = ["name", "created_at"]
    search_fields = ["name"]
    readonly_fields = ["created_at"]

    def has_add_permission(self, request) -> bool:
        return False  # a team is made on the Teams page, which makes its creator its admin


@admin.register(TeamMembership)
class TeamMembershipAdmin(ViewOnlyAdmin):
    list_display = ["user", "team", "role", "send_email_alerts"]
    list_filter = ["team", "role", "send_email_alerts"]
    search_fields = ["user__username", "user__email", "team__name"]
    list_select_related = ["user", "team"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # removing someone goes through the team page, which keeps the team's last admin


@admin.register(Invitation)
class InvitationAdmin(ViewOnlyAdmin):
    """Deleting one is allowed: it is what revoking does."""

    list_display = ["email", "project", "role", "invited_by", "created_at", "expires_at", "accepted_at"]
    list_filter = ["project", "role", "anyone_with_link"]
    search_fields = ["email", "project__name"]
    list_select_related = ["project", "invited_by"]
    exclude = ["token_hash"]


@admin.register(ProjectKey)
class ProjectKeyAdmin(ViewOnlyAdmin):
    """Rotated-out and further DSN keys; rotating and revoking go through the project's DSN keys page
    (projects.keys), which also drops ingest's cached copy."""

    list_display = ["public_key", "project", "label", "created_at", "valid_until", "revoked_at"]
    list_filter = ["project"]
    search_fields = ["public_key", "label", "project__name"]
    list_select_related = ["project"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
