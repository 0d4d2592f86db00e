"""Issues in Sentry's web API: lists per project and per organization with bulk updates and deletes, one issue
(`/issues/{id}/`, also under the organization) to read, update and delete.

A translation layer: the selection is tags.search's syntax (api.issue_search), state changes are issues.state's
transitions (api.issue_updates reads Sentry's body), deletion is issues.deletion's job. Scopes: reading needs
`read`, updating `write`, deleting `admin` and being an admin of the issues' projects (a visible project's issue is
then a 403; an issue the user cannot see is a 404 whatever the token). An issue being deleted (DELETE answered 202,
the deletion job has not finished) is gone for the API, as in Sentry: a 404, in no list.
"""

from django.db import transaction
from django.db.models import QuerySet
from django.urls import path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound, ParseError, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from api.common import check_organization, get_project
from api.issue_search import MAX_IDS, bulk_selection, list_issues
from api.issue_shape import assigned_to, releases_of, serialize_issue, with_comment_counts
from api.issue_updates import BadUpdate, already_done, parse_update, transition_for
from api.models import Scope
from api.pagination import paginated_response
from issues import participants, triage
from issues.deletion import request_deletion
from issues.merge import MergeRefused, request_merge
from issues.models import Issue
from issues.refs import issue_ref_q
from issues.state import STATE_FIELDS, TRANSITIONS, IllegalStateTransition, apply_locked
from projects.access import administered_projects, is_project_admin, visible_projects

ISSUE_SCOPES = {"GET": Scope.READ, "PUT": Scope.WRITE, "DELETE": Scope.ADMIN}

LIST_PARAMETERS = [
    OpenApiParameter("query", str, description="search syntax of the issue list; default is:unresolved"),
    OpenApiParameter("sort", str, enum=["date", "new", "freq"], description="last seen, first seen, event count"),
    OpenApiParameter("environment", str, many=True, description="only issues seen in one of these environments"),
    OpenApiParameter("cursor", str, description="from the Link header of the previous page"),
    OpenApiParameter("per_page", int, description="at most 100 (also as `limit`)"),
]
BULK_PARAMETERS = [
    OpenApiParameter("id", str, many=True, description=f"an issue's id or short id, repeated (at most {MAX_IDS})"),
    OpenApiParameter("query", str, description="instead of id: the issues this search finds"),
    OpenApiParameter("status", str, enum=["unresolved", "resolved", "ignored"], description="instead of id"),
]
UPDATE_BODY = {
    "application/json": {
        "type": "object",
        "properties": {
            "status": {"type": "string", "enum": ["resolved", "resolvedInNextRelease", "unresolved", "ignored"]},
            "assignedTo": {
                "type": "string",
                "description": 'a member\'s username or e-mail, "user:ID", "team:ID", "me", or "" to unassign',
            },
            "isSubscribed": {"type": "boolean", "description": "subscribe or unsubscribe the requesting user"},
            "substatus": {"type": "string", "description": "optional; one that says no more than status"},
            "statusDetails": {
                "type": "object",
                "properties": {
                    "inNextRelease": {"type": "boolean"},
                    "inRelease": {"type": "string"},
                    "ignoreDuration": {"type": "integer", "description": "minutes"},
                    "ignoreUntil": {"type": "string", "format": "date-time"},
                    "ignoreCount": {"type": "integer"},
                    "ignoreWindow": {"type": "integer", "description": "minutes"},
                },
            },
        },
    }
}
# the fields of an update about people rather than state (issues.participants); the rest is api.issue_updates'
PEOPLE_FIELDS = ("assignedTo", "isSubscribed")
# the bulk PUT also merges: {"merge": 1} alone (bulk_merge)
BULK_BODY = {
    "application/json": {
        "type": "object",
        "properties": {
            **UPDATE_BODY["application/json"]["properties"],
            "merge": {"type": "integer", "enum": [1], "description": "merge the selected issues (of one project)"},
        },
    }
}


def find_issue(request, ref: str, org: str | None = None) -> Issue:
    """An issue the user may see, by its id (UUID in any form) or short id; anything else is a 404."""
    if org is not None:
        check_organization(org)
    condition = issue_ref_q(ref)
    if condition is None:
        raise NotFound("No such issue.")
    issue = (
        Issue.objects.select_related("project", "assigned_user", "assigned_team")
        .filter(condition, project__in=visible_projects(request.user), is_deleting=False)
        .first()
    )
    if issue is None:
        raise NotFound("No such issue.")
    return issue


def split_update(data) -> tuple[dict | None, dict]:
    """(the state update for api.issue_updates, or None when the body asks for none; the people fields)."""
    if not isinstance(data, dict):
        return data, {}  # api.issue_updates says what the body must be
    people = {key: data[key] for key in PEOPLE_FIELDS if key in data}
    rest = {key: value for key, value in data.items() if key not in PEOPLE_FIELDS}
    if people and not rest:
        return None, people
    return rest, people


