from django.contrib import admin

from projects.models import Project


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "id", "dsn", "issue_counter", "created_at"]
    search_fields = ["name", "slug"]
    readonly_fields = ["dsn", "issue_counter", "created_at"]
    list_filter = ["alert_on_new_issue", "alert_on_regression", "alert_on_unmute"]
