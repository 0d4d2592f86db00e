from django.apps import AppConfig

# a check-in is a few hundred bytes; its monitor_config a few more
MAX_CHECKIN_SIZE = 64 * 1024


class MonitorsConfig(AppConfig):
    name = "monitors"

    def ready(self):
        from ingest import item_streams

        item_streams.register(
            item_streams.Stream(
                item_types=("check_in",), max_item_size=MAX_CHECKIN_SIZE, digest=_digest_checkins, category="monitor"
            )
        )


def _digest_checkins(project, items):
    """monitors.checkins.digest_checkins, imported on the first check-in digested: it reaches digest.batch (a missed
    run is an event), which only the process that digests needs."""
    from monitors.checkins import digest_checkins

    digest_checkins(project, items)
