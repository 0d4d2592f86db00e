"""Settings for the test suite: bugsink.settings with every file the suite writes moved into one temporary folder.

pytest.ini names this module as DJANGO_SETTINGS_MODULE. pytest-django imports the settings while pytest is still
parsing its command line, before any conftest.py runs, so a fixture or a conftest cannot move DATA_DIR in time:
bugsink.settings would already have created ./data, its secret key and its static folder. Doing it here, before
bugsink.settings is imported, works the same for `pytest` and `python -m pytest`.

The folder is put into the environment (BUGSINK_DATA_DIR, INGEST_STORE_DIR), so the processes the tests start
(gunicorn, Celery workers, `manage.py` subprocesses) write there too: they inherit DJANGO_SETTINGS_MODULE naming
this module and BUGSINK_TEST_DATA_DIR, and reuse the parent's folder instead of making their own. The session
that made the folder removes it when it ends (conftest.py, pytest_unconfigure).
"""

import os
import tempfile
from pathlib import Path

if not os.environ.get("BUGSINK_TEST_DATA_DIR"):
    os.environ["BUGSINK_TEST_DATA_DIR"] = tempfile.mkdtemp(prefix="bugsink-test-")
    os.environ["BUGSINK_TEST_DATA_DIR_OWNER"] = str(os.getpid())
TEST_DATA_DIR = Path(os.environ["BUGSINK_TEST_DATA_DIR"])

# Whatever the shell had: the tests never write into a real installation's folders.
os.environ["BUGSINK_DATA_DIR"] = str(TEST_DATA_DIR)
os.environ["INGEST_STORE_DIR"] = str(TEST_DATA_DIR / "ingest")

from bugsink.settings import *  # noqa: E402, F403 (the environment above must be set before this import)
from bugsink.settings import DATABASES  # noqa: E402

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory (live-server tests share it with gunicorn), and in the temporary folder whatever
    # SQLITE_TEST_PATH says; the folder is the session's own, so no per-process suffix is needed.
    DATABASES["default"]["TEST"] = {"NAME": str(TEST_DATA_DIR / "test-db.sqlite3")}
