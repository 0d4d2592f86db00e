"""File names relative to their origin (events.filenames): on the event page (the full URL in the tooltip) and in
the issue's culprit, as Sentry shows a browser's frames."""

import html

import pytest
from django.urls import reverse

from digest.batch import digest_event
from events.filenames import short_filename
from issues.models import Issue
from projects.models import ProjectMembership
from testing.utils import exception_event, store_event


@pytest.mark.parametrize(
    "name, short",
    [
        ("http://127.0.0.1:4741/src/checkout.js", "src/checkout.js"),
        ("https://shop.example.com/assets/app-3f2a.min.js?v=3#x", "assets/app-3f2a.min.js"),
        ("app:///dist/main.js", "dist/main.js"),
        ("webpack://shop/./src/a.js", "./src/a.js"),
        ("https://example.com/", "https://example.com/"),  # no path: nothing shorter to say
        ("file:///home/dev/app.js", "file:///home/dev/app.js"),
        ("/srv/app/views.py", "/srv/app/views.py"),
        ("app/views.py", "app/views.py"),
        ("<anonymous>", "<anonymous>"),
        ("", ""),
    ],
)
def test_short_filename(name, short):
    assert short_filename(name) == short


def test_a_browser_frame_on_the_page_and_in_the_culprit(client, project, django_user_model):
    url = "http://127.0.0.1:4741/src/checkout.js"
    frame = {"filename": url, "abs_path": url, "function": "checkout", "lineno": 12, "colno": 7, "in_app": True}
    event = exception_event("TypeError", "total is undefined", frames=[frame], platform="javascript")
    stored = digest_event(store_event(project, event))
    issue = Issue.objects.get(pk=stored.issue_id)
    assert issue.culprit == "src/checkout.js in checkout"

    user = django_user_model.objects.create_user("reader")
    ProjectMembership.objects.create(project=project, user=user)
    client.force_login(user)
    text = html.unescape(client.get(reverse("issue:stacktrace", args=[issue.pk])).content.decode())
    assert f'<span class="frame-where mono" title="{url}" dir="auto">src/checkout.js</span>' in text
