"""The project page's note of refused events (ingest.refusals) and of what the quotas refused (ingest.quota)."""

from django import template

from ingest import quota
from ingest.models import RefusedEvents

register = template.Library()


@register.inclusion_tag("ingest/_refused_events.html")
def refused_events_note(project):
    """One indexed query (the project's count of events refused as too large) and one read of the quota counters
    (what each category's quota refused in the last days); each shown only when there was any."""
    over_quota = [
        (count, quota.NOUNS[category][0 if count == 1 else 1])
        for category, count in sorted(quota.refused_counts(project.pk).items())
    ]
    return {
        "refused": RefusedEvents.objects.filter(project_id=project.pk).first(),
        "over_quota": over_quota,
        "over_quota_days": quota.REFUSED_DAYS,
    }
