"""The issue page: a header with the issue's state and the actions that make sense in it, and six tabs.

Stack trace, details and breadcrumbs show one event (the latest by default, any event under
/issues/<id>/events/<pk>/...); events, tags and history are about the issue as a whole.

Every page runs a bounded number of queries, whatever the number of events: events are found by
`digest_order` (indexed per issue), never by OFFSET or COUNT(*).
"""

import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Count, F, Sum, Window
from django.db.models.functions import RowNumber
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from events import rendering, safe
from events.models import ATTACHMENT_CONTENTS, Attachment, Event, UserFeedback, attachment_name
from events.scrub import scrub_summary
from events.trimmed import describe as describe_trim
from issues import participants, triage
from issues.access import get_issue_or_404
from issues.markdown import render_comment
from issues.models import Issue, TurningPoint
from issues.muting import InvalidMute, condition_data, duration_choices, parse_mute, period_choices
from issues.pagination import Cursor, Order, keyset_page
from issues.presentation import describe_conditions, describe_state, state_view
from issues.state import ACTIONS, STATE_FIELDS, IllegalStateTransition, IssueStateManager, allowed_actions
from issues.views.delete import may_delete_issue
from issues.views.merging import maintenance_context, merge_details
from logs.search import trace_logs
from releases.links import release_url_by_version, release_urls
from releases.ordering import latest_version
from tags.extract import describe_not_indexed
from tags.models import IssueTag
from tags.search import filter_events, parse_query

TABS = [
    ("stacktrace", "Stack trace"),
    ("details", "Details"),
    ("breadcrumbs", "Breadcrumbs"),
    ("events", "Events"),
    ("tags", "Tags"),
    ("feedback", "Feedback"),
    ("history", "History"),
]
EVENT_TABS = ("stacktrace", "details", "breadcrumbs")
EVENT_TAB_URLS = {
    "stacktrace": "issue:event",
    "details": "issue:event_details",
    "breadcrumbs": "issue:event_breadcrumbs",
}

EVENTS_PAGE_SIZE = 50
# the events tab: newest first by digest_order, which is unique per issue, so a cursor is a plain number (within the
# column's range: a bigger one would overflow the database's integer in the query)
EVENT_ORDER = Order("digest_order", tiebreak=None, minimum=1, maximum=2**31 - 1)
TAG_VALUES_PER_KEY = 10
HISTORY_LIMIT = 200
FEEDBACK_LIMIT = 200
FEEDBACK_COUNT_CAP = 99


# --- what the header shows --------------------------------------------------------------------------------------


def _tab_url(issue: Issue, tab: str, event_pk: int | None) -> str:
    if event_pk is not None and tab in EVENT_TABS:
        return reverse(EVENT_TAB_URLS[tab], args=[issue.pk, event_pk])
    return reverse(f"issue:{tab}", args=[issue.pk])


def _header_logger(issue: Issue, event: Event | None, data: dict | None) -> str:
    """The logger under the title: the shown event's, else the latest event's (one indexed single-row query)."""
    if data is None:
        stored = (
            Event.objects.filter(issue=issue).order_by("-digest_order").values_list("data_json", flat=True).first()
            if event is None
            else event.data_json
        )
        data = safe.load_event_json(stored) if stored else {}
    return rendering.event_logger(data)


def _render(
    request,
    issue: Issue,
    tab: str,
    event: Event | None = None,
    event_in_url: bool = False,
    event_data: dict | None = None,
    **context,
):
    latest = latest_version(issue.project)
    event_pk = event.pk if event is not None and event_in_url else None
    tabs = [
        {"key": key, "label": label, "url": _tab_url(issue, key, event_pk), "current": key == tab}
        for key, label in TABS
    ]
    # the Feedback tab's count: rows up to a cap, not a COUNT(*) (every page of an issue shows it)
    shown = len(UserFeedback.objects.filter(issue=issue).values_list("pk", flat=True)[: FEEDBACK_COUNT_CAP + 1])
    context.setdefault("feedback_count", f"{FEEDBACK_COUNT_CAP}+" if shown > FEEDBACK_COUNT_CAP else shown)
    return render(
        request,
        f"issues/issue_{tab}.html",
        {
            "issue": issue,
            "headline": issue.calculated_value.strip().split("\n", 1)[0] if issue.calculated_value else "",
            "logger": _header_logger(issue, event, event_data),
            "tab": tab,
            "tabs": tabs,
            "event": event,
            "state": state_view(issue),
            "actions": allowed_actions(issue, latest),
            "latest_release": latest,
            "first_release": issue.first_release,
            "last_release": issue.last_release,
            "first_release_url": release_url_by_version(issue.project_id, issue.first_release),
            "last_release_url": release_url_by_version(issue.project_id, issue.last_release),
            "mute_for": duration_choices(),
            "periods": period_choices(),
            "here": request.get_full_path(),
            "nav": "issues",
            **people_context(request.user, issue),
            "can_delete": may_delete_issue(request.user, issue),
            **context,
        },
    )


