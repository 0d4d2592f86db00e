from django import template

from health.models import DiscardCount
from health.queries import DISCARD_DAYS, recent_discards

register = template.Library()


@register.filter
def percent(value) -> str:
    """A rate in percent, as release health shows it: "99.5%", "100%"; "–" when there is nothing to rate."""
    if value is None:
        return "–"
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{text}%"


@register.inclusion_tag("health/_discards.html")
def discards_panel(project):
    """What was not kept for the project lately: dropped by its SDKs, not kept here, not usable."""
    rows = recent_discards(project)
    return {
        "project": project,
        "sdk": [r for r in rows if r.source == DiscardCount.SDK],
        "not_kept": [r for r in rows if r.source == DiscardCount.NOT_KEPT],
        "unusable": [r for r in rows if r.source == DiscardCount.UNUSABLE],
        "days": DISCARD_DAYS,
    }
