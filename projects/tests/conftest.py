"""People for the UI tests: a project admin, a plain member, someone from another project, and logged-in clients.

None of these are autouse: they cost nothing to tests that do not ask for them."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client

PASSWORD = "correct horse battery staple"


@pytest.fixture
def make_user(db, django_user_model):
    def make(username: str, **fields):
        fields.setdefault("email", f"{username}@example.com")
        return django_user_model.objects.create_user(username, password=PASSWORD, **fields)

    return make


@pytest.fixture
def client_for():
    """A fresh test client logged in as `user` (several users in one test each get their own)."""

    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def owner(project, make_user):
    """The admin of `project`."""
    from projects.models import ProjectMembership

    user = make_user("olivia")
    ProjectMembership.objects.create(project=project, user=user, role="admin")
    return user


@pytest.fixture
def member(project, make_user):
    """A member (not admin) of `project`."""
    from projects.models import ProjectMembership

    user = make_user("max")
    ProjectMembership.objects.create(project=project, user=user, role="member")
    return user


@pytest.fixture
def other_project(db):
    from projects.models import Project

    return Project.objects.create(name="Other App", slug="other")


@pytest.fixture
def outsider(other_project, make_user):
    """The admin of another project: sees nothing of `project`."""
    from projects.models import ProjectMembership

    user = make_user("oscar")
    ProjectMembership.objects.create(project=other_project, user=user, role="admin")
    return user


class Receiver:
    """An HTTP server on 127.0.0.1 that records each POST body and answers `status`."""

    def __init__(self):
        self.bodies: list[bytes] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's hook name)
                receiver.bodies.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)


@pytest.fixture
def receiver(settings):
    """A webhook receiver on loopback, and the setting that lets alerts post to loopback (nothing else)."""
    settings.ALERTS_ALLOW_PRIVATE_WEBHOOK_TARGETS = True
    r = Receiver()
    r.thread.start()
    try:
        yield r
    finally:
        r.server.shutdown()
        r.server.server_close()
