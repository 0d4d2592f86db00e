from django.apps import AppConfig


class IngestConfig(AppConfig):
    name = "ingest"

    def ready(self):
        from bugsink import jobs
        from ingest import store

        # the broker-outage warning says how many accepted events wait for digest (bugsink.jobs.BrokerOutage)
        jobs.count_waiting_events_with(lambda: len(store.pending_raw_events()))
