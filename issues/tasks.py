"""The issues app's jobs, for the worker to know them: this module only imports the modules that declare them
(bugsink.jobs.job; see bugsink.jobs for how jobs run)."""

from issues import (
    deletion,  # noqa: F401
    merge,  # noqa: F401
    reprocess,  # noqa: F401
)