def apply_people(request, issues: list[Issue], people: dict) -> None:
    """assignedTo and isSubscribed of an update, to each issue (AssignmentError: a 400 that names the assignee)."""
    if "isSubscribed" in people and not isinstance(people["isSubscribed"], bool):
        raise ParseError("isSubscribed must be true or false.")
    if "assignedTo" in people:
        try:
            triage.assign_issues(issues, people["assignedTo"], request.user)
        except participants.AssignmentError as e:
            raise ParseError(str(e)) from e
    if "isSubscribed" in people:
        for issue in issues:
            if people["isSubscribed"]:
                participants.subscribe(issue, request.user)
            else:
                participants.unsubscribe(issue, request.user)


def update_issue(request, issue: Issue) -> Issue:
    """Apply the request's update to one issue with its state as it is now (digest may have changed it)."""
    state, people = split_update(request.data)
    try:
        update = parse_update(state, timezone.now()) if state is not None else None
    except BadUpdate as e:
        raise ParseError(str(e)) from e
    with transaction.atomic():
        apply_people(request, [issue], people)
        if update is not None:
            change_state(request, issue, update)
    return Issue.objects.select_related("project", "assigned_user", "assigned_team").get(pk=issue.pk)


def change_state(request, issue: Issue, update) -> Issue:
    with transaction.atomic():
        issue = Issue.objects.select_for_update().select_related("project").get(pk=issue.pk)
        if already_done(issue, update):
            return issue
        name, kwargs = transition_for(issue, update)
        try:
            TRANSITIONS[name](issue, user=request.user, **kwargs)
        except IllegalStateTransition as e:
            raise ParseError(str(e)) from e
        issue.save(update_fields=STATE_FIELDS)
    return issue


def bulk_update(request, issues: QuerySet) -> Response:
    """Sentry's bulk update: the selected issues each get the transition (those already in the state are left
    alone, those it makes no sense for are listed under `skipped` by short id with the reason); the answer echoes
    the applied status, 204 when nothing was selected. `assignedTo` and `isSubscribed` apply to each of them too.
    `{"merge": 1}` merges them instead (bulk_merge)."""
    if isinstance(request.data, dict) and "merge" in request.data:
        return bulk_merge(request, issues)
    state, people = split_update(request.data)
    try:
        update = parse_update(state, timezone.now()) if state is not None else None
    except BadUpdate as e:
        raise ParseError(str(e)) from e
    rows = bulk_selection(issues, request.query_params, request.user)
    if not rows:
        return Response(status=204)
    with transaction.atomic():
        apply_people(request, rows, people)
        body, skipped = {}, {}
        if update is not None:
            body, skipped = bulk_state(request, rows, update)
    if "assignedTo" in people:
        first = Issue.objects.select_related("assigned_user", "assigned_team").get(pk=rows[0].pk)
        body["assignedTo"] = assigned_to(first)
    if "isSubscribed" in people:
        body["isSubscribed"] = people["isSubscribed"]
    if skipped:
        body["skipped"] = skipped
    return Response(body)


def bulk_state(request, rows: list[Issue], update) -> tuple[dict, dict]:
    # each issue as it is once locked (another request may have changed it since the selection was read); one that
    # already has the update is left alone, and that is still a success
    _, skipped = apply_locked(
        rows, lambda issue: None if already_done(issue, update) else transition_for(issue, update), user=request.user
    )
    return {"status": update.status, "statusDetails": update.details}, skipped


def bulk_merge(request, issues: QuerySet) -> Response:
    """Sentry's `{"merge": 1}`: the selected issues (of one project) merge into the one with most events (issues.merge),
    as a job; the answer names the survivor and the others as Sentry's does, `{"merge": {"parent": id, "children":
    [ids]}}`. An issue named by `id=` that the user cannot see is a 404 (nothing is merged)."""
    if request.data.get("merge") not in (1, True, "1", "true"):
        raise ParseError("merge must be 1 (or true).")
    if set(request.data) != {"merge"}:
        raise ParseError("A merge takes no other changes; send them in a request of their own.")
    rows = bulk_selection(issues, request.query_params, request.user)
    refs = request.query_params.getlist("id")
    if refs and len(rows) < len(set(refs)):
        raise NotFound("No such issue.")
    try:
        with transaction.atomic():
            parent, children = request_merge(rows, user=request.user)
    except MergeRefused as e:
        raise ParseError(str(e)) from e
    return Response({"merge": {"parent": str(parent.pk), "children": [str(child.pk) for child in children]}})


