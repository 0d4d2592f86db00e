from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.shortcuts import render

from accounts import sso, two_factor
from accounts.models import UserPreferences


@admin.register(UserPreferences)
class UserPreferencesAdmin(admin.ModelAdmin):
    list_display = ["user", "timezone", "theme"]
    list_filter = ["theme"]
    search_fields = ["user__username", "user__email"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]


class UserAdmin(DjangoUserAdmin):
    """Django's user admin, with the sign-in actions: reset someone's second factor (a lost phone), deactivate
    (which ends their sessions and revokes their tokens at once, accounts.sessions), and whether they have a second
    factor."""

    actions = ["reset_two_factor", "deactivate"]
    list_display = [*DjangoUserAdmin.list_display, "is_active", "has_two_factor"]

    @admin.display(boolean=True, description="two-factor")
    def has_two_factor(self, user) -> bool:
        return two_factor.has_second_factor(user)

    @admin.action(description="Reset two-factor authentication of the selected users")
    def reset_two_factor(self, request, queryset):
        reset = [user.get_username() for user in queryset if two_factor.reset_for(user, by=request.user)]
        if reset:
            self.message_user(
                request,
                f"Two-factor authentication reset for {', '.join(reset)}: they sign in with their password "
                "and set it up again.",
                messages.SUCCESS,
            )
        else:
            self.message_user(request, "None of the selected users had two-factor authentication.", messages.INFO)

    @admin.action(description="Deactivate the selected users (ends their sessions, revokes their API tokens)")
    def deactivate(self, request, queryset):
        done = []
        for user in queryset.filter(is_active=True):
            if user == request.user:
                continue
            user.is_active = False
            user.save(update_fields=["is_active"])  # accounts.sessions ends the sessions and revokes the tokens
            self.log_change(request, user, "Deactivated (sessions ended, API tokens revoked).")
            done.append(user.get_username())
        self.message_user(request, f"Deactivated: {', '.join(done) or 'nobody'}.", messages.SUCCESS)


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), UserAdmin)


@staff_member_required
def sso_overview(request):
    """The admin's page about single sign-on: the configured providers and the redirect URI to register."""
    context = {
        "providers": sso.configured_providers(),
        "callback_url": sso.callback_url(),
        "sso_only": settings.SSO_ONLY,
        "require_2fa": settings.REQUIRE_2FA,
        "grace_days": settings.REQUIRE_2FA_GRACE_DAYS,
        "linked": SocialAccount.objects.count(),
    }
    return render(request, "accounts/admin_sso.html", context)
