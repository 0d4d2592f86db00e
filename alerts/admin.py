from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminURLFieldWidget
from django.utils.text import Truncator

from alerts import delivery, outbound
from alerts.forms import AdminAlertChannelForm
from alerts.models import AlertChannel, DeliveryAttempt
from bugsink.links import is_http_url


class HttpLinkURLWidget(AdminURLFieldWidget):
    """The admin's URL input, whose "Currently:" link is there for an http(s) URL only (bugsink.links); Django's own
    also links ftp:// and ftps:// values."""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        if not is_http_url(context["widget"]["value"]):
            context["url_valid"] = False
            context["widget"]["href"] = ""
        return context


@admin.register(AlertChannel)
class AlertChannelAdmin(admin.ModelAdmin):
    form = AdminAlertChannelForm  # refuses URLs that resolve to private addresses
    list_display = ["name", "project", "kind", "masked_url", "is_active", "created_at"]
    list_filter = ["project", "kind", "is_active"]
    search_fields = ["name", "url", "project__name"]
    list_select_related = ["project"]
    readonly_fields = ["secret", "created_at"]
    actions = ["send_test_alert"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "url":
            kwargs["assume_scheme"] = "https"  # a webhook URL typed without a scheme
            kwargs["widget"] = HttpLinkURLWidget
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description="URL")
    def masked_url(self, obj: AlertChannel) -> str:
        return outbound.redact_url(obj.url)

    @admin.action(description="Send test alert")
    def send_test_alert(self, request, queryset):
        # synchronous on purpose: the person who clicked wants to see whether it works (bounded by the 5 s timeout)
        for channel in queryset.select_related("project"):
            outcome = delivery.send_test_alert(channel)
            if outcome.sent:
                self.message_user(request, f"Test alert sent to {channel}.", messages.SUCCESS)
            else:
                status = outcome.record.get_status_display().lower()
                self.message_user(request, f"Test alert to {channel} {status}: {outcome.record.error}", messages.ERROR)


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "alert_kind",
        "channel_kind",
        "status",
        "project",
        "issue_short_id",
        "target",
        "attempt",
        "short_error",
    ]
    list_filter = ["status", "alert_kind", "channel_kind", "project"]
    search_fields = ["target", "error", "project__name", "issue__calculated_type", "issue__calculated_value"]
    list_select_related = ["project", "issue", "issue__project", "channel"]
    date_hierarchy = "created_at"
    raw_id_fields = ["issue", "channel"]

    @admin.display(description="issue")
    def issue_short_id(self, obj: DeliveryAttempt) -> str:
        return obj.issue.short_id if obj.issue_id else "—"

    @admin.display(description="error")
    def short_error(self, obj: DeliveryAttempt) -> str:
        return Truncator(obj.error).chars(80)

    # a record of what happened: read-only
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
