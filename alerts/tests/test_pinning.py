"""Webhook delivery connects to the address it validated (issue 19, part 8; DNS rebinding): the name is resolved once
per send, and the connection goes to that answer, even when the resolver answers something else a moment later.

Name resolution is the one thing faked here (a resolver for a made-up name under .test that changes its answer after
the first question); the targets are real servers on loopback: the validated answer is 127.0.0.1, the later answer
127.0.0.2 on the same port, so a second lookup would show as a request at the wrong server. Private targets are
allowed for these tests (both are loopback). For https the name still decides SNI and the certificate check: a test
CA (made with the openssl command) is trusted through SSL_CERT_FILE, which OpenSSL reads when the client's default
context loads its certificates.
"""

import shutil
import socket
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from alerts import outbound
from alerts.delivery import send_test_alert
from alerts.models import AlertChannel, DeliveryAttempt
from testing.utils import require_service

NAME = "hooks.rebind.test"
VALIDATED, LATER = "127.0.0.1", "127.0.0.2"


class Server:
    """An HTTP(S) server on `host`:`port` that records each POST (path, Host header, the SNI name it was asked)."""

    def __init__(self, host: str, port: int = 0, tls: ssl.SSLContext | None = None):
        self.requests: list[dict] = []
        self.server_names: list[str | None] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's hook name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                server.requests.append({"path": self.path, "host": self.headers.get("Host"), "body": body})
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        if tls is not None:
            tls.sni_callback = lambda sock, name, context: self.server_names.append(name)
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def rebinding_resolver(monkeypatch):
    """getaddrinfo for NAME: VALIDATED the first time, LATER ever after; the questions asked are in the list
    returned. Other names fail (nothing here may look up a real name)."""
    asked: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host != NAME:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        asked.append(host)
        address = VALIDATED if len(asked) == 1 else LATER
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def server_pair(tls_for=None) -> tuple[Server, Server]:
    """A server at VALIDATED and one at LATER on the same port."""
    validated = Server(VALIDATED, tls=tls_for() if tls_for else None)
    try:
        later = Server(LATER, validated.port, tls=tls_for() if tls_for else None)
    except OSError:
        validated.close()
        raise
    return validated, later


def test_delivery_goes_to_the_address_that_was_validated(allow_loopback, rebinding_resolver, project):
    validated, later = server_pair()
    try:
        url = f"http://{NAME}:{validated.port}/in?x=1"
        assert outbound.post(url, b'{"a": 1}') == 200
        assert rebinding_resolver == [NAME]  # asked once; the connection used that answer
        assert validated.requests == [{"path": "/in?x=1", "host": f"{NAME}:{validated.port}", "body": b'{"a": 1}'}]

        # the same through a channel's delivery (the test alert takes the real alerts' path): resolved anew per
        # send, validated, and sent where that answer points; the resolver now says LATER, and LATER gets it
        channel = AlertChannel.objects.create(project=project, name="Hook", kind="webhook", url=url)
        assert send_test_alert(channel).sent
        assert rebinding_resolver == [NAME, NAME]
        assert len(validated.requests) == 1 and len(later.requests) == 1
        assert DeliveryAttempt.objects.get().status == DeliveryAttempt.Status.SENT
    finally:
        validated.close()
        later.close()


def make_certificates(folder, names: dict[str, str]) -> dict[str, tuple[str, str]]:
    """A test CA (folder/ca.pem) and, per label, a certificate for that DNS name signed by it: {label: (cert, key)}."""
    openssl = shutil.which("openssl")
    require_service(bool(openssl), "the openssl command makes the test certificates")

    def run(*args):
        subprocess.run([openssl, *args], check=True, capture_output=True, timeout=60, cwd=folder)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Culvert test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")  # fmt: skip
    made = {}
    for label, name in names.items():
        (folder / f"{label}.ext").write_text(
            f"subjectAltName=DNS:{name}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
        )
        run("req", *ec, "-keyout", f"{label}.key", "-out", f"{label}.csr", "-subj", f"/CN={name}")
        run("x509", "-req", "-in", f"{label}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", f"{label}.pem", "-days", "2", "-extfile", f"{label}.ext")  # fmt: skip
        made[label] = (str(folder / f"{label}.pem"), str(folder / f"{label}.key"))
    return made


def server_context(cert: tuple[str, str]):
    def make() -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*cert)
        return context

    return make


def test_https_delivery_keeps_the_name_for_sni_and_the_certificate(
    allow_loopback, rebinding_resolver, tmp_path, monkeypatch
):
    certificates = make_certificates(tmp_path, {"right": NAME, "wrong": "elsewhere.test"})
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    validated, later = server_pair(server_context(certificates["right"]))
    try:
        assert outbound.post(f"https://{NAME}:{validated.port}/in", b"{}") == 200
        assert rebinding_resolver == [NAME]
        assert validated.server_names == [NAME] and not later.server_names
        assert [r["host"] for r in validated.requests] == [f"{NAME}:{validated.port}"] and not later.requests
    finally:
        validated.close()
        later.close()

    # a server whose certificate is for another name is refused: the check is against the name, not the address
    rebinding_resolver.clear()
    wrong = Server(VALIDATED, tls=server_context(certificates["wrong"])())
    try:
        with pytest.raises(outbound.DeliveryFailed, match="TLS error") as caught:
            outbound.post(f"https://{NAME}:{wrong.port}/in", b"{}")
        assert not caught.value.retriable and not wrong.requests
    finally:
        wrong.close()
