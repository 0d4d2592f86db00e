"""How /api/0/ is described in OpenAPI (drf-spectacular), kept apart from the schema's views (api.schema): DRF
loads this class by name (REST_FRAMEWORK's DEFAULT_SCHEMA_CLASS) while drf-spectacular's own views are being defined.

Our endpoints answer Sentry's JSON shapes, built by hand rather than with DRF serializers. `SentryShapeSchema`
documents a view that says nothing more (`extend_schema`) as taking and answering a JSON object, instead of
guessing and warning, and gives every operation an id from its whole path so that `/issues/{id}/events/` and
`/issues/{id}/events/{event}/` do not collide. Bearer tokens appear as the `bearerAuth` security scheme, so the
docs page's "Authorize" button takes a token. Every operation is in one named group (`get_tags`, the groups of
SPECTACULAR_SETTINGS["TAGS"]), never in Swagger's "default".
"""

import re

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes

# (a word of the path, its group), the first that the path holds wins: an issue's events are Events, a release's
# files are Source maps and uploads
TAG_RULES = [
    ("monitors", "Cron monitors"),
    ("chunk-upload", "Source maps and uploads"),
    ("artifactbundle", "Source maps and uploads"),
    ("assemble", "Source maps and uploads"),
    ("files", "Source maps and uploads"),
    ("sessions", "Release health"),
    ("releases", "Releases"),
    ("repos", "Releases"),
    ("events", "Events"),
    ("issues", "Issues"),
    ("organizations", "Organization and projects"),
    ("projects", "Organization and projects"),
    ("teams", "Organization and projects"),
]
ROOT_TAG = "Authentication"  # /api/0/ itself: who the token is


def tag_for(relative_path: str) -> str:
    """The group of an endpoint by its path under /api/0/; a path no rule knows is grouped by its first word."""
    words = [part for part in relative_path.strip("/").split("/") if part and not part.startswith("{")]
    if not words:
        return ROOT_TAG
    for word, tag in TAG_RULES:
        if word in words:
            return tag
    return words[0].replace("-", " ").capitalize()


class SentryShapeSchema(AutoSchema):
    def get_tags(self) -> list[str]:
        return [tag_for(re.sub(self.path_prefix, "", self.path, flags=re.IGNORECASE))]

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
