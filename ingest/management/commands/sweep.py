from django.core.management.base import BaseCommand

from ingest.sweep import sweep


class Command(BaseCommand):
    help = "Enqueue a digest for raw events that were accepted but never digested."

    def add_arguments(self, parser):
        parser.add_argument("--grace", type=float, default=None, help="only events older than this many seconds")

    def handle(self, *args, grace, **options):
        self.stdout.write(f"{sweep(grace)} digests enqueued")
