from django.contrib import admin

from monitors.models import CheckIn, Monitor


@admin.register(Monitor)
class MonitorAdmin(admin.ModelAdmin):
    """Monitors are made and configured by their check-ins' monitor_config: shown and deletable here."""

    list_display = ["slug", "project", "status", "last_status", "last_checkin_at", "next_expected_at"]
    list_filter = ["project", "status"]
    search_fields = ["slug"]
    raw_id_fields = ["issue"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(CheckIn)
class CheckInAdmin(admin.ModelAdmin):
    list_display = ["monitor", "status", "date_added", "duration", "environment"]
    list_filter = ["status"]
    search_fields = ["monitor__slug", "check_in_id"]
    list_select_related = ["monitor"]
    raw_id_fields = ["monitor"]
    date_hierarchy = "date_added"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
