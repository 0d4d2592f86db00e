"""issues.reprocess: after a late source-map upload, the orphan issue of minified frames is symbolicated again and
joins the issue of the mapped frames; the real esbuild + sentry-cli builds of digest.tests.test_symbolicate (its
fixtures come through issues/tests/conftest.py)."""

from artifacts.tests.uploads import store_folder
from digest.tests.test_symbolicate import digested, frames_of, node_event
from events.models import Event
from issues import reprocess
from issues.models import Grouping, Issue, TurningPoint
from issues.reprocess import reprocess_issue, reprocess_pending, request_reprocess


def old_build_event(dist):
    """The event of an older deploy of the same code, whose bundle had another name (so another minified key)."""
    event = node_event(dist)
    for frame in event["exception"]["values"][0]["stacktrace"]["frames"]:
        if frame.get("module") == "dist:app.min":
            frame["module"] = "dist:app.old.min"
    return event


def test_a_late_upload_then_reprocess_joins_the_orphan_minified_issue_to_the_mapped_one(project, build):
    dist = build()
    orphan_event = digested(project, old_build_event(dist))
    orphan = orphan_event.issue
    assert frames_of(orphan_event)[2]["function"] != "parseOrder"
    assert any(e["type"].startswith("js_") for e in orphan_event.data["errors"])  # the map was not there

    store_folder(project, dist)  # the late upload
    mapped_event = digested(project, node_event(dist))
    mapped = mapped_event.issue
    assert frames_of(mapped_event)[2]["function"] == "parseOrder"
    assert mapped.pk != orphan.pk, "before reprocessing, the two are separate issues"

    request_reprocess(orphan)
    assert reprocess_pending(orphan)
    result = reprocess_issue(project.pk, orphan.pk)
    assert result.events == 1 and result.frames_mapped == 3
    assert result.merged_into == mapped.short_id and result.moved == {mapped.short_id: 1}

    assert not Issue.objects.filter(pk=orphan.pk).exists()
    mapped.refresh_from_db()
    assert mapped.event_count == 2
    orphan_event = Event.objects.get(pk=orphan_event.pk)
    assert orphan_event.issue_id == mapped.pk
    frames = frames_of(orphan_event)
    assert frames[2]["function"] == "parseOrder" and frames[2]["data"]["minified"]["module"] == "dist:app.old.min"
    assert not any(e["type"].startswith("js_") for e in orphan_event.data.get("errors", []))
    # the orphan's key leads to the mapped issue now; the result is in its history
    assert set(Grouping.objects.values_list("issue_id", flat=True)) == {mapped.pk}
    done = mapped.turning_points.get(kind=TurningPoint.Kind.REPROCESSED)
    assert done.metadata["source"] == orphan.short_id and done.metadata["moved"] == {mapped.short_id: 1}
    assert not reprocess_pending(mapped)

    # reprocessing again maps the already-mapped frames the same way and moves nothing
    again = reprocess_issue(project.pk, mapped.pk)
    assert again.events == 2 and again.moved == {} and Issue.objects.count() == 1
    assert Event.objects.filter(issue=mapped).count() == 2


def test_reprocess_without_another_issue_keeps_the_events_and_is_bounded(project, build, monkeypatch):
    dist = build()
    first = digested(project, old_build_event(dist))
    second = digested(project, old_build_event(dist))
    issue = first.issue
    assert second.issue_id == issue.pk
    store_folder(project, dist)

    monkeypatch.setattr(reprocess, "MAX_EVENTS_PER_RUN", 1)
    result = reprocess_issue(project.pk, issue.pk)
    assert result.events == 1 and result.moved == {}
    second, first = Event.objects.get(pk=second.pk), Event.objects.get(pk=first.pk)
    assert frames_of(second)[2]["function"] == "parseOrder", "the newest event was reprocessed"
    assert frames_of(first)[2]["function"] != "parseOrder", "the cap left the older one alone"
    assert second.grouping.issue_id == issue.pk and second.grouping_id != first.grouping_id  # a new key, its own
    issue.refresh_from_db()
    assert issue.event_count == 2
