"""The issue list, per project and across the user's projects: state tabs with capped counts, search, sort, keyset
pagination, and the bulk actions form (state changes through IssueStateManager, and deletion).

Nothing here counts or offsets over the whole table: tab counts stop at COUNT_LIMIT (a LIMITed subquery; a searched
list first reads the states of at most SEARCH_SCAN_LIMIT matches, once for all tabs), and pages are found by keyset
on (sort key, id) (issues.pagination), so page 1000 costs what page 1 costs.
"""

import uuid
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from issues import participants, triage
from issues.deletion import request_deletion
from issues.merge import MergeRefused, request_merge
from issues.models import Issue
from issues.muting import MUTE_DURATIONS, InvalidMute, condition_data, duration_choices, parse_mute, period_choices
from issues.pagination import Cursor, Merge, Order, capped_count, keyset_page
from issues.presentation import describe_state, format_moment, list_row
from issues.state import apply_to_issues
from projects.access import administered_projects, get_project_or_404, visible_projects
from releases.models import Release
from tags.models import TagValue
from tags.search import FIELD_TERMS, IS_STATES, Query, filter_issues, parse_query, term_values, with_term

# --- the list's parameters --------------------------------------------------------------------------------------

# Each tab is exactly one `is:` search term (tags.search.IS_STATES, which use Value(...) so that SQLite can match
# them to the (project, is_resolved, is_muted, last_seen) index): the Unresolved tab lists what `is:unresolved`
# finds, and so on; "All" is no state term at all.
TABS = {
    "unresolved": ("Unresolved", IS_STATES["unresolved"]),
    "muted": ("Muted", IS_STATES["muted"]),
    "resolved": ("Resolved", IS_STATES["resolved"]),
    "all": ("All", Q()),
}
TAB_TERMS = {"unresolved": "is:unresolved", "muted": "is:muted", "resolved": "is:resolved", "all": ""}
DEFAULT_TAB = "unresolved"
# links from before the tabs were one set: "Open" was what Unresolved is now
TAB_ALIASES = {"open": "unresolved"}

# all descending: the most recent / the loudest first
SORTS = {"last_seen": "Last seen", "first_seen": "First seen", "event_count": "Events"}
DEFAULT_SORT = "last_seen"
# ties broken by id; the two moments go into cursors as microseconds since the epoch
ORDERS = {sort: Order(sort, tiebreak="pk", is_time=sort != "event_count") for sort in SORTS}

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 250
COUNT_LIMIT = 1000
# a searched list reads the states of up to this many matching issues in one go: when they are all, the tab counts
# come from that one scan (a selective search otherwise scans the project's issues once per tab, looking for the
# 1,000 matches it never finds); when there are more, the tabs that scan found over 1,000 of are "1000+" from it,
# and only the others are counted (a broad search would otherwise look for its 1,001 matches once per tab)
SEARCH_SCAN_LIMIT = 2 * COUNT_LIMIT
# which (is_resolved, is_muted) pairs each tab holds; the same as TABS' conditions
TAB_STATES = {
    "unresolved": {(False, False)},
    "muted": {(False, True)},
    "resolved": {(True, False), (True, True)},
    "all": {(False, False), (False, True), (True, False), (True, True)},
}
# the most issues one bulk action takes: a page holds at most MAX_PER_PAGE, and Django refuses a POST of more than
# DATA_UPLOAD_MAX_NUMBER_FIELDS (1000) fields anyway
MAX_SELECTED = 500


