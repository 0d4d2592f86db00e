from django.urls import path

from issues.views import list as list_views
from issues.views import preview as preview_views

app_name = "issues"

urlpatterns = [
    path("issues/", list_views.all_issues, name="all"),
    path("issues/bulk/", list_views.all_issues_bulk, name="all_bulk"),
    path("issues/mute-preview/", preview_views.mute_preview, name="mute_preview"),
    path("projects/<int:project_id>/issues/", list_views.project_issues, name="project"),
    path("projects/<int:project_id>/issues/bulk/", list_views.project_issues_bulk, name="project_bulk"),
]
