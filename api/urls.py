"""/api/0/: the part of Sentry's web API that sentry-cli, Sentry's own tools and scripts use, with our tokens."""

from django.http import JsonResponse
from django.urls import include, path, re_path

from api import (
    comments,
    events,
    issues,
    keys,
    monitors,
    organizations,
    release_files,
    releases,
    schema,
    sessions,
    uploads,
)


def not_found(request, rest=""):
    # JSON, not the HTML 404 page: API clients read `detail`
    return JsonResponse({"detail": "Not found."}, status=404)


app_name = "api"

urlpatterns = [
    path("", include(schema.urlpatterns)),
    path("", include(organizations.urlpatterns)),
    path("", include(uploads.urlpatterns)),
    path("", include(release_files.urlpatterns)),
    path("", include(releases.urlpatterns)),
    path("", include(issues.urlpatterns)),
    path("", include(comments.urlpatterns)),
    path("", include(events.urlpatterns)),
    path("", include(sessions.urlpatterns)),
    path("", include(monitors.urlpatterns)),
    path("", include(keys.urlpatterns)),
    re_path(r"^(?P<rest>.*)$", not_found),
]
