"""Settings for the test suite: bugsink.settings with every file the suite writes moved into one temporary folder,
and a fast password hasher.

pytest.ini names this module as DJANGO_SETTINGS_MODULE. pytest-django imports the settings while pytest is still
parsing its command line, before any conftest.py runs, so a fixture or a conftest cannot move DATA_DIR in time:
bugsink.settings would already have created ./data, its secret key and its static folder. Doing it here, before
bugsink.settings is imported, works the same for `pytest` and `python -m pytest`.

The folder is put into the environment (BUGSINK_DATA_DIR, INGEST_STORE_DIR), so the processes the tests start
(the web server, Celery workers, `manage.py` subprocesses) write there too: they run with this settings module
(inherited, or named by testing.utils) and BUGSINK_TEST_DATA_DIR, and reuse the parent's folder instead of
making their own. Such a child keeps the BUGSINK_DATA_DIR its test gave it (a folder of the test's own, under the
temporary directory as well); only the process that made the folder forces it, whatever the shell had. The session
that made the folder removes it when it ends (conftest.py, pytest_unconfigure).
"""

import os
import tempfile
from pathlib import Path

if not os.environ.get("BUGSINK_TEST_DATA_DIR"):
    os.environ["BUGSINK_TEST_DATA_DIR"] = tempfile.mkdtemp(prefix="bugsink-test-")
    os.environ["BUGSINK_TEST_DATA_DIR_OWNER"] = str(os.getpid())
TEST_DATA_DIR = Path(os.environ["BUGSINK_TEST_DATA_DIR"])
# A process the test session started (it inherited the owner's pid); not a shell that merely set the folder.
STARTED_BY_A_TEST = os.environ.get("BUGSINK_TEST_DATA_DIR_OWNER", str(os.getpid())) != str(os.getpid())

if not STARTED_BY_A_TEST or not os.environ.get("BUGSINK_DATA_DIR"):
    # Whatever the shell had: the tests never write into a real installation's folders.
    os.environ["BUGSINK_DATA_DIR"] = str(TEST_DATA_DIR)
    os.environ["INGEST_STORE_DIR"] = str(TEST_DATA_DIR / "ingest")
    os.environ["ARTIFACTS_DIR"] = str(TEST_DATA_DIR / "artifacts")
    os.environ["ATTACHMENTS_DIR"] = str(TEST_DATA_DIR / "attachments")

# The live servers that tests start run the periodic jobs in-process; the monitors' minute-by-minute check there could
# meet a transactional test's TRUNCATE of the test database (PostgreSQL saw a deadlock once). The monitor tests judge
# deadlines directly, with a `now` of their own; a test that wants the schedule sets the variable.
os.environ.setdefault("MONITORS_CHECK_INTERVAL_SECONDS", "3600")

from bugsink.settings import *  # noqa: E402, F403 (the environment above must be set before this import)
from bugsink.settings import DATABASES  # noqa: E402

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory (live-server tests share it with the web server), and in the temporary folder whatever
    # SQLITE_TEST_PATH says; the folder is the session's own, so no per-process suffix is needed.
    DATABASES["default"]["TEST"] = {"NAME": str(TEST_DATA_DIR / "test-db.sqlite3")}

# Django's default hasher (PBKDF2, a million rounds) costs a good fraction of a second per password set or checked,
# on purpose; the suite creates and logs in hundreds of users. MD5 first makes that free; the others stay listed so
# that a hash made by them (a test that wants the real format asks for it) is still checked. The web servers and
# workers the tests start use this module too, so a browser test logs in with the password its test set.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

# Most tests send an event and look at what it made at once: in the suite (and the web servers it starts) each ingest
# request digests its own event unless a test says otherwise (DIGEST_IMMEDIATELY=false in the environment it gives a
# server, or override_settings); the background digest of `make run` has tests of its own (bugsink/tests/test_jobs.py,
# digest/tests/test_background_digest.py).
DIGEST_IMMEDIATELY = env_bool("DIGEST_IMMEDIATELY", True)  # noqa: F405 (from bugsink.settings)


# A server process that a test starts may run the intake's clocks from a moment the test chose, then in real time:
# BUGSINK_TEST_QUOTA_CLOCK_START for its quota windows, BUGSINK_TEST_RECEIVED_CLOCK_START for the received_at of the
# events it accepts (what digest counts per minute, hour, ...). A test of per-minute quota windows or of "n events in
# the last hour" then starts at the beginning of a minute or an hour instead of waiting out the wall clock's boundary.
def _clock_from(variable: str):
    import time as _time

    offset = float(os.environ[variable]) - _time.time()
    return lambda: _time.time() + offset


if os.environ.get("BUGSINK_TEST_QUOTA_CLOCK_START"):
    from ingest import quota as _quota  # noqa: E402 (pure: it reads settings only when called)

    _quota.clock = _clock_from("BUGSINK_TEST_QUOTA_CLOCK_START")
if os.environ.get("BUGSINK_TEST_RECEIVED_CLOCK_START"):
    from ingest import raw as _raw  # noqa: E402 (pure)

    _raw.clock = _clock_from("BUGSINK_TEST_RECEIVED_CLOCK_START")
