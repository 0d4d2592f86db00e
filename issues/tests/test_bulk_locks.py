"""Bulk transitions take their rows' locks, as the single-issue paths do (issue 19, part 6).

Two people change the same issues at the same moment, through the list's bulk form, the admin's actions and the
API's bulk update, against a real web server (its own process, several request threads) on the test database:
both mute, then both unmute, both resolve, both reopen, and so on. Each transition must happen once per issue: the
second request sees the first one's result (its rows locked and read again in its transaction) and leaves the
issue alone, so every issue's history holds one turning point per transition, in order, and its state is the one
the last transition left.
"""

import http.cookiejar
import json
import re
import threading
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest

from api.models import ApiToken, Scope
from issues.models import Issue, TurningPoint
from issues.state import IssueStateManager, apply_to_issues
from testing.utils import make_issue

ISSUES = 12
ROUNDS = ["mute", "unmute", "resolve", "reopen"] * 3
PATHS = ["list", "api", "admin"]
KIND = {
    "mute": TurningPoint.Kind.MUTED,
    "unmute": TurningPoint.Kind.UNMUTED,
    "resolve": TurningPoint.Kind.RESOLVED,
    "reopen": TurningPoint.Kind.REOPENED,
}
API_BODY = {
    "mute": {"status": "ignored"},
    "unmute": {"status": "unresolved"},
    "resolve": {"status": "resolved"},
    "reopen": {"status": "unresolved"},
}
TIMEOUT = 60


class Person:
    """One browser session (logged in through the login form) and one API token, against the live server."""

    def __init__(self, base: str, username: str, password: str, token: str):
        self.base = base
        self.token = token
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect())
        page = self.opener.open(f"{base}/accounts/login/", timeout=TIMEOUT).read().decode()
        answer = self.post_form("/accounts/login/", {"username": username, "password": password}, page)
        assert answer.status == 302, answer.status

    def csrf(self, page: str = "") -> str:
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if found:
            return found[1]
        return next(cookie.value for cookie in self.jar if cookie.name == "csrftoken")

    def post_form(self, path: str, data: dict, page: str = ""):
        body = urlencode({**data, "csrfmiddlewaretoken": self.csrf(page)}, doseq=True).encode()
        request = urllib.request.Request(self.base + path, body, headers={"Referer": self.base + path})
        try:
            return self.opener.open(request, timeout=TIMEOUT)
        except urllib.error.HTTPError as answer:
            return answer

    def bulk(self, path_kind: str, action: str, project, issues: list) -> int:
        ids = [str(issue.pk) for issue in issues]
        if path_kind == "list":
            answer = self.post_form(f"/projects/{project.pk}/issues/bulk/", {"action": action, "issue": ids})
        elif path_kind == "admin":
            data = {"action": f"action_{action}", "_selected_action": ids, "index": "0", "select_across": "0"}
            answer = self.post_form("/admin/issues/issue/", data)
        else:
            query = urlencode([("id", i) for i in ids])
            request = urllib.request.Request(
                f"{self.base}/api/0/projects/main/{project.slug}/issues/?{query}",
                json.dumps(API_BODY[action]).encode(),
                method="PUT",
                headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
            )
            answer = urllib.request.urlopen(request, timeout=TIMEOUT)
        return answer.status


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 302 is the answer we look at, not a page to follow


def replay(kinds: list[str]) -> str:
    """The state a history leads to, failing on a transition that makes no sense from the state before it."""
    state = "open"
    allowed = {
        TurningPoint.Kind.MUTED: ({"open"}, "muted"),
        TurningPoint.Kind.UNMUTED: ({"muted"}, "open"),
        TurningPoint.Kind.RESOLVED: ({"open", "muted"}, "resolved"),
        TurningPoint.Kind.REOPENED: ({"resolved"}, "open"),
    }
    for kind in kinds:
        before, after = allowed[kind]
        assert state in before, f"{kind} after the issue was {state}: {kinds}"
        state = after
    return state


