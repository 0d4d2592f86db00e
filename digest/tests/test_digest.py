"""Digest in isolation: idempotence, bounded queries, tolerance of what normalization hands it."""

import json
import time
import uuid

from digest.batch import digest, digest_event
from events.models import Event
from ingest.store import RawEvent, load_raw_event, pending_raw_events, store_raw_event
from issues.models import Issue
from testing.utils import exception_event


def stored(project, event: dict, event_id: str | None = None) -> str:
    return store_raw_event(
        RawEvent(
            project_id=project.pk,
            event_id=event_id or uuid.uuid4().hex,
            received_at=time.time(),
            remote_addr="127.0.0.1",
            payload=json.dumps(event).encode(),
        )
    )


def test_digest_stores_and_removes_the_raw_event(project, django_capture_on_commit_callbacks):
    key = stored(project, exception_event())
    with django_capture_on_commit_callbacks(execute=True):
        event = digest_event(key)
    assert Event.objects.get(pk=event.pk).event_id.hex == key.rpartition("-")[2]
    assert load_raw_event(key) is None
    assert pending_raw_events() == []


def test_digest_is_idempotent(project, django_capture_on_commit_callbacks):
    key = stored(project, exception_event())
    with django_capture_on_commit_callbacks(execute=False):
        digest_event(key)  # the raw file stays: on_commit callbacks not run ("crash" after commit)
    assert load_raw_event(key) is not None
    with django_capture_on_commit_callbacks(execute=True):
        assert digest_event(key) is None
    assert Event.objects.count() == 1
    assert Issue.objects.get().event_count == 1
    assert load_raw_event(key) is None


def test_digest_into_an_existing_issue_runs_a_bounded_number_of_queries(
    project, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    for _ in range(3):
        digest_event(stored(project, exception_event(release="1.0.0")))
    key = stored(project, exception_event(release="1.0.0"))
    # the project's scrubbing settings (once per batch, before the transaction), project, duplicate check, release,
    # grouping+issue, project counters, event insert, tag values (a cache hit in production; tests roll back, so a
    # lookup here), event tags, issue tags (select + update), issue update, attachments or feedback waiting for these
    # events (events.items.link_pending), and the savepoint + release of digest's atomic block inside the test's
    # transaction
    with django_assert_max_num_queries(15):
        digest(key)
    assert Issue.objects.get().event_count == 4


def test_digest_of_a_new_issue_runs_a_bounded_number_of_queries(project, django_assert_max_num_queries):
    digest_event(stored(project, exception_event(release="1.0.0")))
    key = stored(project, exception_event("NewError", release="1.0.0"))
    with django_assert_max_num_queries(19):  # as above, plus the issue's creation
        digest(key)
    assert Issue.objects.count() == 2


def test_events_of_a_deleted_project_are_dropped(project):
    key = stored(project, exception_event())
    project.delete()
    assert digest_event(key) is None
    assert Event.objects.count() == 0


def test_nul_characters_are_stored_on_every_database(project):
    frame = {"module": "app\x00x", "function": "class@anonymous\x00/app.php", "in_app": True}
    event = exception_event("Type\x00Error", "value \x00 here", frames=[frame], release="1.0\x00", transaction="t\x00")
    stored_event = digest_event(stored(project, event))
    stored_event = Event.objects.get(pk=stored_event.pk)
    # NUL is replaced everywhere, so that no column, tag or page has to think of it
    assert stored_event.data["exception"]["values"][0]["type"] == "Type\ufffdError"
    assert "\x00" not in stored_event.issue.title()
    assert stored_event.release == "1.0\ufffd"


def test_a_batch_digests_the_pending_events_in_arrival_order(project, django_assert_max_num_queries):
    keys = [stored(project, exception_event(f"Error{i % 4}", release="1.0.0", tags={"n": str(i)})) for i in range(40)]
    # 4 new issues (a few queries each), a new release (3: the row, the project's kind of order, its latest), the
    # project's scrubbing settings, and a handful for the whole batch
    with django_assert_max_num_queries(42):
        assert digest(keys[0]) == 40
    assert Issue.objects.count() == 4
    assert sorted(Issue.objects.values_list("event_count", flat=True)) == [10, 10, 10, 10]
    issue = Issue.objects.get(calculated_type="Error1")
    assert list(issue.events.order_by("digest_order").values_list("digest_order", flat=True)) == list(range(1, 11))
    assert [t.value.value for t in issue.tags.select_related("value").filter(value__key="n")] != []
    from tags.models import IssueTag

    assert IssueTag.objects.get(issue=issue, value__key="release").count == 10
    assert digest(keys[5]) == 0, "taken along with the first: nothing left to do"


def test_duplicates_in_one_batch_are_stored_once(project):
    event_id = uuid.uuid4().hex
    first = stored(project, exception_event(), event_id=event_id)
    stored(project, exception_event(), event_id=event_id)
    assert digest(first) == 1
    assert Event.objects.count() == 1


def test_a_poison_event_does_not_hold_up_the_others(project, settings, monkeypatch):
    import digest.batch as digest_module

    good = [stored(project, exception_event("Good")) for _ in range(3)]
    poison = stored(project, exception_event("Poison"))
    original = digest_module._event

    def explode_on_poison(project, issue, grouping, p):
        if p.title[0] == "Poison":
            raise ValueError("cannot store this one")
        return original(project, issue, grouping, p)

    monkeypatch.setattr(digest_module, "_event", explode_on_poison)
    assert digest(good[0]) == 3
    assert Event.objects.filter(calculated_type="Good").count() == 3
    assert not Event.objects.filter(calculated_type="Poison").exists()
    assert load_raw_event(poison) is None
    quarantined = list((settings.INGEST_STORE_DIR / "quarantine").rglob("*.event"))
    assert [p.name for p in quarantined] == [poison.partition("/")[2] + ".event"]


def test_a_batch_judges_each_event_against_the_state_its_predecessors_left(project):
    from issues.state import STATE_FIELDS, IssueStateManager

    digest(stored(project, exception_event(release="1.0.0")))
    issue = Issue.objects.get()
    IssueStateManager.resolve_by_next(issue)
    issue.save(update_fields=STATE_FIELDS)
    keys = [
        stored(project, exception_event(release="1.0.0")),  # the old release: not a regression
        stored(project, exception_event("Other", release="1.1.0")),  # brings 1.1.0: materializes
        stored(project, exception_event(release="1.1.0")),  # the fixed release shows it: a regression
        stored(project, exception_event(release="1.1.0")),  # already reopened: nothing more
    ]
    assert digest(keys[0]) == 4
    issue.refresh_from_db()
    assert not issue.is_resolved and issue.event_count == 4
    kinds = list(issue.turning_points.order_by("timestamp", "id").values_list("kind", flat=True))
    assert kinds == ["first_seen", "resolved", "next_materialized", "regressed"]
    regressed = issue.turning_points.get(kind="regressed")
    assert regressed.triggering_event.digest_order == 3


def test_the_digest_job_digests_its_own_event_whatever_is_still_pending(project, settings):
    """Raw files go when their transaction commits; inside an outer one (or when a delete failed) they stay, and the
    oldest pending keys may all be events stored already: the job's own event is digested all the same."""
    from digest.job import digest_job

    settings.DIGEST_BATCH_SIZE = 2
    for n in range(3):
        digest(stored(project, exception_event(f"Old{n}")))  # stored; their raw files stay (no commit here)
    new = stored(project, exception_event("New"))
    assert digest_job(new) == 1
    assert Event.objects.filter(calculated_type="New").count() == 1
