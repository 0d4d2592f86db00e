"""The SSRF guard and the HTTP client: refusal before connecting, pinned addresses, no redirects, timeouts."""

import socket

import pytest

from alerts import outbound


@pytest.fixture
def no_connect(monkeypatch):
    """Fail the test if anything tries to open a connection."""

    def refuse(*args, **kwargs):
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr(outbound, "_connect", refuse)


@pytest.fixture
def fake_dns(monkeypatch):
    """Answer getaddrinfo for made-up names (under .test) from a table; everything else as usual."""
    table: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in table:
            return [
                (
                    socket.AF_INET6 if ":" in ip else socket.AF_INET,
                    socket.SOCK_STREAM,
                    socket.IPPROTO_TCP,
                    "",
                    (ip, port, 0, 0) if ":" in ip else (ip, port),
                )
                for ip in table[host]
            ]
        if str(host).endswith(".test"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return table


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://10.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "http://[::1]:8080/hook",
        "http://localhost/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://192.168.1.20:3000/hook",
        "http://100.64.0.1/hook",
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
    ],
)
def test_private_loopback_and_link_local_targets_are_refused_before_connecting(settings, no_connect, url):
    settings.ALERTS_ALLOW_PRIVATE_WEBHOOK_TARGETS = False
    with pytest.raises(outbound.RefusedTarget, match="not a public address"):
        outbound.post(url, b"{}")


def test_a_name_with_any_private_address_is_refused(settings, no_connect, fake_dns):
    settings.ALERTS_ALLOW_PRIVATE_WEBHOOK_TARGETS = False
    fake_dns["mixed.test"] = ["93.184.216.34", "10.1.2.3"]
    with pytest.raises(outbound.RefusedTarget, match="10.1.2.3"):
        outbound.post("https://mixed.test/hook", b"{}")


def test_public_addresses_pass_the_check():
    outbound.check_addresses("x", [(socket.AF_INET, ("93.184.216.34", 443))])
    outbound.check_addresses("x", [(socket.AF_INET6, ("2606:2800:220:1:248:1893:25c8:1946", 443, 0, 0))])


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "gopher://example.com/", "http:///x"])
def test_only_http_and_https_urls_with_a_host(no_connect, url):
    with pytest.raises(outbound.RefusedTarget):
        outbound.post(url, b"{}")


def test_unresolvable_name_is_a_retriable_failure(fake_dns, no_connect):
    with pytest.raises(outbound.DeliveryFailed) as info:
        outbound.post("https://does-not-exist.test/hook", b"{}")
    assert info.value.retriable


def test_connects_to_the_vetted_address_and_keeps_the_name_in_the_host_header(allow_loopback, fake_dns, receiver):
    # webhook.test only exists in our fake DNS: a second lookup (by http.client) would fail
    fake_dns["webhook.test"] = ["127.0.0.1"]
    assert outbound.post(f"http://webhook.test:{receiver.port}/path?q=1", b'{"a": 1}', {"X-Extra": "yes"}) == 200
    request = receiver.requests[0]
    assert request["path"] == "/path?q=1"
    assert request["headers"]["Host"] == f"webhook.test:{receiver.port}"
    assert request["headers"]["X-Extra"] == "yes"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["User-Agent"] == "Culvert-Alerts/1.0"
    assert request["body"] == b'{"a": 1}'


def test_credentials_in_the_url_become_basic_auth(allow_loopback, receiver):
    outbound.post(f"http://user:p%40ss@127.0.0.1:{receiver.port}/hook", b"{}")
    assert receiver.requests[0]["headers"]["Authorization"] == "Basic dXNlcjpwQHNz"


def test_a_redirect_is_a_failure_and_is_not_followed(allow_loopback, receiver):
    receiver.script = [302]
    with pytest.raises(outbound.DeliveryFailed, match="302 redirect") as info:
        outbound.post(receiver.url(), b"{}")
    assert not info.value.retriable
    assert [r["path"] for r in receiver.requests] == ["/hook"]


@pytest.mark.parametrize(("status", "retriable"), [(500, True), (503, True), (429, True), (404, False), (400, False)])
def test_error_statuses(allow_loopback, receiver, status, retriable):
    receiver.script = [status]
    with pytest.raises(outbound.DeliveryFailed, match=f"HTTP {status}: receiver says no") as info:
        outbound.post(receiver.url(), b"{}")
    assert info.value.retriable is retriable


def test_a_slow_receiver_times_out(allow_loopback, settings, receiver):
    settings.ALERT_WEBHOOK_TIMEOUT_SECONDS = 0.3
    receiver.delay = 1.5
    with pytest.raises(outbound.DeliveryFailed, match="within 0.3 s") as info:
        outbound.post(receiver.url(), b"{}")
    assert info.value.retriable


def test_the_default_timeout_is_five_seconds(monkeypatch):
    import importlib

    from bugsink import settings as project_settings

    monkeypatch.delenv("ALERT_WEBHOOK_TIMEOUT_SECONDS", raising=False)
    monkeypatch.delenv("ALERTS_ALLOW_PRIVATE_WEBHOOK_TARGETS", raising=False)
    fresh = importlib.reload(project_settings)
    assert fresh.ALERT_WEBHOOK_TIMEOUT_SECONDS == 5
    assert fresh.ALERTS_ALLOW_PRIVATE_WEBHOOK_TARGETS is False


def test_nothing_listening_is_a_retriable_failure(allow_loopback):
    from testing.utils import free_port

    with pytest.raises(outbound.DeliveryFailed, match="could not post") as info:
        outbound.post(f"http://127.0.0.1:{free_port()}/hook", b"{}")
    assert info.value.retriable


def test_redact_url_hides_tokens_credentials_and_query():
    assert (
        outbound.redact_url("https://hooks.slack.com/services/T0001/B0002/abcdefghijklmnopqrstuvwx")
        == "https://hooks.slack.com/services/T0001/B0002/abcd…"
    )
    assert outbound.redact_url("https://u:pw@example.com:8443/hook?token=secret") == "https://example.com:8443/hook"
    assert outbound.redact_url("http://[::1]:9000/x") == "http://[::1]:9000/x"


def test_the_user_agent_carries_the_site_title_as_one_token(allow_loopback, receiver, settings):
    settings.SITE_TITLE = "Acme Errors ü"
    outbound.post(f"http://127.0.0.1:{receiver.port}/hook", b"{}")
    assert receiver.requests[0]["headers"]["User-Agent"] == "Acme-Errors-Alerts/1.0"
