"""Which issues an API request means: the issue list's search syntax (tags.search) with Sentry's states, Sentry's
sorts, and the selection of a bulk update (`?id=` repeated, or a query).

`is:` follows the API's `status` field, as Sentry's does: `is:unresolved` is neither resolved nor ignored (the
issue list's "Unresolved" tab, as `is:unresolved` on the pages), `is:ignored` (also `is:archived`,
`is:muted`) is muted, `is:resolved` is resolved. Without a `query` parameter the list is `is:unresolved`, as
Sentry's. A term the parser cannot use is a 400 naming it, rather than a search for something else.
"""

import uuid
from dataclasses import replace

from django.db.models import Q, QuerySet
from rest_framework.exceptions import ParseError

from events.safe import clean_str
from issues.models import Issue
from issues.refs import parse_short_id, parse_uuid
from tags.models import IssueTag
from tags.search import filter_issues, parse_query

STATES = {
    "unresolved": Q(is_resolved=False, is_muted=False),
    "resolved": Q(is_resolved=True),
    "ignored": Q(is_muted=True),
    "archived": Q(is_muted=True),
    "muted": Q(is_muted=True),
}
DEFAULT_QUERY = "is:unresolved"
# Sentry's sort names; newest / loudest first, ties broken by id so that pages do not overlap
SORTS = {"date": "last_seen", "new": "first_seen", "freq": "event_count"}
DEFAULT_SORT = "date"
# a bulk update names at most this many issues by id, and a query selects at most MAX_SELECTED
MAX_IDS = 100
MAX_SELECTED = 1000
MAX_QUERY_CHARS = 1000
MAX_ENVIRONMENTS = 50


def search(issues: QuerySet, text: str, user=None) -> QuerySet:
    if len(text) > MAX_QUERY_CHARS:
        raise ParseError(f"The query is too long (at most {MAX_QUERY_CHARS} characters).")
    # NUL and lone surrogates: PostgreSQL refuses them in a query's text
    query = parse_query(clean_str(text))
    unusable = []
    conditions = [STATES[state] for state in query.states]
    for term, reason in query.not_understood:
        state = term.removeprefix("is:") if term.startswith("is:") else None
        if state in STATES:
            conditions.append(STATES[state])
        else:
            unusable.append(f"{term}: {reason}")
    if unusable:
        known = ", ".join(f"is:{state}" for state in STATES)
        raise ParseError(f"Cannot search for {'; '.join(unusable)[:500]} (states: {known}).")
    issues = filter_issues(issues, replace(query, states=[], not_understood=[]), user=user)
    for condition in conditions:
        issues = issues.filter(condition)
    return issues


def list_issues(issues: QuerySet, params, user=None) -> QuerySet:
    """The issues a list request asks for (`query`, `environment`, `sort`), in their order."""
    sort = params.get("sort", DEFAULT_SORT)
    if sort not in SORTS:
        raise ParseError(f"sort must be one of {', '.join(SORTS)}.")
    matching = search(issues.filter(is_deleting=False), params.get("query", DEFAULT_QUERY), user)
    environments = [clean_str(value) for value in params.getlist("environment")[:MAX_ENVIRONMENTS] if value]
    if environments:
        # Sentry's `environment=` (repeated: any of them), what the issue list finds with environment:NAME
        tagged = IssueTag.objects.filter(value__key="environment", value__value__in=environments)
        matching = matching.filter(id__in=tagged.values("issue_id"))
    return matching.select_related("project", "assigned_user", "assigned_team").order_by(f"-{SORTS[sort]}", "-pk")


def by_ids(refs: list[str]) -> Q:
    """A filter for the issues `refs` name (UUIDs in any form, short ids like MYAPP-12)."""
    pks: list[uuid.UUID] = []
    numbers: dict[str, list[int]] = {}
    for ref in refs:
        as_uuid = parse_uuid(ref)
        short = parse_short_id(ref) if as_uuid is None else None
        if as_uuid is not None:
            pks.append(as_uuid)
        elif short is not None:
            numbers.setdefault(short[0], []).append(short[1])
        else:
            raise ParseError(f"Not an issue id: {ref[:100]!r} (use the issue's id or its short id like MYAPP-12).")
    condition = Q(pk__in=pks)
    for slug, issue_numbers in numbers.items():
        condition |= Q(project__slug=slug, number__in=issue_numbers)
    return condition


def bulk_selection(issues: QuerySet, params, user=None) -> list[Issue]:
    """The issues a bulk PUT or DELETE names: `?id=` (repeated), else those matching `?query=` and/or
    `?status=`; at most MAX_SELECTED, else a 400 that asks to narrow it (nothing is changed)."""
    refs = params.getlist("id")
    issues = issues.filter(is_deleting=False)
    if refs:
        if len(refs) > MAX_IDS:
            raise ParseError(f"At most {MAX_IDS} issues can be named with id= at once.")
        selected = issues.filter(by_ids(refs))
    elif "query" in params or "status" in params:
        selected = search(issues, params.get("query", ""), user)
        status = params.get("status")
        if status is not None:
            if status not in ("unresolved", "resolved", "ignored"):
                raise ParseError("status must be one of unresolved, resolved, ignored.")
            selected = selected.filter(STATES[status])
    else:
        raise ParseError("Say which issues: id= (repeated), or query= and/or status=.")
    rows = list(selected.select_related("project").order_by("-last_seen", "-pk")[: MAX_SELECTED + 1])
    if len(rows) > MAX_SELECTED:
        raise ParseError(f"More than {MAX_SELECTED} issues match; narrow the query (nothing was changed).")
    return rows
