import logging
import os
import sys

import kombu.exceptions
from celery import Celery, bootsteps, signals
from celery.beat import EmbeddedService, PersistentScheduler
from click import Option

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bugsink.settings")
# A worker would run Django's system checks as it starts, and the URL checks import every view, the API and the
# admin (~20 MB resident) that no task needs. `manage.py migrate`, which `make serve` runs first, has checked them.
os.environ.setdefault("CELERY_SKIP_CHECKS", "true")

logger = logging.getLogger(__name__)

app = Celery("bugsink")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class BeatThread(bootsteps.StartStopStep):
    """`celery worker --beat-thread`: the beat scheduler runs as a thread of this worker.

    Why: a separate `celery beat` process loads Django and every app (~90 MB resident) to send a few messages a
    minute. Celery's own `worker -B` forks a process for it, which costs the same resident memory again. In the
    single-server mode (`make serve`) the alerts worker hosts it instead. Exactly one process of an installation
    may run the schedule (as with `celery beat`): the Procfile gives the flag to the one alerts worker."""

    label = "BeatThread"
    conditional = True

    def __init__(self, worker, beat_thread=False, **options):
        self.enabled = bool(beat_thread)
        super().__init__(worker, **options)

    def create(self, worker):
        return EmbeddedService(
            worker.app, thread=True, schedule_filename=worker.schedule_filename, scheduler_cls=worker.scheduler
        )


app.user_options["worker"].add(
    Option(["--beat-thread"], is_flag=True, default=False, help="Run the beat schedule in a thread of this worker.")
)
app.steps["worker"].add(BeatThread)


def broker_unreachable_errors() -> tuple[type[BaseException], ...]:
    """What sending or receiving a message raises when the broker cannot be reached (kombu wraps the transport's
    errors in the first; the others come through where it does not). redis-py's own only where it is loaded: without
    a Redis broker (`make run`) nothing imports it (~5 MB resident), and no error of its can occur."""
    redis = sys.modules.get("redis")
    redis_errors = (redis.ConnectionError, redis.TimeoutError) if redis is not None else ()
    return (kombu.exceptions.OperationalError, *redis_errors, ConnectionError, TimeoutError)


def broker_unreachable(error: BaseException | None) -> BaseException | None:
    """The error, or the one it was raised from or while handling, that says the broker cannot be reached."""
    seen = set()
    unreachable = broker_unreachable_errors()
    while error is not None and id(error) not in seen:
        if isinstance(error, unreachable):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


class Scheduler(PersistentScheduler):
    """The beat schedule (CELERY_BEAT_SCHEDULER, for `celery beat` and --beat-thread alike), saying in one line that
    an entry could not be sent because the broker is unreachable, where Celery's own logs each such attempt as an
    error with the stack and a chain of seven tracebacks. The entry is sent again when next due (the sweep is
    periodic: what it would have found it finds next time)."""

    def apply_entry(self, entry, producer=None):
        try:
            self.apply_async(entry, producer=producer, advance=False)
        except Exception as e:
            cause = broker_unreachable(e)
            if cause is None:
                logger.exception("beat: %s could not be sent", entry.name)
            else:
                logger.warning(
                    "beat: %s not sent, the broker is unreachable (%s); next try when due", entry.name, cause
                )


class BrokerUnreachableOnOneLine(logging.Filter):
    """In the workers' log, a record whose exception is the broker being unreachable (an acknowledgement that could
    not be sent as Redis restarted, say) keeps its message and level but loses its traceback: the exception's name
    and text say all there is, and during an outage the tracebacks would bury everything else."""

    def filter(self, record: logging.LogRecord) -> bool:
        cause = broker_unreachable(record.exc_info[1] if record.exc_info else None)
        if cause is not None:
            record.msg, record.args = f"{record.getMessage()} [{cause.__class__.__name__}: {cause}]", None
            record.exc_info = record.exc_text = None
        return True


class CancelOnConnectionLossNoticeDropped(logging.Filter):
    """A worker that loses the broker warns, each time, that Celery 6 will cancel running tasks on a connection loss
    unless told otherwise. We tell it (CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS in the settings),
    but it warns whenever the setting is off, and those dozen lines would be most of what an outage leaves in the
    log. (A `warnings` filter would not do: Celery puts its own in front of it as it sets up its logging.)"""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.name == "py.warnings"
            and "worker_cancel_long_running_tasks_on_connection_loss" in record.getMessage()
        )


@signals.after_setup_logger.connect
def _quiet_broker_errors(logger, **kwargs):
    """The workers' log (Celery's handlers on the root logger, set up after Django's)."""
    for handler in logger.handlers:
        handler.addFilter(BrokerUnreachableOnOneLine())
        handler.addFilter(CancelOnConnectionLossNoticeDropped())
