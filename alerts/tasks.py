"""The alerts app's jobs, for the worker to know them (queue `alerts`): declared in alerts.dispatch, where the
fan-out and the retry rules live, and alerts.notify, people's e-mails about one issue (see bugsink.jobs for how jobs
run)."""

from alerts import dispatch, notify  # noqa: F401
