"""Digest in isolation: idempotence, bounded queries, tolerance of what normalization hands it."""

import json
import time
import uuid

from bugsink.testutils import exception_event
from events.models import Event
from ingest.digest import digest_event
from ingest.store import RawEvent, load_raw_event, pending_raw_events, store_raw_event
from issues.models import Issue


def stored(project, event: dict) -> str:
    event_id = uuid.uuid4().hex
    store_raw_event(
        RawEvent(
            project_id=project.pk,
            event_id=event_id,
            received_at=time.time(),
            remote_addr="127.0.0.1",
            payload=json.dumps(event).encode(),
        )
    )
    return event_id


def test_digest_stores_and_removes_the_raw_event(project, django_capture_on_commit_callbacks):
    event_id = stored(project, exception_event())
    with django_capture_on_commit_callbacks(execute=True):
        event = digest_event(project.pk, event_id)
    assert Event.objects.get(pk=event.pk).event_id.hex == event_id
    assert load_raw_event(project.pk, event_id) is None
    assert pending_raw_events() == []


def test_digest_is_idempotent(project, django_capture_on_commit_callbacks):
    event_id = stored(project, exception_event())
    with django_capture_on_commit_callbacks(execute=False):
        digest_event(project.pk, event_id)  # the raw file stays: on_commit callbacks not run ("crash" after commit)
    assert load_raw_event(project.pk, event_id) is not None
    with django_capture_on_commit_callbacks(execute=True):
        assert digest_event(project.pk, event_id) is None
    assert Event.objects.count() == 1
    assert Issue.objects.get().event_count == 1
    assert load_raw_event(project.pk, event_id) is None


def test_digest_into_an_existing_issue_runs_a_bounded_number_of_queries(
    project, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    for _ in range(3):
        digest_event(project.pk, stored(project, exception_event(release="1.0.0")))
    event_id = stored(project, exception_event(release="1.0.0"))
    # project, duplicate check, release, grouping+issue, project counters, event insert, tag values (a cache hit
    # in production; tests roll back, so a lookup here), event tags, issue tags (select + update), issue update,
    # and the savepoint + release of digest's atomic block inside the test's transaction
    with django_assert_max_num_queries(13):
        digest_event(project.pk, event_id)
    assert Issue.objects.get().event_count == 4


def test_digest_of_a_new_issue_runs_a_bounded_number_of_queries(project, django_assert_max_num_queries):
    digest_event(project.pk, stored(project, exception_event(release="1.0.0")))
    event_id = stored(project, exception_event("NewError", release="1.0.0"))
    with django_assert_max_num_queries(17):
        digest_event(project.pk, event_id)
    assert Issue.objects.count() == 2


def test_events_of_a_deleted_project_are_dropped(project):
    event_id = stored(project, exception_event())
    project_id = project.pk
    project.delete()
    assert digest_event(project_id, event_id) is None
    assert Event.objects.count() == 0


def test_nul_characters_are_stored_on_every_database(project):
    frame = {"module": "app\x00x", "function": "class@anonymous\x00/app.php", "in_app": True}
    event = exception_event("Type\x00Error", "value \x00 here", frames=[frame], release="1.0\x00", transaction="t\x00")
    stored_event = digest_event(project.pk, stored(project, event))
    stored_event = Event.objects.get(pk=stored_event.pk)
    assert stored_event.data["exception"]["values"][0]["type"] == "Type\x00Error"  # the JSON keeps the original
    assert "\x00" not in stored_event.issue.title()
    assert stored_event.release == "1.0\ufffd"
