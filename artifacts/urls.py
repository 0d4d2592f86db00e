from django.urls import path

from artifacts import views

app_name = "artifacts"

urlpatterns = [
    path("projects/<int:project_id>/releases/id/<int:release_id>/artifacts/", views.release_artifacts, name="release"),
    path(
        "projects/<int:project_id>/releases/id/<int:release_id>/artifacts/bundles/<int:bundle_id>/delete/",
        views.delete_release_bundle,
        name="delete-bundle",
    ),
    path(
        "projects/<int:project_id>/releases/id/<int:release_id>/artifacts/files/<int:file_id>/delete/",
        views.delete_file,
        name="delete-file",
    ),
]
