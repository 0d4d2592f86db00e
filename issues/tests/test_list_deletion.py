"""issues.deletion.delete_issues: everything of the issue goes, in bounded batches, and nothing of other issues."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts.models import DeliveryAttempt
from events.models import Event
from issues import deletion
from issues.deletion import delete_issues
from issues.models import Grouping, Issue, TurningPoint
from issues.state import apply_to_issues
from tags.models import EventTag, IssueTag, TagValue
from testing.utils import exception_event

RELATED = (Event, EventTag, IssueTag, Grouping, TurningPoint, DeliveryAttempt)


def _two_issues(project, send_event):
    for n in range(5):
        send_event(project, exception_event("ValueError", "doomed", release=f"1.{n}", tags={"n": str(n)}))
    send_event(project, exception_event("KeyError", "survivor", release="1.0"))
    doomed = Issue.objects.get(calculated_type="ValueError")
    survivor = Issue.objects.get(calculated_type="KeyError")
    apply_to_issues(Issue.objects.filter(pk__in=[doomed.pk, survivor.pk]).select_related("project"), "resolve")
    for issue in (doomed, survivor):
        DeliveryAttempt.objects.create(
            project=project, issue=issue, alert_kind="new_issue", channel_kind="email", target="a@b.c", status="sent"
        )
    return doomed, survivor


def test_delete_issues_in_bounded_batches(project, send_event):
    doomed, survivor = _two_issues(project, send_event)
    survivor_rows = {model: model.objects.filter(issue=survivor).count() for model in RELATED}
    with CaptureQueriesContext(connection) as queries:
        result = delete_issues(Issue.objects.filter(calculated_type="ValueError"), batch_size=2)
    assert (result.issues, result.events) == (1, 5)
    assert not Issue.objects.filter(pk=doomed.pk).exists()
    for model in RELATED:
        assert not model.objects.filter(issue_id=doomed.pk).exists(), model
        assert model.objects.filter(issue=survivor).count() == survivor_rows[model], model
    assert TagValue.objects.filter(key="n").count() == 5  # tag values are the project's, shared by issues: kept

    sql = [q["sql"] for q in queries.captured_queries]
    assert not any("data_json" in s for s in sql), "event bodies are never loaded to delete them"
    event_deletes = [s for s in sql if re.match(r"DELETE FROM [`\"]events_event[`\"]", s)]
    assert len(event_deletes) == 3  # 5 events in batches of 2
    for statement in sql:
        if statement.startswith("DELETE") and " IN (" in statement:
            assert statement.split(" IN (", 1)[1].count(",") < 2, statement  # never more than 2 rows at once


def test_events_digested_during_the_deletion_are_deleted_with_the_issue(project, send_event, monkeypatch):
    """Rows that appear after their batch loop ran (digest kept going) go with the issue's own cascade."""
    doomed, survivor = _two_issues(project, send_event)
    batches = deletion.delete_in_batches
    monkeypatch.setattr(deletion, "delete_in_batches", lambda qs, size: 0 if qs.model is Event else batches(qs, size))
    result = delete_issues(Issue.objects.filter(pk=doomed.pk))
    assert (result.issues, result.events) == (1, 5)
    assert not Event.objects.filter(issue_id=doomed.pk).exists() and Event.objects.filter(issue=survivor).exists()


def test_delete_many_issues_and_an_empty_selection(project, send_event, monkeypatch):
    monkeypatch.setattr(deletion, "ISSUE_CHUNK", 2)
    for n in range(5):
        send_event(project, exception_event(f"Error{n}", "x"))
    assert delete_issues(Issue.objects.none()).issues == 0
    result = delete_issues(Issue.objects.filter(project=project))
    assert (result.issues, result.events) == (5, 5)
    assert not Issue.objects.exists() and not Event.objects.exists() and not Grouping.objects.exists()
