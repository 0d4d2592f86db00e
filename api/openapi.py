"""How /api/0/ is described in OpenAPI (drf-spectacular), kept apart from the schema's views (api.schema): DRF
loads this class by name (REST_FRAMEWORK's DEFAULT_SCHEMA_CLASS) while drf-spectacular's own views are being defined.

Our endpoints answer Sentry's JSON shapes, built by hand rather than with DRF serializers. `SentryShapeSchema`
documents a view that says nothing more (`extend_schema`) as taking and answering a JSON object, instead of
guessing and warning, and gives every operation an id from its whole path so that `/issues/{id}/events/` and
`/issues/{id}/events/{event}/` do not collide. Bearer tokens appear as the `bearerAuth` security scheme, so the
docs page's "Authorize" button takes a token.
"""

import re

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes


class SentryShapeSchema(AutoSchema):
    def _has_serializer(self) -> bool:
        view = self.view
        return any(hasattr(view, name) for name in ("get_serializer", "get_serializer_class", "serializer_class"))

    def get_request_serializer(self):
        return super().get_request_serializer() if self._has_serializer() else OpenApiTypes.OBJECT

    def get_response_serializers(self):
        if self._has_serializer():
            return super().get_response_serializers()
        return None if self.method == "DELETE" else OpenApiTypes.OBJECT

    def get_operation_id(self) -> str:
        relative = re.sub(self.path_prefix, "", self.path, flags=re.IGNORECASE)
        words = [re.sub(r"[^0-9A-Za-z_]", "_", part.strip("{}")) for part in relative.strip("/").split("/") if part]
        return "_".join([*(words or ["root"]), self.method_mapping[self.method.lower()]])


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token (your preferences, API tokens): `Authorization: Bearer <token>`.",
        }
