"""What each server process loads (issue 22's memory budget): the workers and the web server each import only what
they use. A module imported is resident for the life of the process, in each process that imports it, so these are
checked in fresh interpreters, started the way the Procfile starts them, by the names of the modules that were
measured to weigh (bench/RESULTS.md, "Memory"):

- the admin's modules, and the sign-in libraries they reach (allauth's MFA and WebAuthn: fido2, cryptography's Rust
  library), only where the URLs are loaded (settings: SimpleAdminConfig, bugsink/urls.py: admin.autodiscover), not
  by the middleware (accounts.middleware) that every request instantiates;
- digest's pipeline (digest.batch, and the User-Agent regexes of ua_parser and google-re2) where a digest runs:
  the web server and the alerts worker only schedule digests (digest.job) or judge nothing themselves
  (monitors.deadlines' periodic check);
- symbolic (source maps) where a map is first read (artifacts.lookup);
- psycopg only on PostgreSQL (settings: DRF's optional import of django.contrib.postgres marked absent);
- click-repl's prompt_toolkit nowhere (bugsink/worker.py);
- redis-py only where a Redis broker is configured (digest.claims, bugsink.celery): `make run` has none.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent

WATCHED = [
    "accounts.admin",
    "allauth.mfa.base.views",
    "fido2",
    "cryptography.hazmat.bindings._rust",
    "digest.batch",
    "ua_parser",
    "re2",
    "symbolic",
    "psycopg",
    "rest_framework.views",  # the apps' own packages are loaded by INSTALLED_APPS, a few modules: not these
    "drf_spectacular.openapi",
    "markdown_it",
    "prompt_toolkit",
    "redis",
]

AS_A_WORKER = """
from bugsink.celery import app
import django
django.setup()
app.loader.import_default_modules()  # every tasks module, as a worker imports them at start
"""

AS_THE_WEB_SERVER = """
import django
django.setup()
from django.urls import get_resolver
get_resolver().url_patterns  # every view, the API and the admin, as the first page loads them
"""


AS_A_WEB_SERVER_TAKING_EVENTS = """
import django
django.setup()
from django.core.handlers.wsgi import WSGIHandler
WSGIHandler()  # every middleware, as the first request instantiates them; SDK requests go no further (fast path)
"""


def loaded(code: str, tmp_path, extra_env=None) -> list[str]:
    """The WATCHED modules that `code` leaves loaded in a fresh interpreter on the production settings (SQLite)."""
    env = {
        # the embedded mode's environment: SQLite, no broker
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")},
        "DJANGO_SETTINGS_MODULE": "bugsink.settings",
        "BUGSINK_DATA_DIR": str(tmp_path),
        "SECRET_KEY": "process-weight-test",
        **(extra_env or {}),
    }
    report = f"\nimport json, sys\nprint(json.dumps([m for m in {WATCHED!r} if m in sys.modules]))\n"
    result = subprocess.run(
        [sys.executable, "-c", code + report], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_worker_starts_with_none_of_them(tmp_path):
    assert loaded(AS_A_WORKER, tmp_path) == []


def test_a_digest_loads_the_pipeline_and_no_more(tmp_path):
    digesting = AS_A_WORKER + "from digest import batch, useragent\nuseragent.parse_user_agent('Firefox/128.0')\n"
    assert loaded(digesting, tmp_path) == ["digest.batch", "ua_parser", "re2"]


def test_the_web_server_on_sqlite_loads_neither_digest_nor_psycopg(tmp_path):
    found = loaded(AS_THE_WEB_SERVER, tmp_path)
    assert not {"digest.batch", "ua_parser", "re2", "symbolic", "psycopg"} & set(found), found
    # and it does load what it serves: the check sees modules that are there
    assert {"accounts.admin", "rest_framework.views", "allauth.mfa.base.views"} <= set(found), found


def test_a_web_server_that_takes_events_loads_no_sign_in_library(tmp_path):
    """The middleware that enforces REQUIRE_2FA loads allauth's MFA (and through WebAuthn, fido2 and cryptography's
    Rust library) on the first page that needs it, not as the server starts."""
    assert loaded(AS_A_WEB_SERVER_TAKING_EVENTS, tmp_path) == []


def test_the_check_sees_a_planted_import(tmp_path):
    """The guard fails when a module imports one of them again (here: symbolic, as artifacts.lookup did)."""
    assert loaded(AS_A_WORKER + "import artifacts.lookup, symbolic.sourcemap\n", tmp_path) == ["symbolic"]


def test_the_workers_launcher_leaves_out_celerys_interactive_shell(tmp_path):
    through_launcher = "from bugsink import worker\nworker._without_click_repl()\nimport celery.bin.celery\n"
    assert loaded(through_launcher, tmp_path) == []
    # Celery's own CLI module does load it: what the launcher saves is real
    assert "prompt_toolkit" in loaded("import celery.bin.celery\n", tmp_path)


def test_the_workers_launcher_is_celerys_command_line(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bugsink.settings", "BUGSINK_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "bugsink.worker", "-A", "bugsink", "worker", "--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "--beat-thread" in result.stdout and "--pool" in result.stdout
