"""The project page's note of refused events (ingest.refusals)."""

from django import template

from ingest.models import RefusedEvents

register = template.Library()


@register.inclusion_tag("ingest/_refused_events.html")
def refused_events_note(project):
    """One indexed query: the project's count of refused events, shown only when there were any."""
    return {"refused": RefusedEvents.objects.filter(project_id=project.pk).first()}
