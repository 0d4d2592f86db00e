"""Private files: the data dir 0700 (tightened when it exists looser), the SQLite database and its -wal/-shm,
the secret key, the initial admin password and ingest store files 0600. Each check runs the real startup in a
subprocess with BUGSINK_DATA_DIR pointing at a temporary folder."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from bugsink import files

ROOT = Path(__file__).resolve().parents[2]

# migrate, bootstrap, store one raw event and write to the database; then, with the connection still open (so that
# -wal and -shm exist), report the mode of everything in the data dir
SCRIPT = textwrap.dedent(
    """
    import json, os, stat, sys, time
    import django
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from ingest.store import RawEvent, store_raw_event
    from projects.models import Project

    call_command("migrate", verbosity=0)
    call_command("bootstrap", stdout=open(os.devnull, "w"))
    project = Project.objects.get()
    store_raw_event(RawEvent(project.pk, "ab" * 16, time.time(), "127.0.0.1", b"{}"))
    Project.objects.filter(pk=project.pk).update(name="written")
    modes = {}
    for directory, dirnames, filenames in os.walk(settings.DATA_DIR):
        for name in [".", *dirnames, *filenames]:
            path = os.path.normpath(os.path.join(directory, name))
            modes[os.path.relpath(path, settings.DATA_DIR)] = stat.S_IMODE(os.stat(path).st_mode)
    json.dump(modes, sys.stdout)
    """
)


def start(data_dir: Path, **env) -> dict[str, int]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("BUGSINK_", "SQLITE_", "INGEST_"))}
    for name in ("SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "ADMIN_PASSWORD"):
        environment.pop(name, None)
    environment.update(DJANGO_SETTINGS_MODULE="bugsink.settings", BUGSINK_DATA_DIR=str(data_dir), **env)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_fresh_data_dir_is_private(tmp_path):
    modes = start(tmp_path / "data")
    assert modes["."] == 0o700
    for name in ("secret_key", "db.sqlite3", "db.sqlite3-wal", "db.sqlite3-shm", "initial-admin-password"):
        assert modes[name] == 0o600, name
    events = [name for name in modes if name.endswith(".event")]
    assert len(events) == 1
    assert modes[events[0]] == 0o600
    assert modes["ingest"] == modes[os.path.dirname(events[0])] == 0o700
    # nothing at all is readable by others
    assert {name: mode for name, mode in modes.items() if mode & 0o077} == {}


def test_an_existing_loose_data_dir_and_database_are_tightened(tmp_path):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    database = data / "db.sqlite3"
    database.touch()
    database.chmod(0o644)
    modes = start(data)
    assert (modes["."], modes["db.sqlite3"], modes["db.sqlite3-wal"]) == (0o700, 0o600, 0o600)


def test_the_umask_can_be_loosened_on_purpose(tmp_path):
    modes = start(tmp_path / "data", BUGSINK_UMASK="027")
    assert modes["."] == 0o700  # the data dir stays private either way
    assert modes["db.sqlite3"] == 0o640
    assert modes["secret_key"] == 0o600


RACE = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from bugsink.files import read_or_create
    import secrets
    print(read_or_create(Path(sys.argv[1]), lambda: secrets.token_urlsafe(50)))
    """
)


def test_processes_starting_at_once_agree_on_one_secret_key(tmp_path):
    path = tmp_path / "secret_key"
    processes = [
        subprocess.Popen([sys.executable, "-c", RACE, str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for _ in range(8)
    ]
    keys = {process.communicate(timeout=60)[0].strip() for process in processes}
    assert len(keys) == 1 and len(keys.pop()) > 40
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no temporaries left


def test_create_private_file_never_overwrites(tmp_path):
    path = tmp_path / "f"
    assert files.create_private_file(path, "first")
    assert not files.create_private_file(path, "second")
    assert path.read_text() == "first"


def test_only_our_own_files_are_tightened(tmp_path, monkeypatch):
    loose = tmp_path / "loose"
    loose.touch()
    loose.chmod(0o644)
    monkeypatch.setattr(os, "geteuid", lambda: os.stat(loose).st_uid + 1)  # as if someone else owned it
    files.tighten(loose, files.PRIVATE_FILE)
    assert loose.stat().st_mode & 0o777 == 0o644
    monkeypatch.undo()
    files.tighten(loose, files.PRIVATE_FILE)
    assert loose.stat().st_mode & 0o777 == 0o600
