from django.contrib import admin

from events.models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["event_id", "title", "project", "level", "release", "environment", "timestamp", "ingested_at"]
    list_filter = ["project", "level", "platform", "environment"]
    search_fields = ["event_id", "calculated_type", "calculated_value", "release", "transaction"]
    list_select_related = ["project"]
    raw_id_fields = ["issue", "grouping"]
    date_hierarchy = "ingested_at"
