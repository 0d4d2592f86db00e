from django.apps import AppConfig


class LogsConfig(AppConfig):
    """Structured logs: the `log` envelope items, kept by a stream of their own (ingest.item_streams)."""

    name = "logs"

    def ready(self) -> None:
        from ingest import item_streams
        from logs.digest import LOG_STREAM

        item_streams.register(LOG_STREAM)