@dataclass
class ListParams:
    q: str = ""
    tab: str = DEFAULT_TAB
    sort: str = DEFAULT_SORT
    per_page: int = DEFAULT_PER_PAGE
    after: Cursor | None = None
    before: Cursor | None = None

    @classmethod
    def from_data(cls, data) -> "ListParams":
        """From GET (the list) or POST (the bulk form carries them in hidden fields); anything invalid is ignored."""
        tab = data.get("tab", DEFAULT_TAB)
        tab = TAB_ALIASES.get(tab, tab)
        sort = data.get("sort", DEFAULT_SORT)
        params = cls(
            q=data.get("q", "").strip()[:1000],
            tab=tab if tab in TABS else DEFAULT_TAB,
            sort=sort if sort in SORTS else DEFAULT_SORT,
        )
        try:
            params.per_page = min(max(int(data.get("per_page", DEFAULT_PER_PAGE)), 1), MAX_PER_PAGE)
        except (TypeError, ValueError):
            pass
        if data.get("after"):
            params.after = Cursor.decode(data["after"], ORDERS[params.sort])
        elif data.get("before"):
            params.before = Cursor.decode(data["before"], ORDERS[params.sort])
        return params

    def query(self, with_cursor: bool = False, **overrides) -> dict:
        """The non-default parameters, for links; page cursors only when asked (a new tab or sort starts over)."""
        values = {"q": self.q, "tab": self.tab, "sort": self.sort, "per_page": self.per_page, **overrides}
        if with_cursor and "after" not in overrides and "before" not in overrides:
            if self.after:
                values["after"] = self.after.encode()
            elif self.before:
                values["before"] = self.before.encode()
        defaults = {"q": "", "tab": DEFAULT_TAB, "sort": DEFAULT_SORT, "per_page": DEFAULT_PER_PAGE}
        return {k: v for k, v in values.items() if v not in (None, "") and defaults.get(k) != v}

    def url(self, base: str, with_cursor: bool = False, **overrides) -> str:
        query = urlencode(self.query(with_cursor=with_cursor, **overrides))
        return f"{base}?{query}" if query else base


# --- querying ---------------------------------------------------------------------------------------------------


def list_rows(issues: QuerySet) -> QuerySet:
    # the project's counter is not shown: leave it in the database
    # the assignee's name for each row, in the same query (no query per row)
    return issues.select_related("project", "assigned_user", "assigned_team").defer("project__period_counts")


# --- the list pages ---------------------------------------------------------------------------------------------


@require_safe
@login_required
def all_issues(request):
    project_ids = list(visible_projects(request.user).values_list("pk", flat=True))
    issues = Issue.objects.filter(project_id__in=project_ids)
    return _render_list(
        request,
        issues,
        project=None,
        list_url=reverse("issues:all"),
        bulk_url=reverse("issues:all_bulk"),
        projects=project_ids,
    )


@require_safe
@login_required
def project_issues(request, project_id: int):
    project = get_project_or_404(request.user, project_id)
    return _render_list(
        request,
        Issue.objects.filter(project=project),
        project=project,
        list_url=reverse("issues:project", args=[project.pk]),
        bulk_url=reverse("issues:project_bulk", args=[project.pk]),
        projects=[project.pk],
    )


def _render_list(request, issues: QuerySet, project, list_url: str, bulk_url: str, projects: list[int]):
    params = ListParams.from_data(request.GET)
    if any(key in request.GET for key in FILTER_KEYS):
        # the environment and release controls write their term into the search, which then is the one filter
        q = params.q
        for key in FILTER_KEYS:
            if key in request.GET:
                q = with_term(q, key, request.GET[key].strip()[:200])
        return HttpResponseRedirect(params.url(list_url, q=q))
    query = parse_query(params.q)
    matching = filter_issues(issues, query, projects, user=request.user) if query else issues
    counts, listed = {}, matching.filter(TABS[params.tab][1])
    # across projects, each project's own index scan (see issues.pagination.Merge)
    merge = Merge("project_id", projects, lookup=list_rows(Issue.objects.all()))
    if query:
        matches = read_matches(matching)
        counts = searched_tab_counts(matches)
        if len(matches) <= SEARCH_SCAN_LIMIT:
            # every match is known: the page is sorted out of those, by primary key, rather than by the search again
            wanted = TAB_STATES[params.tab]
            pks = [pk for pk, resolved, muted in matches if (bool(resolved), bool(muted)) in wanted]
            listed, merge = issues.filter(pk__in=pks), None
    tabs = [
        {
            "key": key,
            "label": label,
            "count": counts[key] if key in counts else capped_count(matching.filter(condition), COUNT_LIMIT),
            "url": params.url(list_url, tab=key),
            "current": key == params.tab,
            "term": TAB_TERMS[key],
        }
        for key, (label, condition) in TABS.items()
    ]
    page = keyset_page(
        list_rows(listed),
        ORDERS[params.sort],
        params.per_page,
        older=params.after,
        newer=params.before,
        merge=merge,
    )
    # the rows' HTML comes from issues.presentation.list_row (the template engine took 0.4 ms a row)
    project_urls = None
    if project is None:
        project_urls = {pk: reverse("issues:project", args=[pk]) for pk in {issue.project_id for issue in page.rows}}
    zone, now = timezone.get_current_timezone(), timezone.now()
    links = release_links(page.rows)
    for issue in page.rows:
        issue.state_description = describe_state(issue)
        issue.row_html = list_row(issue, project_urls, zone, now, release_links=links)
    sorts = [
        {"key": key, "label": label, "url": params.url(list_url, sort=key), "current": key == params.sort}
        for key, label in SORTS.items()
    ]
    context = {
        "nav": "issues",
        "project": project,
        "has_projects": bool(projects),
        "search_notices": search_notices(query, projects),
        "is_states": list(IS_STATES),
        "filters": filter_controls(query, projects),
        # deleting issues is for project admins: the button only shows when it can work for some listed project
        "can_delete": request.user.is_superuser or administered_projects(request.user).filter(pk__in=projects).exists(),
        "issues": page.rows,
        "params": params,
        "tabs": tabs,
        "current_tab_label": TABS[params.tab][0],
        "sorts": sorts,
        "newer_url": params.url(list_url, before=page.newer.encode()) if page.newer else None,
        "older_url": params.url(list_url, after=page.older.encode()) if page.older else None,
        "list_url": list_url,
        "bulk_url": bulk_url,
        "hidden_params": params.query(with_cursor=True),
        "filter_params": params.query(),
        "mute_durations": duration_choices(),
        "bulk_assignees": bulk_assignees(request.user, project),
        "assigned_to_me_url": params.url(list_url, q="assigned:me"),
        "assigned_to_me_current": params.q == "assigned:me",
        "periods": period_choices(),
        "first_page_url": params.url(list_url),
        "clear_search_url": params.url(list_url, q=""),
        "per_page_links": [
            {"n": n, "url": params.url(list_url, per_page=n), "current": n == params.per_page}
            for n in sorted({25, DEFAULT_PER_PAGE, 100, MAX_PER_PAGE, params.per_page})
        ],
    }
    return render(request, "issues/list.html", context)