def people_context(user, issue: Issue) -> dict:
    """The header's assignment control and subscribe button."""
    project = issue.project
    current = ""
    if issue.assigned_user_id:
        current = f"user:{issue.assigned_user_id}"
    elif issue.assigned_team_id:
        current = f"team:{issue.assigned_team_id}"
    options = [{"value": "", "label": "Nobody"}]
    subscribed = None
    for member in participants.assignable_users(project, issue):
        if member.pk == user.pk:
            subscribed = member.is_subscribed
        label = member.get_username() + (" (me)" if member.pk == user.pk else "")
        options.append({"value": f"user:{member.pk}", "label": label})
    for team in participants.assignable_teams(project):
        options.append({"value": f"team:{team.pk}", "label": f"#{team.name}"})
    for option in options:
        option["selected"] = option["value"] == current
    return {
        "assignee": participants.describe_assignee(issue),
        "assignee_options": options,
        # the viewer has access, so is among them; asked apart only if not (a user deactivated meanwhile)
        "is_subscribed": subscribed if subscribed is not None else participants.is_subscribed(issue, user),
    }


# --- event tabs -------------------------------------------------------------------------------------------------


def _event_data(event: Event) -> dict:
    """The stored event, sanitized (events.safe.load_event_json): whatever it holds, the page can show it."""
    return safe.load_event_json(event.data_json)


def _load_event(issue: Issue, event_pk: int | None) -> tuple[Event | None, bool]:
    """(the event, whether it is the issue's latest)."""
    events = Event.objects.filter(issue=issue)
    if event_pk is None:
        return events.order_by("-digest_order").first(), True
    try:
        return events.get(pk=event_pk), False
    except Event.DoesNotExist:
        raise Http404("No such event") from None


def event_navigation(issue: Issue, event: Event, tab: str, is_latest: bool, suffix: str = "") -> dict:
    """First / previous / next / last links (by digest_order; at most four indexed single-row queries)."""
    events = Event.objects.filter(issue=issue)
    older = events.filter(digest_order__lt=event.digest_order)
    prev_pk = older.order_by("-digest_order").values_list("pk", flat=True).first()
    first_pk = older.order_by("digest_order").values_list("pk", flat=True).first() if prev_pk else None
    next_pk = last_pk = None
    if not is_latest:
        newer = events.filter(digest_order__gt=event.digest_order)
        next_pk = newer.order_by("digest_order").values_list("pk", flat=True).first()
        last_pk = newer.order_by("-digest_order").values_list("pk", flat=True).first() if next_pk else None

    def url(pk):
        return reverse(EVENT_TAB_URLS[tab], args=[issue.pk, pk]) + suffix if pk else None

    return {
        "position": event.digest_order,
        "total": max(issue.event_count, event.digest_order),
        "first": url(first_pk),
        "prev": url(prev_pk),
        "next": url(next_pk),
        "last": url(last_pk),
        "permalink": reverse("issue:event", args=[issue.pk, event.pk]),
        "json": reverse("issue:event_json", args=[issue.pk, event.pk]),
        "download": reverse("issue:event_download", args=[issue.pk, event.pk]),
        "trace_logs": trace_logs(issue.project_id, event.trace_id),
    }


def _event_tab(request, issue_id, event_pk, tab: str):
    issue = get_issue_or_404(request.user, issue_id)
    event, is_latest = _load_event(issue, event_pk)
    context = {}
    data = None
    if event is not None:
        data = _event_data(event)
        context["trim_note"] = describe_trim(data)
        context["tags_note"] = describe_not_indexed(data)
        context["invalid_data_notes"] = rendering.invalid_data_notes(data)
        suffix = ""
        if tab == "stacktrace":
            in_app_only = request.GET.get("in_app") == "1"
            context["trace"] = rendering.stacktrace_view(data, in_app_only=in_app_only)
            context["in_app_only"] = in_app_only
            suffix = "?in_app=1" if in_app_only else ""
        elif tab == "details":
            context["details"] = rendering.details_view(data)
            context["attachments"] = list(Attachment.objects.filter(event=event))
        elif tab == "breadcrumbs":
            context["breadcrumbs"] = rendering.breadcrumbs_view(data, event.timestamp)
        context["event_nav"] = event_navigation(issue, event, tab, is_latest, suffix)
        context["scrubbed"] = scrub_summary(data)
    return _render(request, issue, tab, event, event_in_url=event_pk is not None, event_data=data, **context)


