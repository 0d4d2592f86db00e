from django.contrib import admin

from logs.models import LogEntry, LogStats


@admin.register(LogEntry)
class LogEntryAdmin(admin.ModelAdmin):
    list_display = ["body_start", "level", "project", "trace_id", "timestamp"]
    list_filter = ["project", "level"]
    search_fields = ["body", "template", "trace_id"]
    list_select_related = ["project"]
    date_hierarchy = "timestamp"

    @admin.display(description="body")
    def body_start(self, entry: LogEntry) -> str:
        return entry.body[:80]


@admin.register(LogStats)
class LogStatsAdmin(admin.ModelAdmin):
    list_display = ["project", "stored_count", "dropped_count", "last_drop_reason", "last_drop_at"]
    list_select_related = ["project"]
