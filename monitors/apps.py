from django.apps import AppConfig

# a check-in is a few hundred bytes; its monitor_config a few more
MAX_CHECKIN_SIZE = 64 * 1024


class MonitorsConfig(AppConfig):
    name = "monitors"

    def ready(self):
        # the stream's digest imports models, which wait for the app registry
        from ingest import item_streams
        from monitors.checkins import digest_checkins

        item_streams.register(
            item_streams.Stream(
                item_types=("check_in",), max_item_size=MAX_CHECKIN_SIZE, digest=digest_checkins, category="monitor"
            )
        )