def bulk_assignees(user, project) -> list[tuple[str, str]]:
    """The bulk form's assignees: me and nobody, and in one project's list its members and team."""
    choices = [("me", "Me"), ("", "Nobody")]
    if project is not None:
        choices += [(f"user:{m.pk}", m.get_username()) for m in participants.assignable_users(project) if m != user]
        choices += [(f"team:{team.pk}", f"#{team.name}") for team in participants.assignable_teams(project)]
    return choices


# --- the environment and release controls -------------------------------------------------------------------------

FILTER_KEYS = ("environment", "release")
# the most choices a control offers (the newest releases; environments by name); any other is typed in the search
MAX_CHOICES = 100


def filter_controls(query: Query, projects: list[int]) -> list[dict]:
    """The environment and release selects: the projects' known values (one query each, on the tag values' and the
    releases' indexes, at most MAX_CHOICES), and the value the search's term names now."""
    choices = {
        "environment": list(environment_choices(projects)),
        "release": list(dict.fromkeys(release_choices(projects))),
    }
    controls = []
    for key, label in (("environment", "Environment"), ("release", "Release")):
        current = term_values(query, key)
        selected = current[0] if len(current) == 1 else ""
        options = [value for value in choices[key] if '"' not in value]  # a term cannot quote a quote
        if selected and selected not in options:
            options.insert(0, selected)
        controls.append({"key": key, "label": label, "options": options, "selected": selected})
    return controls


def environment_choices(projects: list[int]) -> QuerySet:
    """The projects' environments by name: from the (project, key, value) unique index of the tag values."""
    values = TagValue.objects.filter(project_id__in=projects, key="environment").order_by("value")
    return values.values_list("value", flat=True).distinct()[:MAX_CHOICES]


def release_choices(projects: list[int]) -> QuerySet:
    """The projects' newest versions: from the (project, date_released, id) index of the releases."""
    versions = Release.objects.filter(project_id__in=projects).order_by("-date_released", "-id")
    return versions.values_list("version", flat=True)[:MAX_CHOICES]


def release_lookup(wanted: set[tuple[int, str]]) -> QuerySet:
    """The releases of (project id, version) pairs: from the (project, version) unique index."""
    return Release.objects.filter(
        project_id__in={pid for pid, _ in wanted}, version__in={version for _, version in wanted}
    ).values_list("project_id", "version", "pk")


