"""The search box: `key:value` tag terms (values may be "quoted"), `is:` states, `has:KEY`, and free text over
the title; free text that is an issue's id (UUID in any form, or a short id like MYAPP-12) also finds that issue.

release:1.4.2 level:error "connection refused" browser:"Chrome 120" is:unresolved has:customer

The tags that hold a name and a version (browser "Chrome 120.0.0", os "Windows 10", runtime "CPython 3.12.4", see
tags.extract) match their name alone too: browser:Chrome is browser:"Chrome 120.0.0" or browser.name:Chrome.

`assigned:me`, `assigned:<username or e-mail>`, `assigned:#team`, `assigned:none`, `is:assigned` and `is:unassigned`
find issues by their assignee (issues.participants).

`has:feedback` and `has:attachment` find issues (events) with user feedback or attachments.

Sentry's dotted keys for an event's fields (user.email, user.id, user.username, user.ip, sdk.*, device.*,
error.mechanism, error.handled, http.method, http.url) are tags (tags.extract); `error.type` is read from the issue's
(event's) own type (FIELD_TERMS), not a tag.

A term the parser cannot use (`level:` without a value, `is:sleeping`) is kept in `Query.not_understood` with the
reason, so that the page can say so rather than silently search for something else.
"""

import re
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet, Value

from events.models import Attachment, UserFeedback
from issues.refs import issue_ref_q
from tags.models import EventTag, IssueTag, TagValue

# has:KEY for what is not a tag: user feedback (about the issue's events) and attachments
HAS_ISSUE = {
    "feedback": lambda: UserFeedback.objects.exclude(issue=None).values("issue_id"),
    "attachment": lambda: Attachment.objects.exclude(event=None).values("event__issue_id"),
}
HAS_ISSUE["attachments"] = HAS_ISSUE["attachment"]
HAS_EVENT = {
    "feedback": lambda: UserFeedback.objects.exclude(event=None).values("event_id"),
    "attachment": lambda: Attachment.objects.exclude(event=None).values("event_id"),
}
HAS_EVENT["attachments"] = HAS_EVENT["attachment"]

# key: the key of the tag that holds the name alone (see the module docstring)
NAME_TAGS = {"browser": "browser.name", "os": "os.name", "runtime": "runtime.name"}

# key: the column of Issue and Event a term of that key matches exactly (no tag holds it)
FIELD_TERMS = {"error.type": "calculated_type"}

_TOKEN = re.compile(r'(?:([\w.\-]+):(?:"([^"]*)"|(\S*)))|"([^"]*)"|(\S+)')

# is:assigned / is:unassigned, assigned:VALUE (issues.participants): who is on the issue, kept apart from the states
IS_ASSIGNMENT = {
    "assigned": Q(assigned_user__isnull=False) | Q(assigned_team__isnull=False),
    "unassigned": Q(assigned_user__isnull=True, assigned_team__isnull=True),
}

# is:STATE, the issue flags it stands for, as the API's `is:` (Sentry's statuses): unresolved is neither resolved
# nor muted. Each of the issue list's tabs is one of these. Muted issues are never resolved (IssueStateManager keeps
# the two exclusive), so is:muted names is_resolved too: a prefix of the (project, is_resolved, is_muted, last_seen)
# index. Value(...) makes them `is_resolved = false` rather than `NOT is_resolved`, which SQLite cannot match to it.
FALSE, TRUE = Value(False), Value(True)
IS_STATES = {
    "unresolved": Q(is_resolved=FALSE, is_muted=FALSE),
    "resolved": Q(is_resolved=TRUE),
    "muted": Q(is_resolved=FALSE, is_muted=TRUE),
}


