"""Reprocessing an issue: its stored events symbolicated and grouped again, e.g. after a late source-map upload.

The input is each event's stored JSON (the raw event is gone once digested). Frames that an earlier digest mapped
are first put back as they were sent (their minified values are kept in `frame["data"]["minified"]`), and the
earlier symbolication complaints (`errors` of type `js_*`) are dropped; then the event goes through the same
symbolication and grouping as at digest (digest.symbolicate, digest.grouping), and its JSON, title and grouping are
rewritten. Everything else about the event stays: its id, times, tags, attachments.

Where the events go: an event whose new grouping key belongs to another issue moves there, with its counts
(issues.merge.move_events); a key nobody has yet becomes a grouping of this issue (the events stay). When every
event of the issue went to one other issue, the issue is merged into that one (issues.merge), so its old key
leads there too: the orphan issue of minified frames joins the mapped one.

Bounded work: one run takes the issue's newest MAX_EVENTS_PER_RUN events, loaded LOAD_BATCH at a time, each batch
its own transaction; running it again takes the next ones only if the first ones moved away. It runs as a job of the
project's single writer (it moves events, which digest counts). The request and the result are history entries of
the issue, which its page shows.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from artifacts.lookup import SourceLookup
from bugsink import jobs
from digest.grouping import culprit, grouping_key, hash_key, title_parts
from digest.symbolicate import symbolicate
from digest.trim import fit_event
from events.models import Event
from issues.merge import merge_issues, move_events, user_by_id
from issues.models import Grouping, Issue, TurningPoint
from issues.state import IssueStateManager

MAX_EVENTS_PER_RUN = 1000
LOAD_BATCH = 100  # events whose JSON is in memory at once
MAX_TITLE_CHARS = 1024
SYMBOLICATION_KEYS = ("symbolicated", "resolved_with", "sourcemap", "minified")


@dataclass
class ReprocessResult:
    events: int = 0
    frames_mapped: int = 0
    moved: dict[str, int] = field(default_factory=dict)  # short id -> events moved there
    merged_into: str = ""


def request_reprocess(issue: Issue, user=None) -> TurningPoint:
    """Write the "reprocessing requested" entry and ask for the job once the caller's transaction commits."""
    point = IssueStateManager._turning_point(issue, TurningPoint.Kind.REPROCESS_REQUESTED, user=user)
    reprocess_issue_job.after_commit(issue.project_id, str(issue.pk), getattr(user, "pk", None))
    return point


def reprocess_pending(issue: Issue) -> bool:
    """Whether the issue's latest reprocessing request has no result yet."""
    latest = (
        issue.turning_points.filter(kind__in=[TurningPoint.Kind.REPROCESS_REQUESTED, TurningPoint.Kind.REPROCESSED])
        .order_by("-timestamp", "-id")
        .values_list("kind", flat=True)
        .first()
    )
    return latest == TurningPoint.Kind.REPROCESS_REQUESTED


@jobs.job("issues.tasks.reprocess_issue", writer=lambda project_id, issue_id, user_id=None: project_id, acks_late=True)
def reprocess_issue_job(project_id: int, issue_id: str, user_id=None) -> ReprocessResult:
    return reprocess_issue(project_id, issue_id, user=user_by_id(user_id))


def restore_minified(data: dict) -> None:
    """Put frames that symbolication mapped back as they were sent, and drop its complaints, so that symbolicate()
    starts over (in place)."""
    for frame in _frames(data):
        details = frame.get("data")
        if not isinstance(details, dict) or not isinstance(details.get("minified"), dict):
            continue
        for key in ("abs_path", "filename", "function", "module", "lineno", "colno", "pre_context", "context_line"):
            frame.pop(key, None)
        frame.pop("post_context", None)
        frame.update(details["minified"])
        rest = {k: v for k, v in details.items() if k not in SYMBOLICATION_KEYS}
        if rest:
            frame["data"] = rest
        else:
            frame.pop("data")
    errors = data.get("errors")
    if isinstance(errors, list):
        kept = [e for e in errors if not (isinstance(e, dict) and str(e.get("type", "")).startswith("js_"))]
        if kept:
            data["errors"] = kept
        else:
            data.pop("errors")


