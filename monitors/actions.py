"""What people do to monitors (the Monitors page and the API both call these)."""

from monitors.models import Monitor
from projects.models import Project


def set_monitor_muted(project: Project, slug: str, muted: bool) -> bool:
    """Mute or unmute the project's monitor `slug` (in every environment); False when there is no such monitor.

    A muted monitor goes on being judged (its status, its check-ins), but its failures open no issue and send no
    alert (monitors.checkins.act_on). The flag is written with an update of its own column, so it never races the
    single writer's saves of the monitor's state (those name their columns: monitors.checkins.MONITOR_FIELDS)."""
    return Monitor.objects.filter(project=project, slug=slug[:128]).update(is_muted=muted) > 0
