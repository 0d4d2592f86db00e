from django.apps import AppConfig


class DigestConfig(AppConfig):
    """The digest pipeline (no models): what turns a raw event from the ingest store into an Event of an Issue."""

    name = "digest"

    def ready(self):
        from bugsink import jobs
        from digest import job  # noqa: F401 (declares the digest job, light: the pipeline loads where it runs)
        from ingest import store

        # the broker-outage warning says how many accepted events wait for digest (bugsink.jobs.BrokerOutage)
        jobs.count_waiting_work_with(
            lambda: len(store.pending_raw_events()), "accepted events wait in the ingest store for digest"
        )