@login_required
@require_GET
def stacktrace(request, issue_id, event_pk=None):
    return _event_tab(request, issue_id, event_pk, "stacktrace")


@login_required
@require_GET
def details(request, issue_id, event_pk=None):
    return _event_tab(request, issue_id, event_pk, "details")


@login_required
@require_GET
def breadcrumbs(request, issue_id, event_pk=None):
    return _event_tab(request, issue_id, event_pk, "breadcrumbs")


@login_required
@require_GET
def event_by_id(request, issue_id, event_id):
    """/issues/<id>/events/id/<event_id>/: the SDK's event id (as in alerts and in the SDK's logs)."""
    issue = get_issue_or_404(request.user, issue_id)
    try:
        wanted = uuid.UUID(str(event_id))
    except ValueError:
        raise Http404("No such event") from None
    pk = Event.objects.filter(issue=issue, event_id=wanted).values_list("pk", flat=True).first()
    if pk is None:
        raise Http404("No such event")
    return redirect("issue:event", issue.pk, pk)


def _raw_event(request, issue_id, event_pk, download: bool) -> HttpResponse:
    issue = get_issue_or_404(request.user, issue_id)
    event = get_object_or_404(Event, issue=issue, pk=event_pk)
    response = HttpResponse(rendering.raw_json(event.data_json), content_type="application/json")
    if download:
        response["Content-Disposition"] = f'attachment; filename="{event.event_id.hex}.json"'
    return response


@login_required
@require_GET
def event_json(request, issue_id, event_pk):
    return _raw_event(request, issue_id, event_pk, download=False)


@login_required
@require_GET
def event_download(request, issue_id, event_pk):
    return _raw_event(request, issue_id, event_pk, download=True)


