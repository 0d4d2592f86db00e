"""Template helpers for the issue and event pages."""

from datetime import datetime

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils import timezone
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def timetag(value, fmt: str = "j M Y, H:i:s"):
    """<time> with the machine-readable moment, shown in the user's time zone (see accounts.middleware)."""
    if not isinstance(value, datetime):
        return ""
    try:
        local = timezone.localtime(value) if timezone.is_aware(value) else value
    except (OverflowError, ValueError):  # a moment near year 1 or 9999 has no local time in some zones
        local = value
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        value.isoformat(),
        date_filter(local, "j M Y, H:i:s.u T"),
        date_filter(local, fmt),
    )
