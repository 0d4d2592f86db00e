"""Outbound HTTP for webhooks, safe against being pointed at our own network (SSRF).

A webhook URL is typed in by a user, so a POST to it must not become a way to reach the metadata service
(169.254.169.254), the database on 10.0.0.5 or an admin port on 127.0.0.1. So:

- only http and https;
- the host is resolved once with `socket.getaddrinfo`; when ANY of its addresses is private, loopback, link-local,
  multicast, reserved, unspecified or otherwise not globally routable, the target is refused before a single byte
  is sent (unless `settings.ALERTS_ALLOW_PRIVATE_WEBHOOK_TARGETS` is true);
- we connect to the vetted address itself, never to the name again, so a DNS answer that changes between the check
  and the connect (DNS rebinding) cannot slip a private address in; https is wrapped with `server_hostname` set to
  the name, so certificates are still checked against it;
- one timeout (`settings.ALERT_WEBHOOK_TIMEOUT_SECONDS`, 5 s) for connecting and for each read;
- redirects are never followed: a 3xx is a failure (following one would bypass the address check).
"""

import base64
import http.client
import ipaddress
import socket
import ssl
from urllib.parse import unquote, urlsplit

from django.conf import settings

USER_AGENT = "Bugsink-Alerts/1.0"
# how much of an error response we keep for the delivery record
MAX_ERROR_BODY = 512


class RefusedTarget(Exception):
    """The URL is not one we post to (bad scheme, or it resolves to a non-public address). Not retried."""


class DeliveryFailed(Exception):
    """The POST did not succeed. `retriable` says whether trying again later can help."""

    def __init__(self, message: str, retriable: bool = True):
        super().__init__(message)
        self.retriable = retriable


def is_public_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    forbidden = (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        # e.g. 100.64.0.0/10 (carrier-grade NAT) is neither "private" nor global
        or not ip.is_global
    )
    return not forbidden


def resolve(host: str, port: int) -> list[tuple[int, tuple]]:
    """(family, sockaddr) for every address of host, in getaddrinfo's order."""
    try:
        infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as e:
        raise DeliveryFailed(f"cannot resolve {host}: {e}") from e
    return [(family, sockaddr) for family, _type, _proto, _canonname, sockaddr in infos]


def check_addresses(host: str, addresses: list[tuple[int, tuple]]) -> None:
    if getattr(settings, "ALERTS_ALLOW_PRIVATE_WEBHOOK_TARGETS", False):
        return
    for _family, sockaddr in addresses:
        ip = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        if not is_public_address(ip):
            raise RefusedTarget(
                f"{host} resolves to {ip}, which is not a public address (private, loopback, link-local, multicast, "
                "reserved or unspecified); set ALERTS_ALLOW_PRIVATE_WEBHOOK_TARGETS to allow such targets"
            )


def _connect(addresses: list[tuple[int, tuple]], timeout: float) -> socket.socket:
    last_error: OSError | None = None
    for family, sockaddr in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.settimeout(timeout)
        try:
            sock.connect(sockaddr)
            return sock
        except OSError as e:
            sock.close()
            last_error = e
    raise last_error or OSError("no addresses to connect to")


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to already-vetted addresses; `host` is only used for the Host header and TLS SNI."""

    def __init__(self, host: str, port: int, addresses: list[tuple[int, tuple]], timeout: float, tls: bool):
        super().__init__(host, port, timeout=timeout)
        self.addresses = addresses
        self.tls = tls
        self.default_port = 443 if tls else 80  # no ":443" in the Host header

    def connect(self) -> None:
        sock = _connect(self.addresses, self.timeout)
        if self.tls:
            try:
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
            except BaseException:
                sock.close()
                raise
        self.sock = sock


def post(url: str, body: bytes, headers: dict[str, str] | None = None, timeout: float | None = None) -> int:
    """POST body to url; returns the (2xx) status. Raises RefusedTarget or DeliveryFailed."""
    if timeout is None:
        timeout = getattr(settings, "ALERT_WEBHOOK_TIMEOUT_SECONDS", 5)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise RefusedTarget(f"only http and https URLs are allowed, not {parts.scheme or 'no scheme'!r}")
    host = parts.hostname
    if not host:
        raise RefusedTarget("the URL has no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as e:
        raise RefusedTarget(f"the URL has an invalid port: {e}") from e

    addresses = resolve(host, port)
    check_addresses(host, addresses)

    all_headers = {"User-Agent": USER_AGENT, "Content-Type": "application/json", **(headers or {})}
    if parts.username is not None:
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        all_headers["Authorization"] = "Basic " + base64.b64encode(credentials).decode()
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    connection = _PinnedConnection(host, port, addresses, timeout, tls=parts.scheme == "https")
    try:
        connection.request("POST", path, body=body, headers=all_headers)
        response = connection.getresponse()
        status = response.status
        location = response.getheader("Location", "")
        snippet = response.read(MAX_ERROR_BODY).decode("utf-8", "replace").strip()
    except TimeoutError as e:
        raise DeliveryFailed(f"no answer from {host} within {timeout} s") from e
    except ssl.SSLError as e:  # certificate problems do not fix themselves in a minute
        raise DeliveryFailed(f"TLS error talking to {host}: {e}", retriable=False) from e
    except (OSError, http.client.HTTPException) as e:
        raise DeliveryFailed(f"could not post to {host}: {e.__class__.__name__}: {e}") from e
    finally:
        connection.close()

    if 200 <= status < 300:
        return status
    if 300 <= status < 400:
        raise DeliveryFailed(
            f"HTTP {status} redirect to {location or '?'}: redirects are not followed", retriable=False
        )
    # 4xx is the receiver telling us the request itself is wrong (a deleted webhook, a bad token); trying again
    # only helps for timeouts and rate limits
    retriable = status >= 500 or status in (408, 425, 429)
    raise DeliveryFailed(f"HTTP {status}" + (f": {snippet}" if snippet else ""), retriable=retriable)


def redact_url(url: str) -> str:
    """The URL for a delivery record: no credentials, no query, long (token-like) path segments shortened.

    Slack and Discord webhook URLs carry their secret in the path; the record should say where it went without
    handing the token to everyone who can read the admin.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    segments = [s if len(s) < 16 else f"{s[:4]}…" for s in parts.path.split("/")]
    return f"{parts.scheme}://{host}{port}{'/'.join(segments)}"
