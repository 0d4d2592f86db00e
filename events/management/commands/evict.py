from django.core.management.base import BaseCommand, CommandError

from events.retention import evict_project, max_age_days_of, max_events_of
from projects.models import Project


class Command(BaseCommand):
    help = (
        "Delete the events over each project's retention limits (max events, max age; see events.retention). "
        "Runs until done; the periodic task does the same in bounded steps."
    )

    def add_arguments(self, parser):
        parser.add_argument("--project", type=int, default=None, help="only this project (its id)")
        parser.add_argument("--dry-run", action="store_true", help="only say how many events would be deleted")

    def handle(self, *args, project: int | None, dry_run: bool, **options):
        projects = Project.objects.order_by("pk")
        if project is not None:
            projects = projects.filter(pk=project)
            if not projects.exists():
                raise CommandError(f"no project with id {project}")
        verb = "would delete" if dry_run else "deleted"
        for each in projects:
            max_events, max_age_days = max_events_of(each), max_age_days_of(each)
            if not max_events and not max_age_days:
                self.stdout.write(f"{each.pk} {each.name}: no limits")
                continue
            result = evict_project(each, dry_run=dry_run, count=True)
            limits = f"max {max_events or 'unlimited'} events, {max_age_days or 'unlimited'} days"
            stored = "" if result.stored is None else f"{result.stored} stored, "
            self.stdout.write(
                f"{each.pk} {each.name} ({limits}): {stored}{verb} {result.expired} expired and "
                f"{result.over_limit} over the limit"
            )
