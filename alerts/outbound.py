"""Outbound HTTP for webhooks, safe against being pointed at our own network (SSRF).

A webhook URL is typed in by a user, so a POST to it must not become a way to reach the metadata service
(169.254.169.254), the database on 10.0.0.5 or an admin port on 127.0.0.1. So:

- only http and https;
- the host is resolved once with `socket.getaddrinfo`; when ANY of its addresses is private, loopback, link-local,
  multicast, reserved, unspecified or otherwise not globally routable, or is an IPv6 address that carries such an
  IPv4 address (IPv4-mapped, 6to4, Teredo, NAT64, IPv4-compatible) or is site-local, the target is refused before
  a single byte is sent (unless `settings.ALERTS_ALLOW_PRIVATE_WEBHOOK_TARGETS` is true). The channel forms run
  the same check when a URL is saved (`check_target`), and every send runs it again, since DNS answers change;
- we connect to the vetted address itself, never to the name again, so a DNS answer that changes between the check
  and the connect (DNS rebinding) cannot slip a private address in; https is wrapped with `server_hostname` set to
  the name, so certificates are still checked against it;
- one timeout (`settings.ALERT_WEBHOOK_TIMEOUT_SECONDS`, 5 s) for connecting and for each read;
- redirects are never followed: a 3xx is a failure (following one would bypass the address check).
"""

import base64
import http.client
import ipaddress
import re
import socket
import ssl
from urllib.parse import unquote, urlsplit

from django.conf import settings

# how much of an error response we keep for the delivery record
MAX_ERROR_BODY = 512


def user_agent() -> str:
    """`<SITE_TITLE>-Alerts/1.0`, so receivers' logs say who posts. A product token (RFC 9110) allows no spaces and
    the header only ASCII, so every run of other characters becomes one dash."""
    product = re.sub(r"[^A-Za-z0-9!#$%&'*+.^_`|~-]+", "-", settings.SITE_TITLE).strip("-") or "Webhook"
    return f"{product}-Alerts/1.0"


class RefusedTarget(Exception):
    """The URL is not one we post to (bad scheme, or it resolves to a non-public address). Not retried."""


class DeliveryFailed(Exception):
    """The POST did not succeed. `retriable` says whether trying again later can help."""

    def __init__(self, message: str, retriable: bool = True):
        super().__init__(message)
        self.retriable = retriable


# IPv6 prefixes whose last 32 bits are an IPv4 address that the packet ends up at (NAT64, RFC 6052), and the
# deprecated IPv4-compatible form (::a.b.c.d, RFC 4291), which `ipaddress` calls global whatever it embeds.
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
# local-use NAT64 (RFC 8215): by definition inside someone's network, so never a public target
_NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries, which a connection to it may end up at.

    IPv4-mapped (::ffff:a.b.c.d) is the IPv4 host itself on a dual-stack socket; 6to4 (2002:AABB:CCDD::/48) and
    Teredo (2001::/32, server and client) are tunnels towards the embedded IPv4; NAT64 translates to it; the
    IPv4-compatible form is routed to it by old stacks. ::7f00:1 is 127.0.0.1 in disguise, and `is_global` alone
    does not see that.
    """
    found = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if ip in _NAT64_WELL_KNOWN or ip in _IPV4_COMPATIBLE:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def refusal_reason(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why we do not post to this address, or None when it (and every IPv4 it embeds) is globally routable."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.is_site_local:  # fec0::/10, deprecated but still routed inside some networks
            return "a site-local address"
        if ip in _NAT64_LOCAL_USE:
            return "a local-use NAT64 address"
        for inner in embedded_ipv4(ip):
            reason = refusal_reason(inner)
            if reason is not None:
                return f"{reason} in disguise ({inner})"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_unspecified:
        return "the unspecified address"
    if ip.is_private:
        return "a private address"
    # the rest of what is not routable on the internet: 100.64.0.0/10 (carrier-grade NAT), reserved ranges, ...
    if not ip.is_global:
        return "not a globally routable address"
    return None


def is_public_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return refusal_reason(ip) is None


def resolve(host: str, port: int) -> list[tuple[int, tuple]]:
    """(family, sockaddr) for every address of host, in getaddrinfo's order."""
    try:
        infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as e:
        raise DeliveryFailed(f"cannot resolve {host}: {e}") from e
    return [(family, sockaddr) for family, _type, _proto, _canonname, sockaddr in infos]


def check_addresses(host: str, addresses: list[tuple[int, tuple]]) -> None:
    """RefusedTarget unless every address is public (one private answer among public ones is enough to refuse:
    which one a connection uses is not ours to choose)."""
    if getattr(settings, "ALERTS_ALLOW_PRIVATE_WEBHOOK_TARGETS", False):
        return
    for _family, sockaddr in addresses:
        ip = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        reason = refusal_reason(ip)
        if reason is not None:
            raise RefusedTarget(
                f"{host} resolves to {ip}, which is not a public address ({reason}); "
                "set ALERTS_ALLOW_PRIVATE_WEBHOOK_TARGETS to allow such targets"
            )


class Target:
    """A vetted webhook URL: its parts, and the addresses a connection may go to."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise RefusedTarget(f"only http and https URLs are allowed, not {parts.scheme or 'no scheme'!r}")
        if not parts.hostname:
            raise RefusedTarget("the URL has no host")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as e:
            raise RefusedTarget(f"the URL has an invalid port: {e}") from e
        self.parts = parts
        self.host = parts.hostname
        self.port = port
        self.addresses = resolve(self.host, port)
        check_addresses(self.host, self.addresses)


def check_target(url: str) -> None:
    """The save-time check of a webhook URL (the channel forms): RefusedTarget for a URL we would not post to,
    DeliveryFailed when its host does not resolve. `post` checks again, since DNS answers change."""
    Target(url)


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
    target = Target(url)
    parts, host, port, addresses = target.parts, target.host, target.port, target.addresses

    all_headers = {"User-Agent": user_agent(), "Content-Type": "application/json", **(headers or {})}
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
