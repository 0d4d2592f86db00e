from django.contrib import admin, messages

from issues.models import Grouping, Issue, Subscription, TurningPoint
from issues.state import STATE_FIELDS, apply_to_issues


def _state_action(action: str, description: str):
    def run(modeladmin, request, queryset):
        changed, skipped = apply_to_issues(queryset.select_related("project"), action, user=request.user)
        modeladmin.message_user(request, f"{description}: {changed} issue(s) changed.", messages.SUCCESS)
        for short_id, reason in skipped.items():
            modeladmin.message_user(request, f"{short_id} skipped: {reason}", messages.WARNING)

    run.__name__ = f"action_{action}"
    return admin.action(description=f"{description} (selected issues)")(run)


@admin.register(Issue)
class IssueAdmin(admin.ModelAdmin):
    list_display = ["short_id", "title", "project", "event_count", "first_seen", "last_seen", "state"]
    list_filter = ["project", "is_resolved", "is_muted", "level", "platform"]
    search_fields = ["calculated_type", "calculated_value", "culprit"]
    list_select_related = ["project"]
    date_hierarchy = "last_seen"
    # state changes only through IssueStateManager: the actions below, never by editing the flags
    readonly_fields = [
        "number",
        "first_seen",
        "last_seen",
        "event_count",
        "first_release",
        "last_release",
        *STATE_FIELDS,
        # assignment through the issue page, the list or the API (issues.triage), which write its history
        "assigned_user",
        "assigned_team",
    ]
    actions = [
        _state_action("resolve", "Resolve"),
        _state_action("resolve_by_latest", "Resolve in the latest release"),
        _state_action("resolve_by_next", "Resolve in the next release"),
        _state_action("reopen", "Reopen"),
        _state_action("mute", "Mute"),
        _state_action("unmute", "Unmute"),
    ]

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


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["issue", "user", "is_active", "reason", "created_at"]
    list_filter = ["is_active", "reason"]
    search_fields = ["user__username", "user__email"]
    list_select_related = ["issue", "issue__project", "user"]
    raw_id_fields = ["issue", "user"]