def release_links(rows: list[Issue]) -> dict[tuple[int, str], str]:
    """(project id, version): the release's page, for the versions the page's rows show, in one query."""
    wanted = {(issue.project_id, v) for issue in rows for v in (issue.first_release, issue.last_release) if v}
    if not wanted:
        return {}
    found = release_lookup(wanted)
    return {
        (pid, version): reverse("releases:release", args=[pid, pk])
        for pid, version, pk in found
        if (pid, version) in wanted
    }


def read_matches(matching: QuerySet) -> list[tuple]:
    """(id, is_resolved, is_muted) of at most SEARCH_SCAN_LIMIT + 1 matching issues, in one read: more than
    SEARCH_SCAN_LIMIT of them means there are more."""
    return list(matching.order_by().values_list("pk", "is_resolved", "is_muted")[: SEARCH_SCAN_LIMIT + 1])


def searched_tab_counts(matches: list[tuple]) -> dict[str, str]:
    """The tab counts that one read of the matches (read_matches) settles: all of them when it found every match;
    else those tabs it found more than COUNT_LIMIT of ("1000+"). The tabs left out (a broad search's muted and
    resolved tabs, say) are counted each on its own, capped, through the state index."""
    complete = len(matches) <= SEARCH_SCAN_LIMIT
    per_state = Counter((bool(resolved), bool(muted)) for _, resolved, muted in matches)
    counts = {}
    for key, wanted in TAB_STATES.items():
        n = sum(per_state[state] for state in wanted)
        if n > COUNT_LIMIT:
            counts[key] = f"{COUNT_LIMIT}+"
        elif complete:
            counts[key] = str(n)
    return counts


def search_notices(query: Query, projects: list[int]) -> list[tuple[str, str]]:
    """What the page says about the search's terms: those the parser could not use, and tag keys that no issue in
    these projects has (a typo like `levle:error` would otherwise just find nothing)."""
    notices = list(query.not_understood)
    keys = {key for key, _ in query.terms if key not in FIELD_TERMS} | set(query.has)
    if keys:
        known = set(TagValue.objects.filter(project_id__in=projects, key__in=keys).values_list("key", flat=True))
        for key in sorted(keys - known):
            notices.append((key, "no issue here has a tag by that name, so nothing matches it"))
    return notices


# --- bulk actions -----------------------------------------------------------------------------------------------


DONE = {
    "resolve": "Resolved {n}.",
    "resolve_by_latest": "Resolved {n} in the latest release.",
    "resolve_by_next": "Resolved {n} in the next release.",
    "reopen": "Reopened {n}.",
    "mute": "Muted {n}{how}.",
    "unmute": "Unmuted {n}.",
}

# how many short ids one "skipped" message lists before it says "and N more"
MAX_IDS_PER_MESSAGE = 20


class BadRequest(ValueError):
    """The form asks for something impossible; the message says what, for the user."""


@require_POST
@login_required
def all_issues_bulk(request):
    project_ids = list(visible_projects(request.user).values_list("pk", flat=True))
    issues = Issue.objects.filter(project_id__in=project_ids)
    return _bulk(request, issues, reverse("issues:all"), reverse("issues:all_bulk"), project=None)


@require_POST
@login_required
def project_issues_bulk(request, project_id: int):
    project = get_project_or_404(request.user, project_id)
    list_url = reverse("issues:project", args=[project.pk])
    bulk_url = reverse("issues:project_bulk", args=[project.pk])
    return _bulk(request, Issue.objects.filter(project=project), list_url, bulk_url, project=project)


