#!/usr/bin/env python3
"""Capture real SDK events for the test samples (bugsink/tests/samples/): run the Python `sentry-sdk` (and, when
given a folder with `@sentry/node` installed, the Node SDK) through a few scenarios against a local sink, and write
each event the sink receives as a JSON file.

    .venv/bin/python bin/capture_samples.py [--out bugsink/tests/samples] [--node-modules DIR]

    # another sentry-sdk than .venv's, e.g. the 2.x the tests install into .cache/ (ingest/tests/sdks.py):
    PYTHONPATH=.cache/pip-sentry-sdk-2.76.0 .venv/bin/python bin/capture_samples.py

The Python events go to `python/` for sentry-sdk 2.x and to `python-sdk<major>/` for a later major.

    # the Node SDK, installed outside the repository:
    mkdir /tmp/sentry-node && (cd /tmp/sentry-node && npm install @sentry/node)
    .venv/bin/python bin/capture_samples.py --node-modules /tmp/sentry-node/node_modules

The sink is a tiny HTTP server on 127.0.0.1 that accepts envelopes (gzip, br or plain) and keeps their `event`
items; nothing leaves the machine. Each scenario is captured on its own (the SDK re-initialised, flushed, and the
events it sent collected), so one file is exactly what one SDK sent for one scenario. What is rewritten before
writing, so that the files do not depend on the machine they were captured on: the repository's path (and the
node_modules folder's) becomes /srv/shop, the host name `capture-host`, and the Python modules list keeps only the
SDK's own entries. The HTTP requests a scenario makes go to the sink too; its address becomes payments.example.net.
"""

import argparse
import gzip
import json
import logging
import os
import re
import socket
import subprocess
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
PROJECT_ID = 1
KEY = "0123456789abcdef0123456789abcdef"
NODE_SCENARIOS = Path(__file__).resolve().with_name("capture_samples_node.js")


# --- the sink ---------------------------------------------------------------------------------------------------


def envelope_events(body: bytes) -> list[dict]:
    """The `event` items of an envelope (with or without item lengths)."""
    events = []
    _, _, rest = body.partition(b"\n")
    while rest.strip():
        header_line, _, rest = rest.partition(b"\n")
        item_header = json.loads(header_line)
        if "length" in item_header:
            payload, rest = rest[: item_header["length"]], rest[item_header["length"] :]
            rest = rest[1:] if rest.startswith(b"\n") else rest
        else:
            payload, _, rest = rest.partition(b"\n")
        if item_header.get("type") == "event":
            events.append(json.loads(payload))
    return events


