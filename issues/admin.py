from django.contrib import admin

from issues.models import Grouping, Issue, TurningPoint


@admin.register(Issue)
class IssueAdmin(admin.ModelAdmin):
    list_display = ["short_id", "title", "project", "event_count", "first_seen", "last_seen", "state"]
    list_filter = ["project", "is_resolved", "is_muted", "level", "platform"]
    search_fields = ["calculated_type", "calculated_value", "culprit"]
    list_select_related = ["project"]
    date_hierarchy = "last_seen"
    readonly_fields = ["number", "first_seen", "last_seen", "event_count", "events_at"]

    @admin.display(description="short id")
    def short_id(self, obj):
        return obj.short_id


@admin.register(Grouping)
class GroupingAdmin(admin.ModelAdmin):
    list_display = ["__str__", "project", "issue"]
    list_filter = ["project"]
    search_fields = ["grouping_key"]
    list_select_related = ["project", "issue", "issue__project"]
    raw_id_fields = ["issue"]


@admin.register(TurningPoint)
class TurningPointAdmin(admin.ModelAdmin):
    list_display = ["timestamp", "kind", "issue", "user"]
    list_filter = ["kind"]
    search_fields = ["comment"]
    list_select_related = ["issue", "issue__project", "user"]
    raw_id_fields = ["issue", "triggering_event"]
    date_hierarchy = "timestamp"
