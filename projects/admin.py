from django.contrib import admin

from projects.models import Project, ProjectMembership


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
    list_display = ["name", "slug", "id", "dsn", "issue_counter", "created_at"]
    search_fields = ["name", "slug"]
    readonly_fields = ["dsn", "issue_counter", "created_at"]
    list_filter = ["alert_on_new_issue", "alert_on_regression", "alert_on_unmute"]
