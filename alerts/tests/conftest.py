"""Real receivers on loopback: an SMTP sink (aiosmtpd) and an HTTP webhook receiver. Nothing here talks to
anything but 127.0.0.1."""

import email
import email.policy
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from testing.utils import free_port


@pytest.fixture(autouse=True)
def _alert_settings(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.ALERT_RETRY_BACKOFF_SECONDS = 0.01
    settings.ALERT_MAX_RETRIES = 3
    settings.ALERT_WEBHOOK_TIMEOUT_SECONDS = 5
    settings.ALERTS_ALLOW_PRIVATE_WEBHOOK_TARGETS = False
    yield
    from bugsink.jobs import wait_idle as wait_for_background_alerts

    # nothing of one test may still be running in the next
    assert wait_for_background_alerts(30), "background alert work did not finish"


@pytest.fixture
def allow_loopback(settings):
    settings.ALERTS_ALLOW_PRIVATE_WEBHOOK_TARGETS = True


@pytest.fixture
def issue(project):
    from issues.models import Issue

    now = datetime(2026, 5, 4, 12, 30, tzinfo=UTC)
    return Issue.objects.create(
        project=project,
        number=12,
        calculated_type="ValueError",
        calculated_value="bad value\nsecond line",
        culprit="app.views in handle",
        first_seen=now - timedelta(days=2),
        last_seen=now,
        event_count=7,
    )


@pytest.fixture
def members(project, django_user_model):
    """Two members who want email alerts, one who does not, one without an address, one inactive user."""
    from projects.models import ProjectMembership

    def member(username, email, wants=True, active=True):
        user = django_user_model.objects.create_user(username, email=email, is_active=active)
        ProjectMembership.objects.create(project=project, user=user, send_email_alerts=wants)
        return user

    return [
        member("alice", "alice@example.com"),
        member("bob", "bob@example.com"),
        member("carol", "carol@example.com", wants=False),
        member("dave", ""),
        member("erin", "erin@example.com", active=False),
    ]


class SMTPSink:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(e.content, policy=email.policy.default) for e in self.envelopes]

    def recipients(self) -> list[str]:
        return sorted(r for e in self.envelopes for r in e.rcpt_tos)


@pytest.fixture
def smtp_sink(settings):
    """A real SMTP server on 127.0.0.1; Django's SMTP backend pointed at it."""
    from aiosmtpd.controller import Controller

    sink = SMTPSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    try:
        yield sink
    finally:
        controller.stop()


class Receiver:
    """An HTTP server on 127.0.0.1 that records each POST and answers from a script (200 when it runs out)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.script: list[int] = []
        self.delay = 0.0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's hook name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                    status = receiver.script.pop(0) if receiver.script else 200
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", f"http://127.0.0.1:{receiver.port}/elsewhere")
                payload = b"ok" if status < 300 else b"receiver says no"
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def json(self, i: int = -1) -> dict:
        return json.loads(self.requests[i]["body"])


@pytest.fixture
def receiver():
    r = Receiver()
    r.thread.start()
    try:
        yield r
    finally:
        r.server.shutdown()
        r.server.server_close()