def bulk_delete(request, issues: QuerySet) -> Response:
    selected = bulk_selection(issues, request.query_params, request.user)
    if not selected:
        return Response(status=204)
    project_ids = {issue.project_id for issue in selected}
    if administered_projects(request.user).filter(pk__in=project_ids).count() != len(project_ids):
        raise PermissionDenied("Deleting issues is for the admins of their projects.")
    request_deletion(selected)
    return Response(status=204)


def list_response(request, issues: QuerySet) -> Response:
    rows = with_comment_counts(list_issues(issues, request.query_params, request.user))

    def serialize(page):
        page = list(page)
        subscribed = participants.subscribed_issue_ids(page, request.user)
        releases = releases_of(page)
        return [serialize_issue(issue, issue.pk in subscribed, releases) for issue in page]

    return paginated_response(request, rows, serialize)


class ProjectIssues(APIView):
    required_scopes = ISSUE_SCOPES

    @extend_schema(parameters=LIST_PARAMETERS, responses={200: OpenApiTypes.OBJECT}, summary="A project's issues")
    def get(self, request, org: str, project: str):
        return list_response(request, Issue.objects.filter(project=get_project(request, org, project)))

    @extend_schema(
        parameters=BULK_PARAMETERS,
        request=BULK_BODY,
        responses={200: OpenApiTypes.OBJECT, 204: None},
        summary="Update or merge issues in bulk",
    )
    def put(self, request, org: str, project: str):
        return bulk_update(request, Issue.objects.filter(project=get_project(request, org, project)))

    @extend_schema(parameters=BULK_PARAMETERS, responses={204: None}, summary="Delete issues in bulk")
    def delete(self, request, org: str, project: str):
        return bulk_delete(request, Issue.objects.filter(project=get_project(request, org, project)))


def organization_issues(request, org: str) -> QuerySet:
    """The organization's issues the user may see, narrowed to `?project=<id>` (repeated) when given; Sentry's
    `project=-1` means all of them."""
    check_organization(org)
    projects = visible_projects(request.user)
    wanted = [value for value in request.query_params.getlist("project") if value != "-1"]
    if wanted:
        if not all(value.isdigit() and len(value) < 18 for value in wanted):
            raise ParseError("project must be a project's numeric id.")
        projects = projects.filter(pk__in=[int(value) for value in wanted])
    return Issue.objects.filter(project__in=projects)


ORG_PARAMETERS = [OpenApiParameter("project", int, many=True, description="a project's id, repeated; -1: all")]


class OrganizationIssues(APIView):
    required_scopes = ISSUE_SCOPES

    @extend_schema(parameters=ORG_PARAMETERS + LIST_PARAMETERS, responses={200: OpenApiTypes.OBJECT}, summary="Issues")
    def get(self, request, org: str):
        return list_response(request, organization_issues(request, org))

    @extend_schema(
        parameters=ORG_PARAMETERS + BULK_PARAMETERS,
        request=BULK_BODY,
        responses={200: OpenApiTypes.OBJECT, 204: None},
        summary="Update or merge issues in bulk",
    )
    def put(self, request, org: str):
        return bulk_update(request, organization_issues(request, org))

    @extend_schema(parameters=ORG_PARAMETERS + BULK_PARAMETERS, responses={204: None}, summary="Delete issues")
    def delete(self, request, org: str):
        return bulk_delete(request, organization_issues(request, org))


class IssueDetail(APIView):
    required_scopes = ISSUE_SCOPES

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, summary="An issue")
    def get(self, request, issue_id: str, org: str | None = None):
        issue = find_issue(request, issue_id, org)
        return Response(serialize_issue(issue, participants.is_subscribed(issue, request.user)))

    @extend_schema(request=UPDATE_BODY, responses={200: OpenApiTypes.OBJECT}, summary="Resolve, mute or reopen")
    def put(self, request, issue_id: str, org: str | None = None):
        issue = update_issue(request, find_issue(request, issue_id, org))
        return Response(serialize_issue(issue, participants.is_subscribed(issue, request.user)))

    @extend_schema(responses={202: None}, summary="Delete an issue with its events")
    def delete(self, request, issue_id: str, org: str | None = None):
        issue = find_issue(request, issue_id, org)
        if not is_project_admin(request.user, issue.project):
            raise PermissionDenied("Deleting issues is for the admins of their project.")
        request_deletion([issue])
        return Response(status=202)


urlpatterns = [
    path("projects/<str:org>/<str:project>/issues/", ProjectIssues.as_view(), name="project-issues"),
    path("organizations/<str:org>/issues/", OrganizationIssues.as_view(), name="organization-issues"),
    path("organizations/<str:org>/issues/<str:issue_id>/", IssueDetail.as_view(), name="organization-issue"),
    path("issues/<str:issue_id>/", IssueDetail.as_view(), name="issue"),
]
