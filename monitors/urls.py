from django.urls import path

from monitors import views

app_name = "monitors"

urlpatterns = [
    path("projects/<int:project_id>/monitors/", views.project_monitors, name="project"),
    path("projects/<int:project_id>/monitors/<slug:slug>/", views.monitor_detail, name="detail"),
    path("projects/<int:project_id>/monitors/<slug:slug>/mute/", views.mute_monitor, name="mute"),
]
