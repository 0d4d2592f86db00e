import zoneinfo

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.utils import timezone


class UserTimezoneMiddleware:
    """Show dates in the user's own time zone (stored in UTC, always)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            try:
                name = user.preferences.timezone
            except Exception:  # no preferences row yet
                name = None
        if name:
            try:
                timezone.activate(zoneinfo.ZoneInfo(name))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)


class RequireTwoFactorMiddleware:
    """REQUIRE_2FA (accounts.two_factor): once someone's grace has ended, every page leads to setting up a second
    factor until they have one; during the grace, the first page after signing in does. Signing out, the set-up
    pages themselves, static files and the API (tokens, not sessions) are left alone."""

    ALWAYS_ALLOWED = ("/accounts/preferences/two-factor/", "/accounts/logout/", "/static/", "/api/", "/health/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not settings.REQUIRE_2FA or request.path.startswith(self.ALWAYS_ALLOWED):
            return self.get_response(request)
        # imported by the first page that needs it: it loads allauth's MFA and WebAuthn (fido2, cryptography: ~9 MB
        # resident), which a server that only takes events, or has REQUIRE_2FA off, never needs; its sign-in signal
        # is connected by the URLs, which every sign-in passes through (bugsink/urls.py)
        from accounts import two_factor

        if not two_factor.requires_second_factor(request):
            return self.get_response(request)
        deadline = two_factor.grace_deadline(request.user)
        if deadline is not None and deadline <= timezone.now():
            messages.warning(request, "A second factor is required on this server: set one up to go on.")
            return redirect("accounts:two_factor")
        if request.session.pop(two_factor.NUDGE_SESSION_KEY, False):
            when = timezone.localtime(deadline).strftime("%d %B %Y, %H:%M %Z") if deadline else "soon"
            messages.warning(request, f"This server requires a second factor. Set one up before {when}.")
            return redirect("accounts:two_factor")
        return self.get_response(request)
