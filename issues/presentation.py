"""How an issue's state reads on the pages: the issue page's badge and the list's tooltip say the same thing, from
one description of the state, so that the two cannot drift apart."""

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from bugsink.bidi import visible_controls
from bugsink.templatetags.bugsink import ago, hourly_counts, sparkline
from digest.volume_based_condition import InvalidCondition, VolumeBasedCondition
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
            detail = "in " + ", ".join(visible_controls(version) for version in issue.fixed_at)
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


def _release_cell(issue: Issue, release_links: dict) -> SafeString:
    """The last release the issue was seen in, and its first when that differs, each linking to its page."""

    def version(value: str) -> SafeString:
        url = release_links.get((issue.project_id, value))
        if url:
            return format_html('<a class="mono" href="{}" data-release><bdi>{}</bdi></a>', url, value)
        return format_html('<bdi class="mono">{}</bdi>', value)

    if not issue.last_release and not issue.first_release:
        return mark_safe('<span class="muted">–</span>')
    cell = version(issue.last_release or issue.first_release)
    if issue.first_release and issue.first_release != issue.last_release:
        cell += format_html('<div class="il-release-first">first {}</div>', version(issue.first_release))
    return cell


def list_row(issue: Issue, project_urls: dict | None, zone, now, release_links: dict | None = None) -> SafeString:
    """One row of the issue list, in Python rather than through the template engine: a 250-row page spent about
    0.4 ms per row resolving the template's variables and filters (100 ms of its time at 100,000 issues, see
    bench/RESULTS.md), this a fifth of that. `project_urls` (project id: its list's URL) adds the project column
    (the list across projects); `issue.state_description` is set by the view; `zone` is the user's time zone,
    `now` the page's moment; `release_links` ((project id, version): URL) links the release column's versions."""
    short_id, url = issue.short_id, issue.get_absolute_url()
    level = issue.level or "error"
    badges = mark_safe("")
    if issue.is_deleting:
        badges = mark_safe(
            '<span class="badge badge-deleting" title="Being deleted with its events, in the background" '
            "data-deleting>deleting…</span>"
        )
    if issue.is_resolved:
        badges += format_html('<span class="badge badge-resolved" title="{}">resolved</span>', issue.state_description)
    elif issue.is_muted:
        badges += format_html('<span class="badge badge-muted" title="{}">muted</span>', issue.state_description)
    badges += assignee_badge(issue)
    culprit = (
        format_html('<bdi class="il-culprit mono" title="{}">{}</bdi>', issue.culprit, issue.culprit)
        if issue.culprit
        else ""
    )
    project_cell = (
        format_html(
            '\n  <td class="il-col-project"><a href="{}"><bdi>{}</bdi></a></td>',
            project_urls[issue.project_id],
            issue.project.name,
        )
        if project_urls is not None
        else ""
    )
    return format_html(
        '<tr data-issue-row class="il-row il-state-{state}">\n'
        '  <td class="il-check"><input type="checkbox" name="issue" value="{pk}" aria-label="Select {short_id}"></td>\n'
        '  <td class="il-main">\n'
        '    <div class="il-title">\n'
        '      <span class="level level-{level}" title="Level: {level}"></span>\n'
        '      <a class="il-link" href="{url}" data-open><bdi>{title}</bdi></a>\n'
        "      {badges}\n"
        "    </div>\n"
        '    <div class="il-meta">\n'
        '      <a class="il-short mono" href="{url}" tabindex="-1">{short_id}</a>\n'
        "      {culprit}\n"
        "    </div>\n"
        "  </td>{project_cell}\n"
        '  <td class="il-col-release">{release}</td>\n'
        '  <td class="num">{event_count}</td>\n'
        '  <td class="il-col-spark">{sparkline}</td>\n'
        '  <td class="il-col-time il-col-first">{first_seen}</td>\n'
        '  <td class="il-col-time">{last_seen}</td>\n'
        "</tr>\n",
        state=issue.state,
        pk=issue.pk,
        short_id=short_id,
        level=level,
        url=url,
        title=issue.title(),
        badges=badges,
        culprit=culprit,
        project_cell=project_cell,
        release=_release_cell(issue, release_links or {}),
        event_count=issue.event_count,
        sparkline=sparkline(hourly_counts(issue.period_counts, now=now), 72, 18),
        first_seen=_time_tag(issue.first_seen, zone, now),
        last_seen=_time_tag(issue.last_seen, zone, now),
    )


def initials(name: str) -> str:
    """Up to two letters for a person: of the first and last word of a full name, else the username's first two."""
    words = [word for word in name.replace(".", " ").replace("_", " ").split() if word[:1].isalnum()]
    if len(words) >= 2:
        return (words[0][0] + words[-1][0]).upper()
    return (words[0][:2] if words else name[:2]).upper()


def assignee_badge(issue: Issue) -> SafeString:
    """The assignee beside the title, compactly: a user's initials, a team's #name; the full name as its tooltip.
    Reads the relations that the list loads with its rows (no query per row)."""
    if issue.assigned_user_id is not None:
        user = issue.assigned_user
        full = user.get_full_name().strip()
        label = f"{full} ({user.get_username()})" if full else user.get_username()
        return format_html(
            '<span class="il-assignee" title="Assigned to {}" data-assignee="{}">{}</span>',
            label,
            user.get_username(),
            initials(full or user.get_username()),
        )
    if issue.assigned_team_id is not None:
        name = f"#{issue.assigned_team.name}"
        return format_html(
            '<span class="il-assignee" title="Assigned to the team {}" data-assignee="{}"><bdi>{}</bdi></span>',
            name,
            name,
            name,
        )
    return mark_safe("")


def _time_tag(moment, zone, now) -> SafeString:
    """<time> with the ISO moment and, as its tooltip, the moment in the user's time zone; showing how long ago."""
    local = moment.astimezone(zone)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        local.isoformat(),
        f"{local:%Y-%m-%d %H:%M:%S} {local.tzname() or ''}".rstrip(),
        ago(moment, now),
    )
