"""The issues app's jobs, for the worker to know them: this module only imports the modules that declare them
(bugsink.jobs.job; see bugsink.jobs for how jobs run)."""

from bugsink import project_deletion  # noqa: F401  (a project is deleted on its single writer, as its issues)
from issues import (
    deletion,  # noqa: F401
    merge,  # noqa: F401
    reprocess,  # noqa: F401
)
