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

from bugsink.period_counter import MAX_PERIODS
from bugsink.volume_based_condition import InvalidCondition, VolumeBasedCondition
from issues.models import Issue
from issues.state import IssueStateManager, allowed_actions

# the largest number a client may send for a count or a number of minutes (ten years of minutes)
MAX_NUMBER = 10 * 366 * 24 * 60
# the periods a window in minutes can be expressed in exactly, largest first
WINDOW_PERIODS = (("day", 1440), ("hour", 60), ("minute", 1))
UPDATABLE = ("status", "statusDetails", "substatus")
# the substatuses that say no more than their status (and its details)
SUBSTATUSES = {
    "resolved": set(),
    "unresolved": {"ongoing", "new", "regressed", "escalating"},
    "ignored": {"archived_forever", "archived_until_condition_met"},
}
IGNORE_DETAILS = ("ignoreDuration", "ignoreUntil", "ignoreCount", "ignoreWindow")
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


def positive_number(value, name: str) -> int:
    if isinstance(value, str) and value.strip().isdigit() and value.isascii():
        value = int(value.strip()) if len(value.strip()) < 12 else MAX_NUMBER + 1
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_NUMBER:
        raise BadUpdate(f"{name} must be a whole number from 1 to {MAX_NUMBER}.")
    return value


def window_condition(count: int, window_minutes: int) -> VolumeBasedCondition:
    """`count` events within `window_minutes`, as the volume condition that means exactly that: the window in the
    largest of days, hours and minutes that divides it, within how far back the counters look."""
    for period, minutes in WINDOW_PERIODS:
        if window_minutes % minutes == 0 and window_minutes // minutes <= MAX_PERIODS[period]:
            try:
                return VolumeBasedCondition(period=period, nr_of_periods=window_minutes // minutes, volume=count)
            except InvalidCondition as e:
                raise BadUpdate(str(e)) from e
    raise BadUpdate(
        "ignoreWindow must be a window the event counters keep: up to "
        f"{MAX_PERIODS['minute']} minutes, a whole number of hours up to {MAX_PERIODS['hour']} hours "
        f"({MAX_PERIODS['hour'] * 60} minutes), or a whole number of days up to {MAX_PERIODS['day']} days "
        f"({MAX_PERIODS['day'] * 1440} minutes)."
    )


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
    _only(details, IGNORE_DETAILS, "ignored")
    kwargs: dict = {"now": now}
    applied: dict = {}
    if "ignoreDuration" in details and "ignoreUntil" in details:
        raise BadUpdate("Give ignoreDuration or ignoreUntil, not both.")
    if "ignoreDuration" in details:
        minutes = positive_number(details["ignoreDuration"], "ignoreDuration (minutes)")
        kwargs["until"] = now + timedelta(minutes=minutes)
        applied["ignoreDuration"] = minutes
    if "ignoreUntil" in details:
        kwargs["until"] = parse_moment(details["ignoreUntil"])
        applied["ignoreUntil"] = kwargs["until"].isoformat().replace("+00:00", "Z")
    if ("ignoreCount" in details) != ("ignoreWindow" in details):
        raise BadUpdate(
            "ignoreCount needs ignoreWindow (minutes) and the other way round: an issue unmutes when it has "
            "ignoreCount events within the last ignoreWindow minutes."
        )
    if "ignoreCount" in details:
        count = positive_number(details["ignoreCount"], "ignoreCount")
        window = positive_number(details["ignoreWindow"], "ignoreWindow (minutes)")
        kwargs["conditions"] = [window_condition(count, window)]
        applied.update(ignoreCount=count, ignoreWindow=window)
    return Update("mute", "ignored", applied, kwargs)


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
