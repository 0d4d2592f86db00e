"""The digest app's jobs, for the worker to know them: this module only imports the modules that declare them
(bugsink.jobs.job; see bugsink.jobs for how jobs run). The digest job keeps its message name, `ingest.tasks.digest`,
from when it lived in the ingest app, so messages queued before an upgrade still run."""

from digest import batch  # noqa: F401
