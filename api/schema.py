"""The OpenAPI schema of /api/0/ (drf-spectacular; how views are described: api.openapi) at /api/0/schema/, and a
Swagger UI page at /api/0/docs/ that loads its scripts from this server (drf-spectacular-sidecar's copies, served as
static files), never from a CDN. Both need a signed-in user or a token.

The docs page is drf-spectacular's "split" view with a template of ours: its start-up script comes from
/api/0/docs/?script (it carries the page's CSRF token and the schema's URL) and its page styles from static/css, so
the page has no inline script or style and the Content-Security-Policy (bugsink.csp) needs no exception for it.
"""

from django.contrib.auth.decorators import login_required
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

import api.openapi  # noqa: F401  registers the Bearer token scheme before the schema is generated

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs/",
        login_required(SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="api/swagger_ui.html")),
        name="docs",
    ),
]
