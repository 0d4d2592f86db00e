from django.core.management.base import BaseCommand, CommandError

from projects.models import Project


class Command(BaseCommand):
    help = "Create a project and print its DSN (for scripts and provisioning)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--slug", default="", help="short id prefix, e.g. 'myapp' gives MYAPP-12")

    def handle(self, *args, name: str, slug: str, **options):
        if Project.objects.filter(name=name).exists():
            raise CommandError(f"a project named {name!r} exists already")
        if slug and Project.objects.filter(slug=slug).exists():
            raise CommandError(f"a project with slug {slug!r} exists already")
        project = Project.objects.create(name=name, slug=slug)
        self.stdout.write(project.dsn)
