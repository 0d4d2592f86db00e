"""Attachments and user feedback from the real, unmodified SDKs against a live server (see ingest/tests/
test_real_sdks.py for how the SDK clients run); each SDK's current and previous major (ingest/tests/sdks.py)."""

import pytest

from events.models import Attachment, UserFeedback, attachment_file
from ingest.tests.test_real_sdks import run_node_client, run_python_client
from projects.models import Project

pytestmark = [pytest.mark.live]


@pytest.fixture
def sdk_project(transactional_db):
    return Project.objects.create(name="Shop")


def test_python_sdk_attachments_are_kept_with_their_event(each_python_sdk, sdk_project, live_server_url):
    (event,), _ = run_python_client(sdk_project, live_server_url, "attachment", each_python_sdk)
    rows = {row.name: row for row in Attachment.objects.filter(event=event)}
    assert sorted(rows) == ["cart.json", "checkout.log"]
    assert rows["checkout.log"].content_type == "text/plain"
    assert attachment_file(sdk_project.pk, rows["checkout.log"].sha1).read_bytes() == b"order 42: card declined\n"
    assert attachment_file(sdk_project.pk, rows["cart.json"].sha1).read_bytes() == b'{"cart": [1, 2]}'


def test_node_sdk_feedback_is_linked_to_its_event_and_issue(each_node_sdk, sdk_project, live_server_url):
    (event,), _ = run_node_client(each_node_sdk, sdk_project, live_server_url, "feedback")
    feedback = UserFeedback.objects.get(project=sdk_project)
    assert feedback.comments == "Checkout froze after I pressed Pay"
    assert (feedback.name, feedback.email, feedback.source) == ("Grace Hopper", "grace@example.com", "feedback")
    assert feedback.event == event and feedback.issue_id == event.issue_id
