"""SSO_ONLY: passwords stop working for everyone but superusers, on every password path (our login page, the admin's
login, anything that calls authenticate()), so that people sign in through the identity provider, which decides
who still works here and which second factor they need.

A backend placed before ModelBackend: for a username that is not a superuser's it ends authenticate() for all
backends (PermissionDenied), the right password included. Superusers keep their password so that a broken provider
cannot lock everyone out. Signed-in sessions are not this backend's business (it has no get_user)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied


def password_allowed_for(username: str | None) -> bool:
    if not settings.SSO_ONLY:
        return True
    User = get_user_model()
    return User.objects.filter(**{User.USERNAME_FIELD: username or "", "is_superuser": True}).exists()


class SsoOnlyBackend:
    def authenticate(self, request, username=None, password=None, **credentials):
        if password is not None and not password_allowed_for(username):
            raise PermissionDenied("single sign-on only")
        return None
