"""Template helpers shared by every page."""

from django import template
from django.utils import timezone
from django.utils.html import format_html

from bugsink import bidi, supervision
from bugsink.links import http_url_or_empty, is_http_url
from digest.period_counter import PeriodCounter, bucket_index

register = template.Library()


@register.filter(is_safe=True)
def strip_bidi(value) -> str:
    """Client text without direction controls, where no markup can isolate it: `<title>`, e-mail (bugsink.bidi)."""
    return bidi.strip_bidi(value)


@register.filter(is_safe=True)
def visible_controls(value) -> str:
    """Invisible characters written out as ⟨U+200B⟩: for names whose identity matters (releases, environments,
    tag keys and values; bugsink.bidi)."""
    return bidi.visible_controls(value)


def hourly_counts(period_counts: dict | None, hours: int = 24, now=None) -> list[int]:
    """Events per hour for the last `hours` hours, oldest first, from a persisted PeriodCounter."""
    now = now or timezone.now()
    counts = PeriodCounter.from_dict(period_counts).buckets["hour"]
    current = bucket_index("hour", now)
    return [counts.get(current - offset, 0) for offset in range(hours - 1, -1, -1)]


@register.simple_tag
def sparkline(values, width: int = 96, height: int = 20, label: str = ""):
    """An inline SVG bar chart of a list of counts: one <path> (a few hundred bytes, however many bars), so that
    a list of 250 rows with a sparkline each stays light on a slow connection."""
    values = list(values or [])
    if not values:
        return ""
    peak = max(values) or 1
    bar = width / len(values)
    gap = 1 if bar > 2 else 0
    segments = []
    for i, value in enumerate(values):
        h = max(1.0, value / peak * height) if value else 1.0
        segments.append(f"M{i * bar:.1f} {height}v-{h:.1f}h{bar - gap:.1f}v{h:.1f}z")
    summary = label or f"{sum(values)} events"
    return format_html(
        '<svg class="sparkline" width="{}" height="{}" viewBox="0 0 {} {}" role="img" aria-label="{}">'
        '<title>{}</title><path d="{}"/></svg>',
        width,
        height,
        width,
        height,
        summary,
        summary,
        "".join(segments),
    )


@register.simple_tag
def external_link(url, text=None):
    """A link to a URL that a user or a client supplied (a release's, a deploy's): an <a> when it is an http(s) URL,
    else the text alone, so that a `javascript:` or `data:` value is never an href (bugsink.links). `text` defaults to
    the URL itself."""
    label = url if text is None else text
    if is_http_url(url):
        return format_html('<a href="{}" rel="noopener noreferrer nofollow"><bdi>{}</bdi></a>', url, label)
    return format_html("<bdi>{}</bdi>", label)


@register.filter
def http_url(value) -> str:
    """`value` when it is an http(s) URL a page may link to, else "" (bugsink.links)."""
    return http_url_or_empty(value)


@register.filter
def hourly(period_counts, hours: int = 24) -> list[int]:
    return hourly_counts(period_counts, int(hours))


@register.filter
def short_ago(value) -> str:
    """'3m', '5h', '2d', '4mo', '1y' ago."""
    return ago(value, timezone.now())


def ago(value, now) -> str:
    """short_ago at the moment `now` (a list asks for the time once, not for each of its rows)."""
    if not value:
        return ""
    delta = now - value
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


@register.inclusion_tag("bugsink/supervision_line.html")
def supervision_line():
    """The admin index's line about the processes of `make serve` (bugsink.supervision)."""
    status = supervision.read_status()
    return {"status": status, "problems": status.problems() if status is not None else []}
