"""The intake's routes, in one place: bugsink/urls.py includes them, and the fast path (ingest.fastpath) serves an
ingest request by resolving it against these same patterns, so a route added here is served by both.

A DSN may carry a path prefix (http://key@host/prefix/42): the API is accepted under any prefix."""

from django.urls import re_path

from ingest import views

urlpatterns = [
    re_path(r"^(?:.+/)?api/(?P<project_id>[^/]+)/envelope/?$", views.envelope, name="ingest-envelope"),
    re_path(r"^(?:.+/)?api/(?P<project_id>[^/]+)/store/?$", views.store, name="ingest-store"),
    re_path(r"^(?:.+/)?api/(?P<project_id>[^/]+)/security/?$", views.security, name="ingest-security"),
]
