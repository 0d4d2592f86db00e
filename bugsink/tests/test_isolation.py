"""The suite writes only into a temporary folder, never into the checkout's ./data (testing.settings)."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

REPO = Path(__file__).resolve().parent.parent.parent


def under(path, folder) -> bool:
    return Path(path).resolve().is_relative_to(Path(folder).resolve())


def test_every_data_path_is_in_the_sessions_temporary_folder():
    folder = Path(os.environ["BUGSINK_TEST_DATA_DIR"])
    assert under(folder, tempfile.gettempdir())
    assert not under(folder, REPO)
    assert Path(settings.DATA_DIR).resolve() == folder.resolve()
    assert Path(settings.DATA_DIR).resolve() != (REPO / "data").resolve()
    for path in (settings.STATIC_ROOT, settings.CELERY_BEAT_SCHEDULE_FILENAME, os.environ["INGEST_STORE_DIR"]):
        assert under(path, folder), path
    # what the processes the tests start inherit
    assert os.environ["BUGSINK_DATA_DIR"] == str(folder)


def test_the_sqlite_test_database_is_in_the_temporary_folder(db):
    from django.db import connection

    if connection.vendor != "sqlite":
        return  # PostgreSQL/MariaDB keep their files in the server
    assert under(connection.settings_dict["NAME"], os.environ["BUGSINK_TEST_DATA_DIR"])


def test_a_manage_py_subprocess_uses_the_same_folder():
    code = "from django.conf import settings; print(settings.DATA_DIR)"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.strip().splitlines()[-1] == os.environ["BUGSINK_TEST_DATA_DIR"]


def test_a_process_a_test_starts_keeps_the_folder_it_was_given_and_the_fast_hasher(tmp_path):
    """What the web servers and workers of the live tests get (testing.utils.TEST_SETTINGS): the test's own
    folder, not the session's, and the password hasher of the test process, so that a user a test made can log in."""
    from testing.utils import TEST_SETTINGS

    code = "from django.conf import settings; print(settings.DATA_DIR); print(settings.PASSWORD_HASHERS[0])"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=REPO,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": TEST_SETTINGS, "BUGSINK_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    data_dir, hasher = result.stdout.strip().splitlines()[-2:]
    assert data_dir == str(tmp_path)
    assert hasher == settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.MD5PasswordHasher"


def test_no_model_change_lacks_a_migration(db):
    """`makemigrations --check` as a test, so that `make test` needs no settings import outside the suite (that
    would create ./data in a fresh clone)."""
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
