from django.apps import AppConfig


class DigestConfig(AppConfig):
    """The digest pipeline (no models): what turns a raw event from the ingest store into an Event of an Issue."""

    name = "digest"
