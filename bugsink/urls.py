from django.contrib import admin
from django.urls import path, re_path
from django.views.generic import RedirectView

from ingest import views as ingest_views

urlpatterns = [
    # A DSN may carry a path prefix (http://key@host/prefix/42): accept the API under any prefix.
    re_path(r"^(?:.+/)?api/(?P<project_id>[^/]+)/envelope/?$", ingest_views.envelope, name="ingest-envelope"),
    re_path(r"^(?:.+/)?api/(?P<project_id>[^/]+)/store/?$", ingest_views.store, name="ingest-store"),
    path("admin/", admin.site.urls),
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]
