from django.contrib import admin

from tags.models import EventTag, IssueTag, TagValue


@admin.register(TagValue)
class TagValueAdmin(admin.ModelAdmin):
    list_display = ["key", "value", "project"]
    list_filter = ["project", "key"]
    search_fields = ["key", "value"]
    list_select_related = ["project"]


@admin.register(IssueTag)
class IssueTagAdmin(admin.ModelAdmin):
    list_display = ["value", "issue", "count"]
    search_fields = ["value__key", "value__value"]
    list_select_related = ["value", "issue", "issue__project"]
    raw_id_fields = ["issue", "value"]


@admin.register(EventTag)
class EventTagAdmin(admin.ModelAdmin):
    """Read-only: an event's tags are derived from the event at digest, and IssueTag counts are kept in step with
    them; an edit or delete here would make the counts lie."""

    list_display = ["value", "event", "issue"]
    search_fields = ["value__key", "value__value"]
    list_select_related = ["value", "event", "issue", "issue__project"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
