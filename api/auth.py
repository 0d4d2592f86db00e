"""Bearer tokens for Django REST framework: `Authorization: Bearer <token>`."""

from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions

from api.models import ApiToken, hash_token

# last_used_at is written at most this often per token: a busy CI token does not write a row on every request
LAST_USED_RESOLUTION = timedelta(minutes=1)


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "bearer"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _, value = header.partition(" ")
        if scheme.lower() not in (self.keyword, "token"):
            return None
        value = value.strip()
        if not value or not value.isascii() or " " in value:
            raise exceptions.AuthenticationFailed("Invalid token header: one token after 'Bearer'.")
        try:
            token = ApiToken.objects.active().select_related("user").get(token_hash=hash_token(value))
        except ApiToken.DoesNotExist:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.") from None
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return token.user, token

    def authenticate_header(self, request) -> str:
        # makes DRF answer 401 (not 403) to a request without credentials
        return 'Bearer realm="api"'
