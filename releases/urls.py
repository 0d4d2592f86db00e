from django.urls import path

from releases import views

app_name = "releases"

urlpatterns = [
    path("projects/<int:project_id>/releases/", views.project_releases, name="project"),
    path("projects/<int:project_id>/releases/<path:version>/", views.release_detail, name="detail"),
]
