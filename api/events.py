"""Events in Sentry's web API: an issue's events newest first (`?full=true` for whole events, `?query=` in the
events tab's search syntax), its latest, oldest or any one event, and a project's event by the SDK's event id.

Events are found by `digest_order` (indexed per issue) as on the issue page; a page holds at most 100 events.
"""

import uuid

from django.db.models import QuerySet
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from api.common import get_project
from api.event_shape import serialize_event
from api.issues import find_issue
from api.pagination import paginated_response
from events.models import Event
from events.safe import clean_str
from issues.models import Grouping, Issue
from tags.search import filter_events, parse_query

DEFAULT_EVENTS_PER_PAGE = 50
MAX_QUERY_CHARS = 1000


def fingerprints(event: Event) -> list[str]:
    """Sentry's `fingerprints`: the hash of the grouping key that put the event in its issue."""
    if event.grouping_id is None:
        return []
    key_hash = Grouping.objects.filter(pk=event.grouping_id).values_list("grouping_key_hash", flat=True).first()
    return [key_hash] if key_hash else []


def event_detail(event: Event, issue: Issue) -> dict:
    """The full event with its neighbours in the issue (nextEventID: newer, previousEventID: older)."""
    shape = serialize_event(event, issue, fingerprints=fingerprints(event))
    events = Event.objects.filter(issue=issue)
    older = events.filter(digest_order__lt=event.digest_order).order_by("-digest_order")
    newer = events.filter(digest_order__gt=event.digest_order).order_by("digest_order")
    previous_id = older.values_list("event_id", flat=True).first()
    next_id = newer.values_list("event_id", flat=True).first()
    shape["previousEventID"] = previous_id.hex if previous_id else None
    shape["nextEventID"] = next_id.hex if next_id else None
    return shape


def parse_event_id(value: str) -> uuid.UUID:
    """The SDK's event id: 32 hex digits, or a dashed UUID; anything else names no event."""
    if len(value) not in (32, 36):
        raise NotFound("No such event.")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound("No such event.") from None


def issue_events(request, issue: Issue) -> QuerySet:
    events = Event.objects.filter(issue=issue)
    query = clean_str(request.query_params.get("query", ""))[:MAX_QUERY_CHARS].strip()
    if query:
        events = filter_events(events, parse_query(query))
    return events.order_by("-digest_order")


EVENTS_PARAMETERS = [
    OpenApiParameter("full", bool, description="whole events (entries, contexts, ...) instead of summaries"),
    OpenApiParameter("query", str, description="the events tab's search syntax"),
    OpenApiParameter("cursor", str, description="from the Link header of the previous page"),
    OpenApiParameter("per_page", int, description="at most 100"),
]


class IssueEvents(APIView):
    @extend_schema(parameters=EVENTS_PARAMETERS, responses={200: OpenApiTypes.OBJECT}, summary="An issue's events")
    def get(self, request, issue_id: str, org: str | None = None):
        issue = find_issue(request, issue_id, org)
        is_full = request.query_params.get("full", "").lower() in ("1", "true", "yes")

        def serialize(page):
            return [serialize_event(event, issue, full_shape=is_full) for event in page]

        return paginated_response(request, issue_events(request, issue), serialize, DEFAULT_EVENTS_PER_PAGE)


class IssueEvent(APIView):
    @extend_schema(
        responses={200: OpenApiTypes.OBJECT},
        summary="An issue's latest, oldest or one event",
        description="`event` is `latest`, `oldest` or the SDK's event id.",
    )
    def get(self, request, issue_id: str, event: str, org: str | None = None):
        issue = find_issue(request, issue_id, org)
        events = Event.objects.filter(issue=issue)
        if event == "latest":
            found = events.order_by("-digest_order").first()
        elif event == "oldest":
            found = events.order_by("digest_order").first()
        else:
            found = events.filter(event_id=parse_event_id(event)).first()
        if found is None:
            raise NotFound("No such event.")
        return Response(event_detail(found, issue))


class ProjectEvent(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT}, summary="A project's event by its event id")
    def get(self, request, org: str, project: str, event_id: str):
        project = get_project(request, org, project)
        found = (
            Event.objects.filter(project=project, event_id=parse_event_id(event_id), issue__is_deleting=False)
            .select_related("issue__project")
            .first()
        )
        if found is None:
            raise NotFound("No such event.")
        return Response(event_detail(found, found.issue))


urlpatterns = [
    path("issues/<str:issue_id>/events/", IssueEvents.as_view(), name="issue-events"),
    path("issues/<str:issue_id>/events/<str:event>/", IssueEvent.as_view(), name="issue-event"),
    path("organizations/<str:org>/issues/<str:issue_id>/events/", IssueEvents.as_view(), name="org-issue-events"),
    path(
        "organizations/<str:org>/issues/<str:issue_id>/events/<str:event>/",
        IssueEvent.as_view(),
        name="org-issue-event",
    ),
    path("projects/<str:org>/<str:project>/events/<str:event_id>/", ProjectEvent.as_view(), name="project-event"),
]