@login_required
@require_GET
def attachment_download(request, issue_id, event_pk, attachment_pk):
    """An attachment's content, for project members only, always as a download: whatever its declared type, it is
    never rendered by the browser on our origin (it is whatever a DSN holder sent)."""
    issue = get_issue_or_404(request.user, issue_id)
    attachment = get_object_or_404(Attachment, event__issue=issue, event_id=event_pk, pk=attachment_pk)
    if not attachment.is_stored:
        raise Http404("This attachment was not kept")
    try:
        content = ATTACHMENT_CONTENTS.open(attachment_name(attachment.project_id, attachment.sha1))
    except FileNotFoundError:
        raise Http404("This attachment's file is gone") from None
    response = FileResponse(
        content, as_attachment=True, filename=attachment.name, content_type="application/octet-stream"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


# --- issue tabs -------------------------------------------------------------------------------------------------


@login_required
@require_GET
def feedback(request, issue_id):
    """What users wrote about this issue's events (newest first)."""
    issue = get_issue_or_404(request.user, issue_id)
    entries = list(UserFeedback.objects.filter(issue=issue).select_related("event")[:FEEDBACK_LIMIT])
    return _render(request, issue, "feedback", entries=entries, more_feedback=len(entries) == FEEDBACK_LIMIT)


@login_required
@require_GET
def events(request, issue_id):
    """This issue's events, newest first, filtered by the search syntax, keyset-paginated on digest_order."""
    issue = get_issue_or_404(request.user, issue_id)
    q = request.GET.get("q", "").strip()
    rows = filter_events(Event.objects.filter(issue=issue).defer("data_json"), parse_query(q), [issue.project_id])
    # after= leads to newer events, before= to older ones (after= wins when both are given)
    newer = Cursor.decode(request.GET.get("after", ""), EVENT_ORDER)
    older = Cursor.decode(request.GET.get("before", ""), EVENT_ORDER) if newer is None else None
    page = keyset_page(rows, EVENT_ORDER, EVENTS_PAGE_SIZE, older=older, newer=newer)
    urls = release_urls(issue.project_id, [row.release for row in page.rows])
    for row in page.rows:
        row.release_url = urls.get(row.release, "")
    base = reverse("issue:events", args=[issue.pk])
    extra = {"q": q} if q else {}

    def link(**params) -> str:
        query = urlencode({**extra, **params})
        return f"{base}?{query}" if query else base

    return _render(
        request,
        issue,
        "events",
        q=q,
        rows=page.rows,
        newer_url=link(after=page.newer.encode()) if page.newer else None,
        older_url=link(before=page.older.encode()) if page.older else None,
        newest_url=link() if page.newer else None,
    )


def tag_distribution(issue: Issue) -> list[dict]:
    """Per tag key, its most frequent values with their share of the issue's events (one query, at most
    TAG_VALUES_PER_KEY rows per key however many distinct values there are)."""
    rows = (
        IssueTag.objects.filter(issue=issue)
        .annotate(
            key=F("value__key"),
            text=F("value__value"),
            rank=Window(RowNumber(), partition_by=[F("value__key")], order_by=[F("count").desc(), F("value__value")]),
            key_total=Window(Sum("count"), partition_by=[F("value__key")]),
            key_values=Window(Count("id"), partition_by=[F("value__key")]),
        )
        .filter(rank__lte=TAG_VALUES_PER_KEY)
        .values("key", "text", "count", "rank", "key_total", "key_values")
        .order_by("key", "rank")
    )
    total = max(issue.event_count, 1)
    keys: dict[str, dict] = {}
    for row in rows:
        entry = keys.setdefault(
            row["key"],
            {"key": row["key"], "values": [], "total": row["key_total"], "distinct": row["key_values"], "shown": 0},
        )
        percentage = min(100.0, row["count"] * 100.0 / total)
        entry["values"].append(
            {
                "value": row["text"],
                "count": row["count"],
                "percentage": f"{percentage:.1f}",
                "query": rendering.tag_query(row["key"], row["text"]),
            }
        )
        entry["shown"] += row["count"]
    for entry in keys.values():
        other = entry["total"] - entry["shown"]
        entry["other_values"] = entry["distinct"] - len(entry["values"])
        entry["other_count"] = other
        entry["other_percentage"] = f"{min(100.0, other * 100.0 / total):.1f}"
        missing = issue.event_count - entry["total"]
        entry["missing_count"] = max(0, missing)
        entry["missing_percentage"] = f"{min(100.0, max(0, missing) * 100.0 / total):.1f}"
    return list(keys.values())


@login_required
@require_GET
def tags(request, issue_id):
    issue = get_issue_or_404(request.user, issue_id)
    return _render(request, issue, "tags", distribution=tag_distribution(issue))


def turning_point_details(point: TurningPoint) -> list[str]:
    """The lines under a history entry: release, conditions, reasons."""
    meta = point.metadata if isinstance(point.metadata, dict) else {}
    lines = []
    release = meta.get("release")
    if point.kind == TurningPoint.Kind.RESOLVED:
        if release == "next":
            lines.append("in the next release")
        elif release:
            lines.append(f"in release {release}")
    elif point.kind in (TurningPoint.Kind.NEXT_MATERIALIZED, TurningPoint.Kind.REGRESSED) and release:
        lines.append(f"release {release}")
    if point.kind == TurningPoint.Kind.MUTED:
        if meta.get("description"):
            lines.append(f"until {meta['description']}")
        elif meta.get("conditions"):
            lines.extend(f"until {d}" for d in describe_conditions(meta["conditions"]))
        if not meta.get("until") and not meta.get("conditions"):
            lines.append("until unmuted")
    if point.kind == TurningPoint.Kind.ASSIGNED and meta.get("to"):
        lines.append(f"to {meta['to']}")
    if point.kind == TurningPoint.Kind.UNASSIGNED and meta.get("from"):
        lines.append(f"was {meta['from']}")
    if meta.get("reason"):
        lines.append(f"because of {meta['reason']}")
    return lines + merge_details(point.kind, meta)


@login_required
@require_GET
def history(request, issue_id):
    issue = get_issue_or_404(request.user, issue_id)
    points = list(issue.turning_points.select_related("user").order_by("-timestamp", "-id")[: HISTORY_LIMIT + 1])
    entries = []
    for point in points[:HISTORY_LIMIT]:
        meta = point.metadata if isinstance(point.metadata, dict) else {}
        until = None
        if point.kind == TurningPoint.Kind.MUTED and meta.get("until"):
            until = rendering.to_datetime(meta["until"])
        entries.append(
            {
                "point": point,
                "who": point.user.get_username() if point.user_id and point.user else "",
                "details": turning_point_details(point),
                "until": until,
                "edited_at": rendering.to_datetime(meta.get("edited_at")) if meta.get("edited_at") else None,
                "own": point.kind == TurningPoint.Kind.COMMENT and point.user_id == request.user.pk,
                "comment_html": render_comment(point.comment) if point.comment else "",
                "event_url": reverse("issue:event", args=[issue.pk, point.triggering_event_id])
                if point.triggering_event_id
                else None,
            }
        )
    return _render(
        request,
        issue,
        "history",
        entries=entries,
        more_history=len(points) > HISTORY_LIMIT,
        **maintenance_context(issue),
    )


# --- actions ----------------------------------------------------------------------------------------------------


def _back(request, issue: Issue, default: str = "issue:stacktrace"):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect(default, issue.pk)


def mute_arguments(post, now) -> dict:
    """The arguments of IssueStateManager.mute from the issue page's mute forms (issues.muting.parse_mute);
    InvalidMute when the input makes no sense."""
    condition = condition_data(post) if post.get("volume", "").strip() else None
    return parse_mute(now, duration=post.get("mute_for", ""), condition=condition).arguments(now)


def _success_message(action: str, issue: Issue) -> str:
    if action == "resolve_by_latest":
        return f"Resolved in {issue.fixed_at[-1]}." if issue.fixed_at else "Resolved."
    if action == "mute":
        # until when, in the user's time zone, and/or until which volume: the same words as the list's tooltip
        return describe_state(issue) + "."
    return {
        "resolve": "Resolved.",
        "resolve_by_next": "Resolved in the next release.",
        "reopen": "Reopened.",
        "unmute": "Unmuted.",
    }[action]


@login_required
@require_POST
def action(request, issue_id):
    """One endpoint for every state change; refusals (IllegalStateTransition) become an error message."""
    issue = get_issue_or_404(request.user, issue_id)
    name = request.POST.get("action", "")
    if name not in ACTIONS:
        messages.error(request, "Unknown action.")
        return _back(request, issue)
    try:
        with transaction.atomic():
            # the state as it is now, not as it was when the page was rendered (digest may have changed it)
            issue = Issue.objects.select_for_update().select_related("project").get(pk=issue.pk)
            kwargs = {}
            if name == "mute":
                now = timezone.now()
                kwargs = mute_arguments(request.POST, now)
            ACTIONS[name](issue, user=request.user, **kwargs)
            issue.save(update_fields=STATE_FIELDS)
    except (IllegalStateTransition, InvalidMute) as e:
        messages.error(request, str(e))
    else:
        messages.success(request, _success_message(name, issue))
    return _back(request, issue)


@login_required
@require_POST
def assign(request, issue_id):
    issue = get_issue_or_404(request.user, issue_id)
    try:
        assignment = triage.assign_issue(issue, request.POST.get("assignee", ""), request.user)
    except participants.AssignmentError as e:
        messages.error(request, str(e))
        return _back(request, issue)
    if not assignment.changed:
        messages.info(request, "The assignee stays as it was.")
    elif assignment.user is None and assignment.team is None:
        messages.success(request, "Unassigned.")
    else:
        name = assignment.user.get_username() if assignment.user else f"#{assignment.team.name}"
        messages.success(request, f"Assigned to {name}.")
    return _back(request, issue)


@login_required
@require_POST
def subscription(request, issue_id):
    """Subscribe (subscribe=1) or unsubscribe (subscribe=0) the user to the issue's notifications."""
    issue = get_issue_or_404(request.user, issue_id)
    if request.POST.get("subscribe") == "1":
        participants.subscribe(issue, request.user)
        messages.success(request, "Subscribed: you get this issue's alerts and comments by e-mail.")
    else:
        participants.unsubscribe(issue, request.user)
        messages.success(request, "Unsubscribed from this issue.")
    return _back(request, issue)


def _comment(issue: Issue, comment_pk: int) -> TurningPoint:
    return get_object_or_404(TurningPoint, pk=comment_pk, issue=issue, kind=TurningPoint.Kind.COMMENT)


@login_required
@require_POST
def comment_add(request, issue_id):
    issue = get_issue_or_404(request.user, issue_id)
    try:
        triage.add_comment(issue, request.user, request.POST.get("comment", ""))
    except IllegalStateTransition as e:
        messages.error(request, str(e))
    else:
        messages.success(request, "Comment added.")
    return redirect("issue:history", issue.pk)


@login_required
@require_POST
def comment_edit(request, issue_id, comment_pk):
    issue = get_issue_or_404(request.user, issue_id)
    try:
        IssueStateManager.edit_comment(_comment(issue, comment_pk), request.user, request.POST.get("comment", ""))
    except IllegalStateTransition as e:
        messages.error(request, str(e))
    else:
        messages.success(request, "Comment saved.")
    return redirect("issue:history", issue.pk)


@login_required
@require_POST
def comment_delete(request, issue_id, comment_pk):
    issue = get_issue_or_404(request.user, issue_id)
    try:
        IssueStateManager.delete_comment(_comment(issue, comment_pk), request.user)
    except IllegalStateTransition as e:
        messages.error(request, str(e))
    else:
        messages.success(request, "Comment deleted.")
    return redirect("issue:history", issue.pk)