def decode_body(body: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    if encoding == "br":
        import brotli

        return brotli.decompress(body)
    return body


def read_chunked(stream) -> bytes:
    """A body sent with Transfer-Encoding: chunked (http.server does not decode it)."""
    body = b""
    while True:
        size = int(stream.readline().split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while stream.readline().strip():  # trailers, up to the empty line
                pass
            return body
        body += stream.read(size)
        stream.readline()  # the CRLF after each chunk


class Sink:
    """An HTTP server on a free loopback port that keeps the events it is sent, and answers GET /payments/... as a
    payment provider would (the scenarios' outgoing HTTP requests, which the SDK records as breadcrumbs)."""

    def __init__(self):
        self.events: list[dict] = []
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                charge = self.path.rstrip("/").rsplit("/", 1)[-1]
                answer = json.dumps({"id": charge, "status": "failed", "failure_code": "card_declined"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def do_POST(self):  # noqa: N802 (http.server's naming)
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    body = read_chunked(self.rfile)  # the Node SDK streams its bodies
                else:
                    body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = decode_body(body, (self.headers.get("Content-Encoding") or "").strip().lower())
                if urlsplit(self.path).path.rstrip("/").endswith("/envelope"):
                    events = envelope_events(body)
                else:  # a legacy /store/ body is the event itself
                    events = [json.loads(body)]
                with sink.lock:
                    sink.events.extend(events)
                answer = json.dumps({"id": events[0].get("event_id") if events else None}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.address = f"127.0.0.1:{self.port}"
        self.dsn = f"http://{KEY}@{self.address}/{PROJECT_ID}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def take(self) -> list[dict]:
        with self.lock:
            events, self.events = self.events, []
        return events

    def close(self):
        self.server.shutdown()


# --- the Python scenarios: a small shop, as an application would be written -------------------------------------

log = logging.getLogger("shop.orders")


class PaymentGatewayTimeout(Exception):
    pass


class ConfigurationError(Exception):
    pass


def charge_card(order: dict, gateway: str) -> None:
    timeout_seconds = 30
    raise PaymentGatewayTimeout(f"{gateway} did not answer within {timeout_seconds}s for order {order['id']}")


def submit_order(order: dict) -> None:
    retry_count = 3
    last_status = "504 gateway-timeout"
    gateway = "payments.example.net"
    log.info("charging order %s (attempt %d)", order["id"], retry_count)
    charge_card(order, gateway)
    log.info("order %s charged after %d retries, last status %s", order["id"], retry_count, last_status)


def scenario_checkout(sdk):
    """Source context and local variables (frame 1, submit_order, has retry_count and last_status); breadcrumbs
    of several categories; user, tags, a custom context."""
    sdk.add_breadcrumb(category="navigation", message="/cart -> /checkout", data={"from": "/cart", "to": "/checkout"})
    sdk.add_breadcrumb(category="ui.click", message="button#pay-now", level="info")
    sdk.add_breadcrumb(
        category="query", message='SELECT "orders".* FROM "orders" WHERE "orders"."id" = %s', data={"params": [1042]}
    )
    sdk.add_breadcrumb(
        type="http",
        category="httplib",
        data={"url": "https://payments.example.net/v2/charge", "method": "POST", "status_code": 504, "reason": "GW"},
    )
    log.warning("payment gateway slow: %d ms", 29875)
    sdk.set_user({"id": "u-1842", "email": "ann@example.com", "username": "ann", "ip_address": "203.0.113.7"})
    sdk.set_tag("checkout.step", "payment")
    sdk.set_tag("customer.tier", "gold")
    sdk.set_context("order", {"id": 1042, "items": 3, "total": "129.90", "currency": "EUR"})
    order = {"id": 1042, "items": [{"sku": "TEA-01", "qty": 2}, {"sku": "MUG-07", "qty": 1}], "total": "129.90"}
    try:
        submit_order(order)
    except PaymentGatewayTimeout:
        sdk.capture_exception()


def load_setting(settings: dict, name: str) -> str:
    return settings[name]


def read_configuration() -> dict:
    settings = {"DATABASE_URL": "postgres://db/shop"}
    try:
        return {"broker": load_setting(settings, "BROKER_URL")}
    except KeyError as exc:
        raise ConfigurationError("BROKER_URL is not set; the worker cannot start") from exc


def scenario_chained(sdk):
    """raise ... from ...: a chain of two exceptions, the cause first."""
    try:
        read_configuration()
    except ConfigurationError:
        sdk.capture_exception()


def parse_quantity(text: str) -> int:
    return int(text)


def scenario_during_handling(sdk):
    """An exception raised while handling another (implicit __context__ chaining)."""
    try:
        try:
            parse_quantity("three")
        except ValueError:
            {}["fallback_quantity"]
    except KeyError:
        sdk.capture_exception()


def scenario_logging_params(sdk):
    """logger.error with %-style arguments: a logentry with message and params, no exception."""
    log.error("Refund of %s EUR for order %s refused by %s", "12.50", 1077, "payments.example.net")


def scenario_logging_exception(sdk):
    """logger.exception: an exception and a logentry."""
    try:
        parse_quantity("")
    except ValueError:
        log.exception("Could not read the quantity of line %d", 4)


def scenario_message(sdk):
    sdk.capture_message("Stock for TEA-01 is below 5 units", level="warning")


def scenario_threads(sdk):
    """attach_stacktrace: a message with the current thread's stack (the threads interface)."""
    sdk.capture_message("Nightly stock sync took longer than its window", level="info")


def scenario_fingerprint(sdk):
    """{{ default }} plus a part of our own in the fingerprint."""
    with sdk.new_scope() as scope:
        scope.fingerprint = ["{{ default }}", "tenant-7"]
        try:
            parse_quantity("12 boxes")
        except ValueError:
            sdk.capture_exception()


def order_api(environ, start_response):
    order_id = environ["PATH_INFO"].rsplit("/", 1)[-1]
    quantity = int(environ["QUERY_STRING"].split("=")[-1])
    return [str(100 // quantity).encode(), order_id.encode()]


def scenario_wsgi(sdk):
    """A request through the WSGI middleware: the request interface (url, method, headers, query, cookies, env)."""
    from wsgiref.util import setup_testing_defaults

    from sentry_sdk.integrations.wsgi import SentryWsgiMiddleware

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/api/orders/1042",
        "QUERY_STRING": "quantity=0",
        "HTTP_HOST": "shop.example.com",
        "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        "HTTP_ACCEPT": "application/json",
        "HTTP_COOKIE": "sessionid=abc123; theme=dark",
        "REMOTE_ADDR": "198.51.100.23",
        "SERVER_NAME": "shop.example.com",
        "SERVER_PORT": "443",
        "wsgi.url_scheme": "https",
    }
    setup_testing_defaults(environ)
    app = SentryWsgiMiddleware(order_api)
    try:
        app(environ, lambda *args: None)
    except ZeroDivisionError:
        pass


def validate_line(line: dict) -> None:
    if line["qty"] <= 0:
        raise ValueError(f"line {line['sku']}: quantity must be positive, not {line['qty']}")
    if not line["sku"].isupper():
        raise TypeError(f"line {line['sku']}: SKU must be upper case")


def scenario_exception_group(sdk):
    """An ExceptionGroup of two errors (exception_id/parent_id in the mechanisms)."""
    lines = [{"sku": "TEA-01", "qty": 0}, {"sku": "mug-07", "qty": 1}]
    errors = []
    for line in lines:
        try:
            validate_line(line)
        except (ValueError, TypeError) as exc:
            errors.append(exc)
    try:
        raise ExceptionGroup("the order has 2 invalid lines", errors)
    except ExceptionGroup:
        sdk.capture_exception()


def walk_category_tree(node: dict, depth: int) -> int:
    if depth >= 24:
        raise RecursionError(f"category tree deeper than {depth} levels at {node['name']!r}")
    return walk_category_tree({"name": f"{node['name']}/sub", "parent": node["name"]}, depth + 1)


def scenario_deep_stack(sdk):
    """A long stack of the same function."""
    try:
        walk_category_tree({"name": "root"}, 0)
    except RecursionError:
        sdk.capture_exception()


def scenario_unicode(sdk):
    """Non-ASCII in the value, a tag and a local variable."""
    customer = "Zoë Ångström 🫖"
    sdk.set_tag("locale", "sv-SE")
    try:
        raise LookupError(f"no address for “{customer}” in Göteborg")
    except LookupError:
        sdk.capture_exception()


def scenario_empty_value(sdk):
    """An exception without a message: only its type to show."""
    try:
        raise NotImplementedError
    except NotImplementedError:
        sdk.capture_exception()


# --- a web request 15 frames deep: what a Python web application's error typically looks like -------------------
# A WSGI shop: the request goes through a few layers (routing, session, view, service, payment client, retries) to a
# payment provider (an HTTP GET to the sink, which the stdlib integration records as a breadcrumb) that declines the
# card. Locals in every frame, log lines and a query as breadcrumbs, the request (a browser's headers), the user, tags
# and a custom context: about 10 KB, the size and shape bench/loadgen.py sends.

PAYMENTS_URL = ""  # set by capture_python: the sink, standing in for the payment provider


class CardDeclined(Exception):
    pass


class PaymentClient:
    def __init__(self, base_url: str, api_version: str = "2024-06-20"):
        self.base_url = base_url
        self.api_version = api_version
        self.timeout_seconds = 10

    def fetch_charge(self, charge_id: str, order_id: int) -> dict:
        url = f"{self.base_url}/payments/v2/charges/{charge_id}"
        return retry(lambda: self._get(url, order_id), attempts=3)

    def _get(self, url: str, order_id: int) -> dict:
        import urllib.request

        with urllib.request.urlopen(url, timeout=self.timeout_seconds) as response:
            status = response.status
            body = response.read()
        log.info("payment provider answered %s (%d bytes)", status, len(body))
        return decode_charge(body, order_id)


def retry(call, attempts: int):
    last_error = None
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except OSError as error:  # a network error: try again
            log.warning("attempt %d of %d failed: %s", attempt, attempts, error)
            last_error = error
    raise last_error


def decode_charge(body: bytes, order_id: int) -> dict:
    charge = json.loads(body)
    check_charge(charge, order_id)
    return charge


def check_charge(charge: dict, order_id: int) -> None:
    status, failure_code = charge.get("status"), charge.get("failure_code")
    if status != "succeeded":
        raise CardDeclined(f"charge {charge['id']} for order {order_id} failed: {failure_code}")


class CheckoutService:
    def __init__(self, payments: PaymentClient):
        self.payments = payments
        self.currency = "EUR"

    def place_order(self, cart: dict, customer: dict) -> dict:
        order = {"id": 1042, "customer_id": customer["id"], "total": cart["total"], "currency": self.currency}
        log.info("placing order %s for customer %s", order["id"], customer["id"])
        self.charge(order, customer["card_token"])
        return order

    def charge(self, order: dict, card_token: str) -> None:
        charge_id = f"ch_{order['id']}"
        self.payments.fetch_charge(charge_id, order["id"])


def load_cart(session: dict) -> dict:
    import sentry_sdk

    cart_id = session["cart_id"]
    sentry_sdk.add_breadcrumb(
        category="query",
        message='SELECT "cart_items".* FROM "cart_items" WHERE "cart_items"."cart_id" = %s',
        data={"params": [cart_id], "rows": 3},
    )
    return {"id": cart_id, "items": [{"sku": "TEA-01", "qty": 2}, {"sku": "MUG-07", "qty": 1}], "total": "129.90"}


class Request:
    """What a web framework hands a view; its repr is what the SDK shows for it among a frame's locals."""

    def __init__(self, environ: dict):
        self.method, self.path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
        self.cookies = environ.get("HTTP_COOKIE", "")
        self.csrf_token = environ.get("HTTP_X_CSRF_TOKEN", "")
        self.session: dict = {}

    def __repr__(self) -> str:
        return f"<Request: {self.method} {self.path!r}>"


def checkout_view(request: Request) -> tuple[str, bytes]:
    session = request.session
    customer = {"id": session["customer_id"], "card_token": "tok_visa_4242", "tier": "gold"}
    cart = load_cart(session)
    service = CheckoutService(PaymentClient(PAYMENTS_URL))
    order = service.place_order(cart, customer)
    return "201 Created", json.dumps(order).encode()


def with_session(view, request: Request) -> tuple[str, bytes]:
    import sentry_sdk

    request.session = {"customer_id": "u-1842", "cart_id": 77, "has_cookie": bool(request.cookies)}
    sentry_sdk.set_user({"id": request.session["customer_id"]})
    return view(request)


def require_login(view, request: Request) -> tuple[str, bytes]:
    if not request.session.get("customer_id"):
        return "302 Found", b""
    return view(request)


def csrf_protect(view, request: Request) -> tuple[str, bytes]:
    checked = bool(request.csrf_token) or request.method == "GET"
    log.debug("csrf checked: %s", checked)
    return require_login(view, request)


ROUTES = {("POST", "/api/checkout"): checkout_view}


def dispatch(request: Request) -> tuple[str, bytes]:
    view = ROUTES[(request.method, request.path)]
    return with_session(lambda request: csrf_protect(view, request), request)


def shop_app(environ, start_response):
    status, body = dispatch(Request(environ))
    start_response(status, [("Content-Type", "application/json")])
    return [body]


def scenario_web_checkout(sdk):
    """A POST through the WSGI middleware that fails 15 frames deep (see above)."""
    from wsgiref.util import setup_testing_defaults

    from sentry_sdk.integrations.wsgi import SentryWsgiMiddleware

    sdk.set_tag("checkout.step", "payment")
    sdk.set_context("cart", {"id": 77, "items": 3, "total": "129.90", "currency": "EUR"})
    log.info("checkout started for cart %s", 77)
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/checkout",
        "QUERY_STRING": "step=payment",
        "HTTP_HOST": "shop.example.com",
        "HTTP_USER_AGENT": (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
            "Safari/537.36"
        ),
        "HTTP_ACCEPT": "application/json",
        "HTTP_ACCEPT_LANGUAGE": "sv-SE,sv;q=0.9,en;q=0.8",
        "HTTP_COOKIE": "sessionid=abc123; theme=dark",
        "HTTP_REFERER": "https://shop.example.com/cart",
        "REMOTE_ADDR": "198.51.100.23",
        "SERVER_NAME": "shop.example.com",
        "SERVER_PORT": "443",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": "0",
        "wsgi.url_scheme": "https",
    }
    setup_testing_defaults(environ)
    app = SentryWsgiMiddleware(shop_app)
    try:
        app(environ, lambda *args: None)
    except CardDeclined:
        pass


# name: (scenario, extra init options)
PYTHON_SCENARIOS = {
    "checkout-gateway-timeout": (scenario_checkout, {}),
    "chained-raise-from": (scenario_chained, {}),
    "during-handling": (scenario_during_handling, {}),
    "logging-error-with-params": (scenario_logging_params, {}),
    "logging-exception": (scenario_logging_exception, {}),
    "message-only": (scenario_message, {}),
    "message-with-threads": (scenario_threads, {"attach_stacktrace": True}),
    "fingerprint-default-plus-tenant": (scenario_fingerprint, {}),
    "wsgi-request-error": (scenario_wsgi, {"send_default_pii": True}),
    "exception-group": (scenario_exception_group, {}),
    "deep-stack": (scenario_deep_stack, {}),
    "unicode-value": (scenario_unicode, {}),
    "no-message": (scenario_empty_value, {}),
    "web-checkout-15-frames": (scenario_web_checkout, {}),
}


def capture_python(sink: Sink) -> dict[str, dict]:
    import sentry_sdk
    from sentry_sdk.integrations.logging import LoggingIntegration

    global PAYMENTS_URL
    PAYMENTS_URL = f"http://{sink.address}"
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    captured = {}
    for name, (scenario, options) in PYTHON_SCENARIOS.items():
        if not sentry_sdk.VERSION.startswith("2."):
            # 3.x refuses send_default_pii; its `data_collection` defaults collect what that option asked for
            options = {key: value for key, value in options.items() if key != "send_default_pii"}
        sentry_sdk.init(
            dsn=sink.dsn,
            release="shop@2.4.1",
            environment="production",
            server_name="capture-host",
            default_integrations=True,
            # logging.error as events and log lines as breadcrumbs: 2.x's default, asked for on 3.x
            integrations=[LoggingIntegration(event_level=logging.ERROR)],
            # 2.x's default; 3.x attaches the stack to every message, whose frames here would be this script's
            **{"attach_stacktrace": False, **options},
        )
        with sentry_sdk.isolation_scope():
            scenario(sentry_sdk)
        sentry_sdk.flush(timeout=10)
        events = sink.take()
        if len(events) != 1:
            raise SystemExit(f"scenario {name}: expected one event, the SDK sent {len(events)}")
        captured[name] = events[0]
    sentry_sdk.init(dsn=None)
    return captured


def capture_node(sink: Sink, node_modules: Path) -> dict[str, dict]:
    """Run capture_samples_node.js, which sends one event per scenario and prints the scenario names in order."""
    env = {**os.environ, "NODE_PATH": str(node_modules), "SENTRY_DSN": sink.dsn}
    result = subprocess.run(
        ["node", str(NODE_SCENARIOS)], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    names = result.stdout.split()
    events = sink.take()
    by_tag = {event.get("tags", {}).get("scenario"): event for event in events}
    missing = [name for name in names if name not in by_tag]
    if missing:
        raise SystemExit(f"node scenarios without an event: {missing}")
    return {name: by_tag[name] for name in names}


# --- writing ----------------------------------------------------------------------------------------------------


def python_folder() -> str:
    """Where the Python SDK's events go: python/ for 2.x (the first captures), python-sdk<major>/ after it."""
    import sentry_sdk

    major = sentry_sdk.VERSION.split(".")[0]
    return "python" if major == "2" else f"python-sdk{major}"


def scrub(event: dict, node_modules: Path | None = None, sink: Sink | None = None) -> dict:
    """Make a captured event independent of the machine it was captured on (see the module docstring)."""
    text = json.dumps(event, ensure_ascii=False)
    if sink:
        text = text.replace(f"http://{sink.address}", "https://payments.example.net")
    if node_modules:
        text = text.replace(str(node_modules.resolve()), "/srv/shop/node_modules")
    text = text.replace(str(REPO / ".venv"), "/srv/shop/venv").replace(str(REPO), "/srv/shop")
    text = text.replace(json.dumps(socket.gethostname())[1:-1], "capture-host")
    text = re.sub(r"/root/\.pyenv/versions/([\d.]+)", r"/usr/local/python\1", text)
    event = json.loads(text)
    if isinstance(event.get("modules"), dict):
        event["modules"] = {k: v for k, v in event["modules"].items() if k.startswith(("sentry", "urllib3", "certifi"))}
    return event


def write(out: Path, platform: str, events: dict[str, dict], node_modules: Path | None = None, sink=None) -> None:
    folder = out / platform
    folder.mkdir(parents=True, exist_ok=True)
    for name, event in events.items():
        path = folder / f"{name}.json"
        path.write_text(json.dumps(scrub(event, node_modules, sink), indent=2, ensure_ascii=False) + "\n")
        print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "bugsink" / "tests" / "samples")
    parser.add_argument("--node-modules", type=Path, help="a node_modules folder with @sentry/node installed")
    parser.add_argument("--skip-python", action="store_true")
    args = parser.parse_args()
    sink = Sink()
    try:
        if not args.skip_python:
            write(args.out, python_folder(), capture_python(sink), args.node_modules, sink)
        if args.node_modules:
            write(args.out, "node", capture_node(sink, args.node_modules), args.node_modules)
    finally:
        sink.close()


if __name__ == "__main__":
    main()