def _frames(data: dict):
    containers = []
    exception = data.get("exception")
    if isinstance(exception, dict) and isinstance(exception.get("values"), list):
        containers += exception["values"]
    threads = data.get("threads")
    if isinstance(threads, dict) and isinstance(threads.get("values"), list):
        containers += threads["values"]
    containers.append(data)
    for container in containers:
        stacktrace = container.get("stacktrace") if isinstance(container, dict) else None
        if isinstance(stacktrace, dict) and isinstance(stacktrace.get("frames"), list):
            yield from (f for f in stacktrace["frames"] if isinstance(f, dict))


def reprocess_issue(project_id: int, issue_id, user=None, max_events: int | None = None) -> ReprocessResult:
    """Reprocess the issue's newest events (see the module docstring). The caller is the project's single writer."""
    result = ReprocessResult()
    issue = Issue.objects.select_related("project").filter(project_id=project_id, pk=issue_id).first()
    if issue is None:
        return result
    limit = MAX_EVENTS_PER_RUN if max_events is None else max_events
    pks = list(Event.objects.filter(issue=issue).order_by("-digest_order").values_list("pk", flat=True)[:limit])
    total = Event.objects.filter(issue=issue).count()
    lookup = SourceLookup(project_id)
    groupings: dict[str, Grouping] = {}
    destinations: dict = {}  # issue pk -> [event pks]
    for start in range(0, len(pks), LOAD_BATCH):
        with transaction.atomic():
            events = list(Event.objects.filter(pk__in=pks[start : start + LOAD_BATCH], issue=issue))
            for event in events:
                data = event.data
                restore_minified(data)
                result.frames_mapped += symbolicate(data, lookup)
                key = grouping_key(data).replace("\x00", "\ufffd")
                key_hash = hash_key(key)
                grouping = (
                    groupings.get(key_hash)
                    or Grouping.objects.filter(project_id=project_id, grouping_key_hash=key_hash).first()
                )
                if grouping is None:
                    grouping = Grouping.objects.create(
                        project_id=project_id, grouping_key=key, grouping_key_hash=key_hash, issue=issue
                    )
                groupings[key_hash] = grouping
                calculated_type, calculated_value = title_parts(data)
                event.calculated_type = calculated_type[:255]
                event.calculated_value = calculated_value[:MAX_TITLE_CHARS]
                _, event.data_json = fit_event(data, settings.MAX_EVENT_SIZE)
                event.grouping = grouping
                if grouping.issue_id != issue.pk:
                    destinations.setdefault(grouping.issue_id, []).append(event.pk)
            Event.objects.bulk_update(events, ["data_json", "calculated_type", "calculated_value", "grouping"])
            result.events += len(events)
    _retitle(issue)
    targets = Issue.objects.select_related("project").filter(is_deleting=False).in_bulk(list(destinations))
    # an issue being deleted takes no events: they stay here (under the key that leads there)
    destinations = {pk: moved for pk, moved in destinations.items() if pk in targets}
    if len(destinations) == 1 and total == result.events:
        # every event goes to one issue: this issue joins it, with its old key, history and counts
        (target_pk, moved), target = next(iter(destinations.items())), targets[next(iter(destinations))]
        merge_issues(project_id, target.pk, [issue.pk], user=user)
        result.moved[target.short_id] = len(moved)
        result.merged_into = target.short_id
        _record(target, user, result, source=issue.short_id)
        return result
    for target_pk, moved in destinations.items():
        target = targets[target_pk]
        result.moved[target.short_id] = move_events(issue, target, moved)
    _record(issue, user, result)
    return result


def _retitle(issue: Issue) -> None:
    """The issue's title and culprit as its newest event has them now (its frames may have been mapped)."""
    newest = Event.objects.filter(issue=issue).order_by("-digest_order").first()
    if newest is None:
        return
    issue.calculated_type, issue.calculated_value = newest.calculated_type, newest.calculated_value
    issue.culprit = culprit(newest.data)[:255]
    issue.save(update_fields=["calculated_type", "calculated_value", "culprit"])


def _record(issue: Issue, user, result: ReprocessResult, source: str = "") -> None:
    metadata = {"events": result.events, "frames_mapped": result.frames_mapped, "moved": result.moved}
    if source:
        metadata["source"] = source
    IssueStateManager._turning_point(issue, TurningPoint.Kind.REPROCESSED, user=user, **metadata)