def _bulk(request, issues: QuerySet, list_url: str, bulk_url: str, project):
    params = ListParams.from_data(request.POST)
    back = HttpResponseRedirect(params.url(list_url, with_cursor=True))
    action = request.POST.get("action", "")
    try:
        ids = selected_ids(request.POST.getlist("issue"))
        selected = list(issues.filter(pk__in=ids).select_related("project").order_by("project__name", "number"))
        if not selected:
            raise BadRequest("Select one or more issues first." if not ids else "The selected issues no longer exist.")
        if action == "delete":
            if not may_delete(request.user, selected):
                context = {"nav": "issues", "project": project, "back_url": back.url}
                return render(request, "issues/list_delete_forbidden.html", context, status=403)
            if request.POST.get("confirm") != "yes":
                return _confirm_delete(request, selected, params, list_url, bulk_url, project)
            marked = request_deletion(selected)
            its = "its" if marked == 1 else "their"
            messages.success(request, f"Deleting {_issues(marked)} and {its} events in the background.")
            return back
        if action == "assign":
            return _bulk_assign(request, selected, back)
        if action == "merge":
            try:
                parent, children = request_merge(selected, user=request.user)
            except MergeRefused as e:
                raise BadRequest(f"Not merged: {e}") from e
            merged = ", ".join(child.short_id for child in children)
            messages.success(
                request, f"Merging {merged} into {parent.short_id} (the one with most events) in the background."
            )
            return back
        state_action, kwargs, how = state_action_for(action, request.POST)
    except BadRequest as e:
        messages.error(request, str(e))
        return back

    changed, skipped = apply_to_issues(selected, state_action, user=request.user, **kwargs)
    if changed:
        messages.success(request, DONE[state_action].format(n=_issues(changed), how=how))
    for message in skipped_messages(skipped):
        messages.warning(request, message)
    return back


def _bulk_assign(request, selected: list[Issue], back):
    value = request.POST.get("assignee", "")
    try:
        changed = triage.assign_issues(selected, value, request.user)
    except participants.AssignmentError as e:
        messages.error(request, f"Not assigned: {e}")
        return back
    if value:
        messages.success(request, f"Assigned {_issues(changed)}.")
    else:
        messages.success(request, f"Unassigned {_issues(changed)}.")
    return back


def may_delete(user, selected: list[Issue]) -> bool:
    """Deleting throws away history for everyone, so it is for the admins of every project the issues are in."""
    project_ids = {issue.project_id for issue in selected}
    return administered_projects(user).filter(pk__in=project_ids).count() == len(project_ids)


def selected_ids(values: list[str]) -> list[uuid.UUID]:
    if len(values) > MAX_SELECTED:
        raise BadRequest(f"At most {MAX_SELECTED} issues can be changed at once.")
    ids = []
    for value in values:
        try:
            ids.append(uuid.UUID(value))
        except ValueError:
            continue  # not an issue of ours, like any unknown id
    return ids


def state_action_for(action: str, data) -> tuple[str, dict, str]:
    """The IssueStateManager action for a button, its arguments, and words for the success message."""
    if action in ("resolve", "resolve_by_latest", "resolve_by_next", "reopen", "unmute"):
        return action, {}, ""
    now = timezone.now()
    try:
        if action == "mute":
            return "mute", parse_mute(now).arguments(now), " until unmuted by hand"
        if action.startswith("mute_") and action.removeprefix("mute_") in MUTE_DURATIONS:
            duration = action.removeprefix("mute_")
            request = parse_mute(now, duration=duration)
            how = f" for {MUTE_DURATIONS[duration][0]} (until {format_moment(request.until)})"
            return "mute", request.arguments(now), how
        if action == "mute_volume":
            request = parse_mute(now, condition=condition_data(data))
            return "mute", request.arguments(now), f"; each unmutes when it has {request.conditions[0].describe()}"
    except InvalidMute as e:
        raise BadRequest(f"Not muted: {e}") from e
    raise BadRequest("Unknown action.")


def skipped_messages(skipped: dict[str, str]) -> list[str]:
    """One message per distinct reason, naming the issues it applies to: 'MYAPP-3, MYAPP-7: reason'."""
    by_reason: dict[str, list[str]] = {}
    for short_id, reason in skipped.items():
        by_reason.setdefault(reason, []).append(short_id)
    result = []
    for reason, short_ids in by_reason.items():
        shown = ", ".join(short_ids[:MAX_IDS_PER_MESSAGE])
        if len(short_ids) > MAX_IDS_PER_MESSAGE:
            shown += f" and {len(short_ids) - MAX_IDS_PER_MESSAGE} more"
        result.append(f"Skipped {shown}: {reason}")
    return result


def _confirm_delete(request, selected: list, params: ListParams, list_url: str, bulk_url: str, project):
    context = {
        "nav": "issues",
        "project": project,
        "issues": selected,
        "event_total": sum(issue.event_count for issue in selected),
        "bulk_url": bulk_url,
        "cancel_url": params.url(list_url, with_cursor=True),
        "hidden_params": params.query(with_cursor=True),
    }
    return render(request, "issues/list_delete_confirm.html", context)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _issues(n: int) -> str:
    return _plural(n, "issue")
