import os

from celery import Celery, bootsteps
from celery.beat import EmbeddedService
from click import Option

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bugsink.settings")
# A worker would run Django's system checks as it starts, and the URL checks import every view, the API and the
# admin (~20 MB resident) that no task needs. `manage.py migrate`, which `make serve` runs first, has checked them.
os.environ.setdefault("CELERY_SKIP_CHECKS", "true")

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
