from django.core.management.base import BaseCommand

from artifacts.split import split_shared_bundles


class Command(BaseCommand):
    help = (
        "Give each project of a source-map bundle that several projects share a bundle of its own (artifacts.split): "
        "earlier versions let an upload join another project's bundle by its id. Run once after upgrading; running "
        "it again finds nothing to do."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="only list the shared bundles")

    def handle(self, *args, dry_run: bool, **options):
        done = split_shared_bundles(dry_run=dry_run)
        for each in done:
            projects = ", ".join(each.project_slugs)
            outcome = "would be split" if dry_run else f"split: {each.copies} copies made"
            self.stdout.write(f"bundle {each.bundle_pk} (id {each.bundle_id}), projects {projects}: {outcome}")
        self.stdout.write(f"{len(done)} shared bundle{'' if len(done) == 1 else 's'}")
