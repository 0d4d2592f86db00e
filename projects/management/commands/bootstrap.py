import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from projects.models import Project


class Command(BaseCommand):
    help = "Make sure an admin user and a first project exist; print the login and the DSN (used by `make run`)."

    def handle(self, *args, **options):
        User = get_user_model()
        password_file = settings.DATA_DIR / "initial-admin-password"
        username = os.environ.get("ADMIN_USERNAME", "admin")
        if not User.objects.filter(is_superuser=True).exists():
            password = os.environ.get("ADMIN_PASSWORD") or secrets.token_urlsafe(12)
            User.objects.create_superuser(username=username, email=os.environ.get("ADMIN_EMAIL", ""), password=password)
            password_file.write_text(password)
            password_file.chmod(0o600)
        admin = User.objects.filter(is_superuser=True).order_by("pk").first()
        project = Project.objects.order_by("pk").first()
        if project is None:
            project = Project.objects.create(name=os.environ.get("FIRST_PROJECT_NAME", "My first project"))

        password = password_file.read_text().strip() if password_file.exists() else "(the one you set)"
        self.stdout.write("")
        self.stdout.write(f"  Open     {settings.BASE_URL}/")
        self.stdout.write(f"  Login    {admin.get_username()} / {password}")
        self.stdout.write(f"  DSN      {project.dsn}   (project {project.name!r})")
        self.stdout.write("")