@pytest.mark.live
def test_two_people_changing_the_same_issues_at_once_make_each_transition_once(
    transactional_db, live_server_url, project, django_user_model
):
    issues = [make_issue(project) for _ in range(ISSUES)]
    people = []
    for name in ("ann", "bob"):
        user = django_user_model.objects.create_superuser(name, f"{name}@example.com", "pw")
        token = ApiToken.create_for(user, "bulk", Scope.WRITE)[1]
        people.append(Person(live_server_url, name, "pw", token))

    barrier = threading.Barrier(len(people), timeout=TIMEOUT)
    failures: list[str] = []

    def work(index: int, person: Person):
        try:
            for number, action in enumerate(ROUNDS):
                path_kind = PATHS[(number + index) % len(PATHS)]
                barrier.wait()  # both send this round's requests at once
                status = person.bulk(path_kind, action, project, issues)
                if status not in (200, 302):
                    failures.append(f"round {number} {action} by {path_kind}: {status}")
                barrier.wait()  # the round is over for both before the next begins
        except Exception as error:  # reported below; the other thread is let go
            failures.append(f"{type(error).__name__}: {error}")
            barrier.abort()

    threads = [threading.Thread(target=work, args=(i, person)) for i, person in enumerate(people)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT * len(ROUNDS))
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []

    expected = [KIND[action] for action in ROUNDS]
    for issue in Issue.objects.filter(pk__in=[i.pk for i in issues]):
        kinds = list(issue.turning_points.order_by("timestamp", "id").values_list("kind", flat=True))
        assert kinds == expected, issue.short_id
        assert replay(kinds) == "open"
        assert not issue.is_resolved and not issue.is_muted and issue.fixed_at == []
        assert issue.unmute_after is None and issue.unmute_on_volume_based_conditions == []


@pytest.mark.django_db
def test_a_bulk_action_applies_to_the_state_as_it_is_now_not_as_it_was_read(project):
    """The list's and the API's bulk actions hand apply_to_issues issues they read earlier: it reads them again."""
    issue = make_issue(project, is_muted=True)
    stale = Issue.objects.get(pk=issue.pk)  # read while muted
    IssueStateManager.unmute(issue)  # someone else unmutes it meanwhile
    issue.save()
    changed, skipped = apply_to_issues([stale], "unmute")
    assert changed == 0 and skipped == {issue.short_id: "This issue is not muted."}
    assert list(issue.turning_points.values_list("kind", flat=True)) == [TurningPoint.Kind.UNMUTED]


@pytest.mark.django_db
def test_muting_an_issue_muted_the_same_way_writes_nothing(project):
    issue = make_issue(project)
    assert apply_to_issues([issue], "mute") == (1, {})
    assert apply_to_issues([issue], "mute") == (0, {issue.short_id: "This issue is already muted that way."})
    assert issue.turning_points.count() == 1
    # muting it another way is a change, with its own turning point
    conditions = [{"period": "hour", "nr_of_periods": 1, "volume": 10}]
    assert apply_to_issues([issue], "mute", conditions=conditions) == (1, {})
    assert apply_to_issues([issue], "mute", conditions=conditions)[0] == 0
    assert issue.turning_points.count() == 2


@pytest.mark.django_db
def test_bulk_actions_keep_the_order_they_were_given_and_skip_deleted_issues(project):
    issues = [make_issue(project) for _ in range(3)]
    gone = make_issue(project)
    selected = [issues[2], gone, issues[0], issues[1]]
    Issue.objects.filter(pk=gone.pk).delete()
    changed, skipped = apply_to_issues(selected, "resolve")
    assert changed == 3 and skipped == {}
    changed, skipped = apply_to_issues(selected, "reopen")
    assert changed == 3
    changed, skipped = apply_to_issues(selected, "reopen")
    assert list(skipped) == [issues[2].short_id, issues[0].short_id, issues[1].short_id]
