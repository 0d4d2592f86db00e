from django.urls import path

from issues.views import detail

app_name = "issue"

urlpatterns = [
    path("", detail.issue_page, name="stacktrace"),
]
