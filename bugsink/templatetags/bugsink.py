"""Template helpers shared by every page."""

from django import template
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from bugsink.period_counter import PeriodCounter, bucket_index

register = template.Library()


def hourly_counts(period_counts: dict | None, hours: int = 24, now=None) -> list[int]:
    """Events per hour for the last `hours` hours, oldest first, from a persisted PeriodCounter."""
    now = now or timezone.now()
    counts = PeriodCounter.from_dict(period_counts).buckets["hour"]
    current = bucket_index("hour", now)
    return [counts.get(current - offset, 0) for offset in range(hours - 1, -1, -1)]


@register.simple_tag
def sparkline(values, width: int = 96, height: int = 20, label: str = ""):
    """An inline SVG bar chart of a list of counts."""
    values = list(values or [])
    if not values:
        return ""
    peak = max(values) or 1
    bar = width / len(values)
    # numbers are formatted here: format_html escapes its arguments into strings, which "{:.2f}" cannot format
    bars = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>',
        (
            (
                f"{i * bar:.2f}",
                f"{height - max(1.0, v / peak * height) if v else height - 1:.2f}",
                f"{max(bar - 1, 1):.2f}",
                f"{max(1.0, v / peak * height) if v else 1:.2f}",
                v,
            )
            for i, v in enumerate(values)
        ),
    )
    summary = label or f"{sum(values)} events"
    return format_html(
        '<svg class="sparkline" width="{}" height="{}" viewBox="0 0 {} {}" role="img" aria-label="{}">{}</svg>',
        width,
        height,
        width,
        height,
        summary,
        bars,
    )


@register.filter
def hourly(period_counts, hours: int = 24) -> list[int]:
    return hourly_counts(period_counts, int(hours))


@register.filter
def short_ago(value) -> str:
    """'3m', '5h', '2d', '4mo', '1y' ago."""
    if not value:
        return ""
    delta = timezone.now() - value
    seconds = max(0, int(delta.total_seconds()))
    for limit, unit, size in (
        (60, "s", 1),
        (3600, "m", 60),
        (86400, "h", 3600),
        (86400 * 60, "d", 86400),
        (86400 * 730, "mo", 86400 * 30),
    ):
        if seconds < limit:
            return f"{seconds // size}{unit}"
    return f"{seconds // (86400 * 365)}y"
