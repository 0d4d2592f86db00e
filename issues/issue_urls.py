"""One issue's pages, mounted at /issues/<uuid:issue_id>/ (namespace `issue`).

The stack trace, details and breadcrumbs tabs show the issue's latest event at the issue's own URLs, and any
event at /issues/<id>/events/<event_pk>/[details/|breadcrumbs/] (the event's permalink is the first of these).
"""

from django.urls import path

from issues.views import delete, detail, merging

app_name = "issue"

urlpatterns = [
    path("", detail.stacktrace, name="stacktrace"),
    path("details/", detail.details, name="details"),
    path("breadcrumbs/", detail.breadcrumbs, name="breadcrumbs"),
    path("events/", detail.events, name="events"),
    path("tags/", detail.tags, name="tags"),
    path("feedback/", detail.feedback, name="feedback"),
    path("history/", detail.history, name="history"),
    path("events/<int:event_pk>/", detail.stacktrace, name="event"),
    path("events/<int:event_pk>/details/", detail.details, name="event_details"),
    path("events/<int:event_pk>/breadcrumbs/", detail.breadcrumbs, name="event_breadcrumbs"),
    path("events/<int:event_pk>/json/", detail.event_json, name="event_json"),
    path("events/<int:event_pk>/download/", detail.event_download, name="event_download"),
    path(
        "events/<int:event_pk>/attachments/<int:attachment_pk>/",
        detail.attachment_download,
        name="attachment_download",
    ),
    path("events/id/<str:event_id>/", detail.event_by_id, name="event_by_id"),
    path("action/", detail.action, name="action"),
    path("assign/", detail.assign, name="assign"),
    path("subscription/", detail.subscription, name="subscription"),
    path("reprocess/", merging.reprocess, name="reprocess"),
    path("groupings/<int:grouping_pk>/unmerge/", merging.unmerge, name="unmerge"),
    path("delete/", delete.issue_delete, name="delete"),
    path("comments/", detail.comment_add, name="comment_add"),
    path("comments/<int:comment_pk>/edit/", detail.comment_edit, name="comment_edit"),
    path("comments/<int:comment_pk>/delete/", detail.comment_delete, name="comment_delete"),
]
