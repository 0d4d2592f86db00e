"""Ingest's own records, to look at: the refused-event counts per project and (with INGEST_STORE=database) the raw
records waiting for digest or in quarantine. Digest and ingest write them; nobody edits them by hand."""

from django.contrib import admin

from ingest.models import RawRecord, RefusedEvents


class LookOnly(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RefusedEvents)
class RefusedEventsAdmin(LookOnly):
    list_display = ["project", "count", "last_reason", "last_size", "last_at"]
    list_select_related = ["project"]


@admin.register(RawRecord)
class RawRecordAdmin(LookOnly):
    list_display = ["key", "project_id", "size", "quarantined", "reason"]
    list_filter = ["quarantined"]
    search_fields = ["key"]
    exclude = ["record"]  # the raw bytes: the quarantine page downloads them
