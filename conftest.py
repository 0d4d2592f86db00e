"""Fixtures shared by every app's tests."""

import os
import shutil
import subprocess
import threading
import time
import uuid

import pytest

from testing.utils import auth_header, make_envelope

# the each_python_sdk, each_node_sdk and each_browser_sdk fixtures: every SDK major the conformance tests run
pytest_plugins = ["ingest.tests.sdks"]


def pytest_unconfigure(config):
    """Remove the session's temporary data folder (made by testing.settings), once the test database in it
    has been torn down; only the process that made it does, not the processes the tests started."""
    if os.environ.get("BUGSINK_TEST_DATA_DIR_OWNER") == str(os.getpid()):
        shutil.rmtree(os.environ["BUGSINK_TEST_DATA_DIR"], ignore_errors=True)


# `make test-fast`: the edit loop's lane. Besides leaving out the tests marked live or slow, any test that starts a
# process (a web server, a Celery worker, a browser, an SDK client, manage.py) or waits on the clock for seconds (in
# the test's own thread; a server thread of the test may sleep) is skipped when it tries, so the lane stays fast by
# construction, whatever a test is marked.
FAST_LANE = os.environ.get("CULVERT_TEST_FAST") == "1"
FAST_LANE_LONGEST_SLEEP = 1.0


@pytest.fixture(autouse=True)
def _fast_lane(monkeypatch):
    if not FAST_LANE:
        return

    def no_process(self, *args, **kwargs):
        pytest.skip("fast lane: starts a process (make test runs it)")

    real_sleep = time.sleep

    def short_sleep(seconds):
        if seconds > FAST_LANE_LONGEST_SLEEP and threading.current_thread() is threading.main_thread():
            pytest.skip("fast lane: waits on the clock (make test runs it)")
        real_sleep(seconds)

    monkeypatch.setattr(subprocess.Popen, "__init__", no_process)
    monkeypatch.setattr(time, "sleep", short_sleep)


@pytest.fixture(autouse=True)
def _ingest_store(settings, tmp_path):
    settings.INGEST_STORE_DIR = tmp_path / "ingest"
    settings.BASE_URL = "http://127.0.0.1:8000"


@pytest.fixture(autouse=True)
def _fresh_digest_caches():
    """The digest process's caches may hold ids of rows that a test's rollback removed (on_commit callbacks run
    by django_capture_on_commit_callbacks inside a test transaction that is then rolled back); the in-process
    quota counts would carry one test's events into the next."""
    yield
    from bugsink import jobs
    from digest import claims
    from digest.registry import registry
    from ingest import project_cache, quota
    from tags.indexing import tag_value_cache

    claims.forget_claims()  # "a digest is queued" as this process knows it, per project id
    jobs.outage.reset()  # a test's broker outage
    registry.clear()
    project_cache.clear()  # the web side's copy of project keys: a rolled-back project's id comes back
    tag_value_cache.clear()
    quota.reset()  # in-process quota counts: project ids repeat across tests


@pytest.fixture(autouse=True)
def _fresh_login_throttle():
    """Failed-login counts (accounts.throttle) live in the process's cache: one test's failures must not lock the
    next test's logins out."""
    yield
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def project(db):
    from projects.models import Project

    return Project.objects.create(name="My App", slug="myapp")


@pytest.fixture
def send_event(client):
    """POST one event as an envelope through the real endpoint; returns the response."""

    def send(project, event: dict, **kwargs):
        event = dict(event)
        event.setdefault("event_id", uuid.uuid4().hex)
        return client.post(
            f"/api/{project.pk}/envelope/",
            data=make_envelope(event),
            content_type="application/x-sentry-envelope",
            **auth_header(project),
            **kwargs,
        )

    return send


@pytest.fixture(scope="session")
def live_server_url(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real web server (one process, threads, as `make run`) on the test database. Tests that use it need
    `transactional_db` so that what they create is committed and visible to the server."""
    from testing.utils import start_web_server

    with django_db_blocker.unblock():
        with start_web_server(tmp_path_factory.mktemp("live")) as url:
            yield url


@pytest.fixture
def chromium_page():
    """A page in a fresh context of a headless Debian Chromium (testing.browser); skipped without Chromium, a
    failure in CI."""
    from testing.browser import chromium_page

    with chromium_page() as page:
        yield page
