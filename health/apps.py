from django.apps import AppConfig


class HealthConfig(AppConfig):
    """What the SDKs report besides errors: release health from sessions, what they dropped (client reports), and the
    item types we do not keep (counted, and answered with X-Sentry-Rate-Limits by the intake)."""

    name = "health"

    def ready(self):
        from health import streams  # noqa: F401  (registers the streams with ingest.item_streams)
