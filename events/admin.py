from django.contrib import admin

from events.models import Attachment, Event, UserFeedback


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["event_id", "title", "project", "level", "release", "environment", "timestamp", "ingested_at"]
    list_filter = ["project", "level", "platform", "environment"]
    search_fields = ["event_id", "calculated_type", "calculated_value", "release", "transaction"]
    list_select_related = ["project"]
    raw_id_fields = ["issue", "grouping"]
    date_hierarchy = "ingested_at"


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "attachment_type", "content_type", "size", "note", "received_at"]
    list_filter = ["project", "attachment_type"]
    search_fields = ["name", "event_uuid", "sha1"]
    list_select_related = ["project"]
    raw_id_fields = ["event"]
    readonly_fields = ["sha1", "size", "received_at", "event_uuid"]


@admin.register(UserFeedback)
class UserFeedbackAdmin(admin.ModelAdmin):
    list_display = ["comments_start", "name", "email", "project", "issue", "source", "received_at"]
    list_filter = ["project", "source"]
    search_fields = ["comments", "name", "email", "event_uuid"]
    list_select_related = ["project", "issue"]
    raw_id_fields = ["event", "issue"]

    @admin.display(description="comments")
    def comments_start(self, feedback: UserFeedback) -> str:
        return feedback.comments[:80]
