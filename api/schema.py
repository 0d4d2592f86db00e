"""The OpenAPI schema of /api/0/ (drf-spectacular; how views are described: api.openapi) at /api/0/schema/, and a
Swagger UI page at /api/0/docs/ that loads its scripts from this server (drf-spectacular-sidecar's copies, served as
static files), never from a CDN. Both need a signed-in user or a token.
"""

from django.contrib.auth.decorators import login_required
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

import api.openapi  # noqa: F401  registers the Bearer token scheme before the schema is generated

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", login_required(SpectacularSwaggerView.as_view(url_name="api:schema")), name="docs"),
]
