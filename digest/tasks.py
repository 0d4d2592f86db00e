"""The digest app's jobs, for the worker to know them: this module only imports the modules that declare them
(bugsink.jobs.job; see bugsink.jobs for how jobs run): digest.job, whose job loads digest.batch when it first runs."""

from digest import job  # noqa: F401
