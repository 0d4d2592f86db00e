from django.contrib import admin

from api.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "hint", "user", "scope", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["scope"]
    search_fields = ["name", "user__username", "hint"]
    readonly_fields = ["hint", "created_at", "last_used_at"]
    fields = ["user", "name", "scope", "hint", "created_at", "last_used_at", "revoked_at"]

    def has_add_permission(self, request) -> bool:
        # a token is shown only when created: from the user's preferences page or `manage.py createtoken`
        return False
