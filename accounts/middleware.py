import zoneinfo

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
