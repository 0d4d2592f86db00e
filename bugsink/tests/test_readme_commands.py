"""The README's commands work as written in a fresh clone (issue 23: `python manage.py createproject "Web shop"`
failed there: the packages are in .venv, not in the system's Python). Every command it shows that runs Python or
Celery runs the venv's; every `manage.py` command it names exists; and the one a new user runs first,
createproject, is run for real on a fresh data directory, as written."""

import os
import re
import shlex
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent.parent
README = (ROOT / "README.md").read_text()


def commands() -> list[str]:
    """The README's commands: its code spans and the lines of its sh code blocks that start with python, celery
    or .venv/bin/ (after environment assignments), or run manage.py."""
    prose = re.sub(r"```.*?```", "", README, flags=re.DOTALL)
    prose = re.sub(r"``.+?``", "", prose)  # a double-backtick span (it shows a backtick) would shift the pairing
    spans = re.findall(r"`([^`]+)`", prose)
    found = [" ".join(span.split()) for span in spans]  # a span may wrap onto the next line
    for block in re.findall(r"```sh\n(.*?)```", README, flags=re.DOTALL):
        found += [line.split("  #", 1)[0].strip() for line in block.splitlines()]
    program = re.compile(r"^(?:[A-Z_]+=\S+\s+)*(?:\S*/)?(python3?|celery)\s+(?:-|manage\.py)")
    return [c for c in found if program.match(c) or "manage.py " in c]


def test_every_python_and_celery_command_runs_the_venvs():
    found = commands()
    assert any("manage.py createproject" in c for c in found), found
    bare = [c for c in found if not re.match(r"^(?:[A-Z_]+=\S+\s+)*\.venv/bin/(python|celery) ", c)]
    assert bare == [], bare


def test_every_manage_py_command_named_exists():
    named = {m.group(1) for c in commands() for m in [re.search(r"manage\.py (\w+)", c)] if m}
    assert {"createproject", "send_json", "sweep", "evict", "split_shared_bundles", "check"} <= named
    assert named - set(get_commands()) == set()


@pytest.mark.slow
def test_createproject_as_written_in_a_fresh_data_dir(tmp_path):
    """The venv's Python (this one), a data directory of its own, SQLite: migrate (as `make run` does first), then
    the README's createproject line exactly, from the checkout's root."""
    line = next(c for c in commands() if "manage.py createproject" in c)
    argv = shlex.split(line)
    assert argv[0] == ".venv/bin/python"
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("DATABASE_URL", "SQLITE_PATH", "DJANGO_SETTINGS_MODULE", "CELERY_BROKER_URL")
    }
    env["BUGSINK_DATA_DIR"] = str(tmp_path / "data")
    python = [sys.executable]  # the checkout's .venv/bin/python, whichever checkout the suite runs from
    migrate = subprocess.run([*python, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, capture_output=True)
    assert migrate.returncode == 0, migrate.stderr.decode()[-2000:]
    result = subprocess.run([*python, *argv[1:]], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert re.fullmatch(r"http://[0-9a-f]{32}@127\.0\.0\.1:8000/\d+\n", result.stdout)  # the new project's DSN
    with sqlite3.connect(tmp_path / "data" / "db.sqlite3") as db:
        assert db.execute("SELECT name FROM projects_project").fetchall() == [("Web shop",)]
