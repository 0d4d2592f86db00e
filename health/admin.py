from django.contrib import admin

from health.models import DiscardCount, SessionBucket


class Counted(admin.ModelAdmin):
    """Counts that digest keeps: shown and deletable here, not made or edited by hand."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SessionBucket)
class SessionBucketAdmin(Counted):
    list_display = ["hour", "project", "release", "environment", "started", "crashed", "abnormal"]
    list_filter = ["project", "environment"]
    search_fields = ["release"]
    date_hierarchy = "hour"
    exclude = ["errored_sessions", "crashed_sessions", "abnormal_sessions", "users", "crashed_users"]


@admin.register(DiscardCount)
class DiscardCountAdmin(Counted):
    list_display = ["day", "project", "source", "category", "reason", "quantity"]
    list_filter = ["project", "source", "category"]
    search_fields = ["reason", "category"]
    date_hierarchy = "day"
