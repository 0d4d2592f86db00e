from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from api.models import ApiToken, Scope


class Command(BaseCommand):
    help = (
        "Create an API token (for sentry-cli's SENTRY_AUTH_TOKEN and scripts) and print it as the last line. "
        "It is shown only this once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", default="", help="username (default: the first superuser)")
        parser.add_argument("--name", default="created with manage.py createtoken")
        parser.add_argument("--scope", default=Scope.WRITE, choices=[s.value for s in Scope])

    def handle(self, *args, user: str, name: str, scope: str, **options):
        users = get_user_model().objects.filter(is_active=True)
        if user:
            owner = users.filter(**{get_user_model().USERNAME_FIELD: user}).first()
            if owner is None:
                raise CommandError(f"no active user {user!r}")
        else:
            owner = users.filter(is_superuser=True).order_by("pk").first()
            if owner is None:
                raise CommandError("no superuser yet: run `manage.py bootstrap` or give --user")
        row, token = ApiToken.create_for(owner, name=name, scope=scope)
        self.stderr.write(f"token {row.hint}… for {owner.get_username()}, scope {scope}:")
        self.stdout.write(token)
