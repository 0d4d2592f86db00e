"""Reading Sentry's issue update (`PUT` with `status` and `statusDetails`) as one IssueStateManager transition.

The API changes issues with the same transitions as the issue page and the list's bulk form (issues.state), so the
same turning points, refusals and alerts follow; this module only translates Sentry's words:

- `resolved` (plain), `resolved` + `{"inNextRelease": true}` or status `resolvedInNextRelease`, `resolved` +
  `{"inRelease": "<version>"}` (`"latest"`: the project's latest release);
- `unresolved`: reopen a resolved issue, unmute a muted one;
- `ignored` + `{}` (until unmuted), `{"ignoreDuration": minutes}`, `{"ignoreUntil": iso}`,
  `{"ignoreCount": n, "ignoreWindow": minutes}` (a volume condition: see `window_condition`).

What we cannot do exactly is refused with a 400 that says what is possible, rather than done approximately.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from issues.models import Issue
from issues.muting import InvalidMute, parse_mute, window_minutes
from issues.state import IssueStateManager, allowed_actions

# how refusals of issues.muting.parse_mute name the numbers: by Sentry's fields
IGNORE_NAMES = {
    "minutes": "ignoreDuration (minutes)",
    "count": "ignoreCount",
    "window": "ignoreWindow (minutes)",
    "span": "ignoreWindow",
}
UPDATABLE = ("status", "statusDetails", "substatus")
# the substatuses that say no more than their status (and its details)
SUBSTATUSES = {
    "resolved": set(),
    "unresolved": {"ongoing", "new", "regressed", "escalating"},
    "ignored": {"archived_forever", "archived_until_condition_met"},
}
IGNORE_DETAILS = ("ignoreDuration", "ignoreUntil", "ignoreCount", "ignoreWindow")
# parse_mute's arguments and the details that give them
IGNORE_FIELDS = {"minutes": "ignoreDuration", "count": "ignoreCount", "window": "ignoreWindow"}
RESOLVE_DETAILS = ("inNextRelease", "inRelease")


class BadUpdate(ValueError):
    """The update cannot be applied as asked; the message says what is allowed."""


@dataclass
class Update:
    """One transition: `action` names an issues.state.TRANSITIONS entry, or "unresolve" (reopen or unmute,
    whichever the issue needs); `status` and `details` are what Sentry's answer to a bulk update echoes."""

    action: str
    status: str
    details: dict = field(default_factory=dict)
    kwargs: dict = field(default_factory=dict)


def parse_moment(value) -> datetime:
    if not isinstance(value, str) or len(value) > 64:
        raise BadUpdate("ignoreUntil must be an ISO 8601 date and time, like 2030-01-31T12:00:00Z.")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadUpdate("ignoreUntil must be an ISO 8601 date and time, like 2030-01-31T12:00:00Z.") from None
    try:
        # in UTC as the database stores it: 9999-12-31T23:59-05:00 is beyond the last moment a datetime holds
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:
        raise BadUpdate("ignoreUntil lies beyond the year 9999.") from None


def parse_update(data, now: datetime) -> Update:
    if not isinstance(data, dict):
        raise BadUpdate("The body must be a JSON object with a status.")
    unknown = sorted(str(key) for key in data if key not in UPDATABLE)
    if unknown:
        raise BadUpdate(
            f"Only status and statusDetails can be changed here; not supported: {', '.join(unknown)[:200]}."
        )
    status = data.get("status")
    details = data.get("statusDetails")
    details = {} if details is None else details
    if not isinstance(details, dict):
        raise BadUpdate("statusDetails must be a JSON object.")
    if status == "resolvedInNextRelease":
        status, details = "resolved", {**details, "inNextRelease": True}
    _check_substatus(data.get("substatus"), status)
    if status == "resolved":
        return _resolve(details)
    if status == "unresolved":
        _no_details(details, status)
        return Update("unresolve", "unresolved")
    if status == "ignored":
        return _ignore(details, now)
    raise BadUpdate("status must be one of resolved, resolvedInNextRelease, unresolved, ignored.")


def _check_substatus(substatus, status) -> None:
    """Sentry's newer clients send a substatus beside the status; one that asks for more than the status and its
    details do (archiving until Sentry's escalation forecast says so) is refused, not ignored."""
    if substatus is None or status not in SUBSTATUSES:
        return
    if substatus == "archived_until_escalating":
        raise BadUpdate(
            "substatus archived_until_escalating is not supported (there is no escalation forecast here): mute "
            "until it gets loud again with ignoreCount and ignoreWindow."
        )
    if substatus not in SUBSTATUSES[status]:
        allowed = ", ".join(sorted(SUBSTATUSES[status])) or "none"
        raise BadUpdate(f"substatus for {status} may be: {allowed}.")


