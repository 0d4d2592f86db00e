"""How alerts leave the digest: after commit, onto the `alerts` queue, never in the way of ingest.

With a broker, tasks go onto the `alerts` Celery queue. In the embedded mode (`CELERY_TASK_ALWAYS_EAGER`, no broker)
tasks would run inline, inside the web request that digests the event, and one slow webhook would stall ingest; so
there they run on a single module-level background thread instead. Inside a task that already runs eagerly, further
work (the per-target deliveries) runs inline on that same thread; only retries are scheduled for later (a timer
hands them back to the thread), so a failing webhook never sleeps on the thread other alerts wait for.

Pending work on the background thread is lost when the process exits; with a broker it is not.
"""

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connections, transaction

logger = logging.getLogger(__name__)

# kind -> (the project's switch, the task's name, the context it takes)
KINDS = {
    "new_issue": ("alert_on_new_issue", "send_new_issue_alert", ()),
    "regression": ("alert_on_regression", "send_regression_alert", ("event_id",)),
    "unmute": ("alert_on_unmute", "send_unmute_alert", ("reason",)),
}

_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alerts")
_pending = 0  # submitted or scheduled, not finished
_pending_changed = threading.Condition()


def alert_on_commit(kind: str, issue, **context) -> None:
    """kind in {"new_issue", "regression", "unmute"}; context: for "regression" event_id=<32-hex str>, for "unmute"
    reason=<human text like '3 events in the last hour'>. Checks the project's switch for that kind, then registers
    transaction.on_commit(...) that enqueues the matching Celery task (send_new_issue_alert(issue_id),
    send_regression_alert(issue_id, event_id), send_unmute_alert(issue_id, reason)). Must never raise into the caller
    (log instead)."""
    try:
        switch, task_name, context_names = KINDS[kind]
        if not getattr(issue.project, switch):
            return
        if kind == "unmute" and issue.is_resolved:
            # resolving unmutes implicitly, and that is not news to anybody
            return
        from alerts import tasks

        task = getattr(tasks, task_name)
        args = [str(issue.pk), *(str(context.get(name) or "") for name in context_names)]
        transaction.on_commit(lambda: enqueue(task, args), robust=True)
    except Exception:
        logger.exception("could not schedule the %s alert for issue %s", kind, getattr(issue, "pk", issue))


def enqueue(task, args: list) -> None:
    """Send a task off: to the broker, or (embedded mode) to the background thread. Never raises."""
    try:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            _submit(task, args)
        else:
            task.apply_async(args=args)
    except Exception:
        logger.exception("could not enqueue %s%r", getattr(task, "name", task), args)


def run_subtask(parent, task, args: list) -> None:
    """From inside a task: run `task` inline when the parent runs eagerly (already off the request thread), else
    put it on the broker. A failing subtask never stops its siblings."""
    if getattr(parent.request, "is_eager", False):
        try:
            task.apply(args=args)
        except Exception:
            logger.exception("%s%r failed", task.name, args)
    else:
        enqueue(task, args)


def retry_later(task, args: list, retries: int, countdown: float) -> None:
    """Embedded mode's retry: after `countdown` seconds, run the task again (as retry number `retries`) on the
    background thread."""
    _change_pending(+1)

    def fire():
        try:
            _submit(task, args, retries=retries)
        finally:
            _change_pending(-1)

    timer = threading.Timer(countdown, fire)
    timer.daemon = True
    timer.start()


def wait_for_background_alerts(timeout: float) -> bool:
    """Wait until the background thread has nothing left to do (including scheduled retries). For tests. Returns
    whether it got there within timeout seconds."""
    with _pending_changed:
        return _pending_changed.wait_for(lambda: _pending == 0, timeout=timeout)


def _change_pending(delta: int) -> None:
    global _pending
    with _pending_changed:
        _pending += delta
        _pending_changed.notify_all()


def _submit(task, args: list, retries: int = 0) -> None:
    _change_pending(+1)
    try:
        _executor.submit(_run, task, args, retries)
    except BaseException:
        _change_pending(-1)
        raise


def _run(task, args: list, retries: int) -> None:
    try:
        task.apply(args=args, retries=retries)
    except Exception:
        logger.exception("%s%r failed", getattr(task, "name", task), args)
    finally:
        # this thread's DB connections: do not keep them open between alerts (nor past a test database's life)
        connections.close_all()
        _change_pending(-1)
