"""An issue's comments in Sentry's shape of a note (`type: "note"`, the text under `data.text`): the COMMENT
turning points of the issue's history, added by issues.triage.add_comment as the issue page does (so @mentions
and subscribers are told by e-mail)."""

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import ParseError
from rest_framework.response import Response
from rest_framework.views import APIView

from api.common import iso
from api.issues import find_issue
from api.organizations import serialize_user
from api.pagination import paginated_response
from events.safe import clean_str
from issues import triage
from issues.models import TurningPoint
from issues.state import IllegalStateTransition

MAX_COMMENT_CHARS = 10_000
COMMENT_BODY = {
    "application/json": {
        "type": "object",
        "properties": {"text": {"type": "string", "maxLength": MAX_COMMENT_CHARS}},
        "required": ["text"],
    }
}


def serialize_comment(point: TurningPoint) -> dict:
    return {
        "id": str(point.pk),
        "type": "note",
        "user": serialize_user(point.user) if point.user_id and point.user else None,
        "data": {"text": point.comment},
        "dateCreated": iso(point.timestamp),
    }


class IssueComments(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT}, summary="An issue's comments, newest first")
    def get(self, request, issue_id: str, org: str | None = None):
        issue = find_issue(request, issue_id, org)
        comments = issue.turning_points.filter(kind=TurningPoint.Kind.COMMENT).select_related("user")
        comments = comments.order_by("-timestamp", "-id")
        return paginated_response(request, comments, lambda page: [serialize_comment(c) for c in page])

    @extend_schema(request=COMMENT_BODY, responses={201: OpenApiTypes.OBJECT}, summary="Comment on an issue")
    def post(self, request, issue_id: str, org: str | None = None):
        issue = find_issue(request, issue_id, org)
        text = request.data.get("text") if isinstance(request.data, dict) else None
        if not isinstance(text, str):
            raise ParseError('The body must be a JSON object with the comment under "text".')
        if len(text) > MAX_COMMENT_CHARS:
            raise ParseError(f"A comment may be at most {MAX_COMMENT_CHARS} characters long.")
        try:
            point = triage.add_comment(issue, request.user, clean_str(text))
        except IllegalStateTransition as e:
            raise ParseError(str(e)) from e
        return Response(serialize_comment(point), status=201)


urlpatterns = [
    path("issues/<str:issue_id>/comments/", IssueComments.as_view(), name="issue-comments"),
    path(
        "organizations/<str:org>/issues/<str:issue_id>/comments/",
        IssueComments.as_view(),
        name="organization-issue-comments",
    ),
]
