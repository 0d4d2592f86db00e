import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from bugsink import files
from projects.models import Project, ProjectMembership, Role


class Command(BaseCommand):
    help = "Make sure an admin user and a first project exist; print the login and the DSN (used by `make run`)."

    def handle(self, *args, **options):
        User = get_user_model()
        # the generated password is kept (0600, in the private data dir) only to be shown by the next `make run`s
        # until the admin changes it
        password_file = settings.DATA_DIR / "initial-admin-password"
        username = os.environ.get("ADMIN_USERNAME", "admin")
        if not User.objects.filter(is_superuser=True).exists():
            password = os.environ.get("ADMIN_PASSWORD") or secrets.token_urlsafe(12)
            User.objects.create_superuser(username=username, email=os.environ.get("ADMIN_EMAIL", ""), password=password)
            password_file.unlink(missing_ok=True)  # one of an earlier database
            files.create_private_file(password_file, password)
        admin = User.objects.filter(is_superuser=True).order_by("pk").first()
        project = Project.objects.order_by("pk").first()
        if project is None:
            project = Project.objects.create(name=os.environ.get("FIRST_PROJECT_NAME", "My first project"))
        self.ensure_someone_manages(project, admin)

        self.stdout.write("")
        self.stdout.write(f"  Open     {settings.BASE_URL}/")
        self.stdout.write(f"  Login    {admin.get_username()} / {self.shown_password(admin, password_file)}")
        self.stdout.write(f"  DSN      {project.dsn}   (project {project.name!r})")
        self.stdout.write("")

    def ensure_someone_manages(self, project, admin) -> None:
        """Make the first admin an admin member of the first project while that project has no members at all.

        Without a membership the admin's Preferences offer no project to switch email alerts on for. Only a project
        nobody belongs to gets one, so running bootstrap again changes nothing, and a membership the admin later
        changed or gave up in favour of other members is left as it is."""
        if not ProjectMembership.objects.filter(project=project).exists():
            ProjectMembership.objects.create(project=project, user=admin, role=Role.ADMIN)

    def shown_password(self, admin, password_file) -> str:
        """The initial password while it still is the admin's password; after a change, how to reset it.

        Once the admin has a password of their own, the initial one is useless and is removed from disk."""
        initial = password_file.read_text().strip() if password_file.exists() else ""
        if initial and admin.check_password(initial):
            return initial
        password_file.unlink(missing_ok=True)
        command = f".venv/bin/python manage.py changepassword {admin.get_username()}"
        return f"(your own password; forgotten? {command} sets a new one)"
