"""What a request to /api/0/ may do: the user's own rights (projects.access), narrowed by the token's scope.

A view says which scope each method needs with `required_scopes = {"GET": "read", "PUT": "write", ...}`; without
it, safe methods need `read` and the others `write`. A browser session (the schema page) counts as every scope: it
is the user themself.
"""

from rest_framework import permissions

from api.models import ApiToken, Scope

DEFAULT_SCOPES = {"GET": Scope.READ, "HEAD": Scope.READ, "OPTIONS": Scope.READ}


def required_scope(request, view) -> str:
    scopes = getattr(view, "required_scopes", None) or {}
    return scopes.get(request.method) or DEFAULT_SCOPES.get(request.method) or Scope.WRITE


def token_allows(request, scope: str) -> bool:
    token = request.auth
    if isinstance(token, ApiToken):
        return token.allows(scope)
    return True


class TokenScopePermission(permissions.BasePermission):
    message = "This token's scope does not allow this request."

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return token_allows(request, required_scope(request, view))