def _no_details(details: dict, status: str) -> None:
    if details:
        raise BadUpdate(f"status {status} takes no statusDetails.")


def _only(details: dict, allowed: tuple, status: str) -> None:
    unknown = sorted(str(key) for key in details if key not in allowed)
    if not unknown:
        return
    if {"ignoreUserCount", "ignoreUserWindow"} & set(unknown):
        raise BadUpdate(
            "ignoreUserCount and ignoreUserWindow are not supported: affected users are not counted here. "
            "Use ignoreCount with ignoreWindow (events), ignoreDuration or ignoreUntil."
        )
    raise BadUpdate(
        f"statusDetails for {status} may hold {', '.join(allowed)}; not supported: {', '.join(unknown)[:200]}."
    )


def _resolve(details: dict) -> Update:
    _only(details, RESOLVE_DETAILS, "resolved")
    in_next = details.get("inNextRelease", False)
    if not isinstance(in_next, bool):
        raise BadUpdate("inNextRelease must be true or false.")
    version = details.get("inRelease")
    if in_next and version is not None:
        raise BadUpdate("Give inNextRelease or inRelease, not both.")
    if in_next:
        return Update("resolve_by_next", "resolved", {"inNextRelease": True})
    if version is None:
        return Update("resolve", "resolved")
    if not isinstance(version, str) or not version.strip() or len(version) > 250:
        raise BadUpdate('inRelease must be a release\'s version (or "latest").')
    if version == "latest":
        return Update("resolve_by_latest", "resolved", {"inRelease": "latest"})
    return Update("resolve_in_release", "resolved", {"inRelease": version}, {"version": version})


def _ignore(details: dict, now: datetime) -> Update:
    """Sentry's ignore details, read by issues.muting.parse_mute as the issue page's and the list's mutes are."""
    _only(details, IGNORE_DETAILS, "ignored")
    if "ignoreDuration" in details and "ignoreUntil" in details:
        raise BadUpdate("Give ignoreDuration or ignoreUntil, not both.")
    if ("ignoreCount" in details) != ("ignoreWindow" in details):
        raise BadUpdate(
            "ignoreCount needs ignoreWindow (minutes) and the other way round: an issue unmutes when it has "
            "ignoreCount events within the last ignoreWindow minutes."
        )
    asked = {name: details[field] for name, field in IGNORE_FIELDS.items() if field in details}
    until = parse_moment(details["ignoreUntil"]) if "ignoreUntil" in details else None
    try:
        request = parse_mute(now, until=until, names=IGNORE_NAMES, **asked)
    except InvalidMute as e:
        raise BadUpdate(str(e)) from e
    applied: dict = {}
    if "ignoreDuration" in details:
        applied["ignoreDuration"] = (request.until - now) // timedelta(minutes=1)
    if "ignoreUntil" in details:
        applied["ignoreUntil"] = request.until.isoformat().replace("+00:00", "Z")
    if request.conditions:
        condition = request.conditions[0]
        applied.update(ignoreCount=condition.volume, ignoreWindow=window_minutes(condition))
    return Update("mute", "ignored", applied, request.arguments(now))


def already_done(issue: Issue, update: Update) -> bool:
    """Whether the issue is already in the state the update asks for (a repeated PUT answers 200 and changes
    nothing, as Sentry's does): an action without arguments that issues.state.allowed_actions does not offer, a
    resolve in a release it is resolved in, a mute exactly as it is muted. `resolve_by_latest` is left to the
    transition (which release is the latest is known only then)."""
    if update.action == "unresolve":
        return not {"reopen", "unmute"} & allowed_actions(issue)
    if update.action in ("resolve", "resolve_by_next"):
        return update.action not in allowed_actions(issue)
    if update.action == "resolve_in_release":
        return IssueStateManager.resolved_in(issue, update.kwargs["version"])
    if update.action == "mute":
        return IssueStateManager.already_muted(issue, update.kwargs.get("until"), update.kwargs.get("conditions"))
    return False


def transition_for(issue: Issue, update: Update) -> tuple[str, dict]:
    """The issues.state transition name and its arguments for this issue (`unresolve` depends on its state)."""
    if update.action == "unresolve":
        return ("reopen" if "reopen" in allowed_actions(issue) else "unmute"), {}
    return update.action, update.kwargs
