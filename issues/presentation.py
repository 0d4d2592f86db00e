"""How an issue's state reads on the pages: the issue page's badge and the list's tooltip say the same thing, from
one description of the state, so that the two cannot drift apart."""

from django.utils import timezone
from django.utils.formats import date_format

from bugsink.volume_based_condition import InvalidCondition, VolumeBasedCondition
from issues.models import Issue


def format_moment(moment) -> str:
    """A moment in words, in the active time zone (the user's, see accounts.middleware), with the zone's name so
    that a message cannot be misread; the same format as the badge's timetag (for tooltips and flash messages)."""
    try:
        local = timezone.localtime(moment)
    except (OverflowError, ValueError):  # a moment near year 1 or 9999 has no local time in some zones
        local = moment
    return date_format(local, "j M Y, H:i T")


def describe_conditions(conditions) -> list[str]:
    """The stored volume conditions in words ('5 events in the last hour'); one that no longer parses is left out."""
    result = []
    for data in conditions or []:
        try:
            result.append(VolumeBasedCondition.from_dict(data).describe())
        except InvalidCondition:
            continue
    return result


def state_view(issue: Issue) -> dict:
    """The state badge: {state, label, detail, until, conditions}."""
    if issue.is_resolved:
        if issue.is_resolved_by_next_release:
            detail = "in the next release"
        elif issue.fixed_at:
            detail = "in " + ", ".join(map(str, issue.fixed_at))
        else:
            detail = ""
        return {"state": "resolved", "label": "Resolved", "detail": detail}
    if issue.is_muted:
        return {
            "state": "muted",
            "label": "Muted",
            "until": issue.unmute_after,
            "conditions": describe_conditions(issue.unmute_on_volume_based_conditions),
            "detail": "" if issue.unmute_after or issue.unmute_on_volume_based_conditions else "until unmuted",
        }
    return {"state": "open", "label": "Open", "detail": ""}


def describe_state(issue: Issue) -> str:
    """The list's badge tooltip, one line: what kind of resolve or mute this is."""
    state = state_view(issue)
    if state["state"] == "muted":
        parts = [f"until {format_moment(state['until'])}"] if state["until"] else []
        parts.extend(f"until {condition}" for condition in state["conditions"])
        return "Muted " + (" or ".join(parts) if parts else "forever")
    return f"{state['label']} {state['detail']}" if state["detail"] else state["label"]
