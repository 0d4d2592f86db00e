from django.urls import path

from releases import views

app_name = "releases"

urlpatterns = [
    path("projects/<int:project_id>/releases/", views.project_releases, name="project"),
    # a release's page by its id: the links go there, since a version like `..` or `a/../b` makes a path that
    # browsers normalise away; by version for the releases that have a plain name (old links, typed URLs). A version
    # cannot hold a slash (releases.naming), so none is shadowed by the first pattern.
    path("projects/<int:project_id>/releases/id/<int:release_id>/", views.release_by_id, name="release"),
    path("projects/<int:project_id>/releases/<path:version>/", views.release_detail, name="detail"),
]