@dataclass
class Query:
    terms: list[tuple[str, str]] = field(default_factory=list)
    text: str = ""
    states: list[str] = field(default_factory=list)
    has: list[str] = field(default_factory=list)
    # assigned:VALUE (me, none, #team, a username or e-mail) and is:assigned / is:unassigned
    assigned: list[str] = field(default_factory=list)
    assignment: list[str] = field(default_factory=list)
    # (the term as typed, why it was not used)
    not_understood: list[tuple[str, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.terms or self.text or self.states or self.has or self.assigned or self.assignment)


def parse_query(query: str) -> Query:
    result = Query()
    words = []
    for key, quoted_value, value, quoted_text, word in _TOKEN.findall(query or ""):
        if key:
            _add_term(result, key, quoted_value or value)
        elif quoted_text:
            words.append(quoted_text)
        elif word:
            words.append(word)
    result.text = " ".join(words).strip()
    return result


def _add_term(result: Query, key: str, value: str) -> None:
    if not value:
        result.not_understood.append(
            (f"{key}:", 'a key needs a value, like level:error or release:"1.0 beta"; left out of the search')
        )
    elif key == "is" and value in IS_ASSIGNMENT:
        result.assignment.append(value)
    elif key in ("assigned", "assigned_to"):
        result.assigned.append(value)
    elif key == "is":
        if value in IS_STATES:
            result.states.append(value)
        else:
            known = ", ".join(f"is:{state}" for state in [*IS_STATES, *IS_ASSIGNMENT])
            result.not_understood.append((f"is:{value}", f"the states are {known}; left out of the search"))
    elif key == "has":
        result.has.append(value)
    else:
        result.terms.append((key, value))


def term_values(query: Query, key: str) -> list[str]:
    """The values the query's `key:` terms name (the issue list's controls show the environment and release)."""
    return [value for term_key, value in query.terms if term_key == key]


def with_term(text: str, key: str, value: str) -> str:
    """The search text with its `key:` terms replaced by `key:value` (none when value is empty): what the issue
    list's environment and release controls do, so that a control and its search term are one filter."""
    kept = []
    for match in _TOKEN.finditer(text or ""):
        if match.group(1) != key:
            kept.append(match.group(0))
    if value:
        kept.append(f'{key}:"{value}"' if re.search(r'[\s"]', value) else f"{key}:{value}")
    return " ".join(kept)


def tag_value_ids(key: str, value: str, projects: list[int] | None = None) -> list[int]:
    """The ids of a key:value term's TagValues (of those projects, when given).

    A search by tag names its values by id: the database's statistics know how many issues (events) carry value
    9, not how many carry "the value whose key is level and value fatal". So PostgreSQL walks the list's index and
    probes each issue's tags for a broad value (level:fatal), and starts from the tag for a narrow one; given the
    join, it guessed a few hundred rows for any value, and read and sorted all 20,000 issues of a broad one (0.58 s
    against 11 ms at 100,000 issues, bench/RESULTS.md). One query per term: the database's collation (MariaDB's
    is case-insensitive) decides what matches, as it did in the join."""
    condition = Q(key=key, value=value)
    if key in NAME_TAGS:
        condition |= Q(key=NAME_TAGS[key], value=value)
    values = TagValue.objects.filter(condition)
    if projects is not None:
        values = values.filter(project_id__in=projects)
    return list(values.values_list("pk", flat=True))


def assigned_q(value: str, user=None) -> Q:
    """assigned:VALUE: `me` (the searching user), `none`, `#team`, or a username or e-mail address (any case)."""
    if value == "me":
        return Q(assigned_user=user) if user is not None and user.is_authenticated else Q(pk__in=[])
    if value == "none":
        return IS_ASSIGNMENT["unassigned"]
    if value.startswith("#"):
        return Q(assigned_team__name__iexact=value[1:])
    return Q(assigned_user__username__iexact=value) | Q(assigned_user__email__iexact=value)


def filter_issues(issues: QuerySet, query: Query, projects: list[int] | None = None, user=None) -> QuerySet:
    """The issues that match; `projects`, when given, are the projects `issues` are of (their tag values are the
    only ones looked up); `user` is whom `assigned:me` means."""
    for key, value in query.terms:
        if key in FIELD_TERMS:
            issues = issues.filter(**{FIELD_TERMS[key]: value})
            continue
        # no such value: nothing matches (an empty IN, which Django answers without asking the database)
        value_ids = tag_value_ids(key, value, projects)
        issues = issues.filter(id__in=IssueTag.objects.filter(value_id__in=value_ids).values("issue_id"))
    for key in query.has:
        if key in HAS_ISSUE:
            issues = issues.filter(id__in=HAS_ISSUE[key]())
        else:
            issues = issues.filter(id__in=IssueTag.objects.filter(value__key=key).values("issue_id"))
    for state in query.states:
        issues = issues.filter(IS_STATES[state])
    for value in query.assigned:
        issues = issues.filter(assigned_q(value, user))
    for state in query.assignment:
        issues = issues.filter(IS_ASSIGNMENT[state])
    if query.text:
        condition = (
            Q(calculated_type__icontains=query.text)
            | Q(calculated_value__icontains=query.text)
            | Q(culprit__icontains=query.text)
        )
        by_id = issue_ref_q(query.text)
        issues = issues.filter(condition | by_id if by_id is not None else condition)
    return issues


def filter_events(events: QuerySet, query: Query, projects: list[int] | None = None) -> QuerySet:
    for key, value in query.terms:
        if key in FIELD_TERMS:
            events = events.filter(**{FIELD_TERMS[key]: value})
            continue
        value_ids = tag_value_ids(key, value, projects)
        events = events.filter(id__in=EventTag.objects.filter(value_id__in=value_ids).values("event_id"))
    for key in query.has:
        if key in HAS_EVENT:
            events = events.filter(id__in=HAS_EVENT[key]())
        else:
            events = events.filter(id__in=EventTag.objects.filter(value__key=key).values("event_id"))
    if query.text:
        events = events.filter(Q(calculated_type__icontains=query.text) | Q(calculated_value__icontains=query.text))
    return events
