from django.urls import path

from logs import views

app_name = "logs"

urlpatterns = [
    path("projects/<int:project_id>/logs/", views.project_logs, name="project"),
]
