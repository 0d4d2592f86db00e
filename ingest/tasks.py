"""The ingest app's jobs, for the worker to know them: this module only imports the modules that declare them
(bugsink.jobs.job; see bugsink.jobs for how jobs run)."""

from ingest import sweep  # noqa: F401
