"""Personal API tokens: `Authorization: Bearer <token>` on /api/0/ (sentry-cli, scripts).

A token acts as its user, narrowed by its scope: it never sees more than the user may see. Only a hash of the token
is stored; the token itself is shown once, when it is created.
"""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

# sentry-cli tells a user token from an organization token by its form; a user token of Sentry's form
# ("sntryu_" + 64 hex digits) is taken as is, without a warning.
TOKEN_PREFIX = "sntryu_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class Scope(models.TextChoices):
    """Each scope includes the ones before it."""

    READ = "read", "Read: projects, issues, events, releases"
    WRITE = "write", "Write: also triage issues, create releases and deploys, upload source maps"
    ADMIN = "admin", "Admin: also delete issues and releases (where the user is a project admin)"


SCOPE_RANK = {Scope.READ: 1, Scope.WRITE: 2, Scope.ADMIN: 3}


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True, user__is_active=True)


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="what the token is for, e.g. 'CI source map upload'")
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.WRITE)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # the token's first characters, to tell tokens apart in lists (never enough to use it)
    hint = models.CharField(max_length=16, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @classmethod
    def create_for(cls, user, name: str, scope: str = Scope.WRITE) -> tuple["ApiToken", str]:
        """A new token for the user: (the stored row, the token itself, which is not stored anywhere)."""
        token = TOKEN_PREFIX + secrets.token_hex(32)
        row = cls.objects.create(
            user=user, name=name, scope=scope, token_hash=hash_token(token), hint=token[: len(TOKEN_PREFIX) + 4]
        )
        return row, token

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def allows(self, scope: str) -> bool:
        return SCOPE_RANK[Scope(self.scope)] >= SCOPE_RANK[Scope(scope)]

    def scopes(self) -> list[str]:
        """The scopes this token holds, in Sentry's names (what `sentry-cli info` lists)."""
        names = {
            Scope.READ: ["org:read", "project:read", "team:read", "event:read", "member:read"],
            Scope.WRITE: ["project:releases", "project:write", "event:write", "org:ci"],
            Scope.ADMIN: ["event:admin", "project:admin"],
        }
        held = []
        for scope in Scope:
            if self.allows(scope):
                held.extend(names[scope])
        return held
