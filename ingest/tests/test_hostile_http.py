"""Every byte that reaches the ingest endpoints is hostile (a DSN is public).

Each value read from the envelope header, the item headers, the auth header, the query string and the request line
may be any JSON type, hold lone surrogates, NULs, huge or negative numbers or nested objects. The answer is a 4xx
with a JSON `detail` (or the value is ignored where harmless and the event is stored), never a 500. The tables below
go through the Django test client, which raises any exception the view lets out; a representative set goes through
the live server, whose log must show no traceback.
"""

import json
import socket
import uuid
from urllib.parse import urlsplit

import pytest

from events.models import Event
from projects.models import Project
from testing.utils import exception_event

SURROGATE = "\\ud800"  # as a JSON escape: json.loads turns it into a lone surrogate, which no codec can encode
KEY = "{key}"  # replaced by the project's key


def event_payload() -> bytes:
    return json.dumps(exception_event(value=f"bad value {uuid.uuid4().hex[:8]}")).encode()


def with_event(header: bytes) -> bytes:
    """An envelope whose header line is `header` (raw JSON text), followed by one event item with its length."""
    payload = event_payload()
    return header + b"\n" + json.dumps({"type": "event", "length": len(payload)}).encode() + b"\n" + payload + b"\n"


def with_item_header(item_header: bytes, payload: bytes | None = None) -> bytes:
    """An envelope with a plain header and one item whose header line is `item_header` (raw JSON text)."""
    payload = event_payload() if payload is None else payload
    return b'{"event_id": "%s"}\n' % uuid.uuid4().hex.encode() + item_header + b"\n" + payload + b"\n"


def post(client, project, body: bytes, *, query: str = "", path: str | None = None, **extra):
    query = query.replace(KEY, project.sentry_key)
    path = path or f"/api/{project.pk}/envelope/"
    return client.generic(
        "POST", f"{path}?{query}" if query else path, data=body, content_type="application/x-sentry-envelope", **extra
    )


def check(response, status: int, project) -> None:
    """The expected status; a JSON detail with every refusal; a 200 means the event (if any) is stored."""
    assert response.status_code == status, (response.status_code, response.content)
    body = response.json()
    if status == 200:
        if "id" in body:
            assert Event.objects.filter(project=project, event_id=body["id"]).exists()
    else:
        assert isinstance(body.get("detail"), str) and body["detail"], body


# --- the envelope header: key only in its `dsn` -----------------------------------------------------------------

DSN_CASES = {
    # the original report: a lone surrogate where the key goes, no auth header, answered 500
    "dsn-surrogate-key": (b'{"dsn": "http://%s@127.0.0.1/1"}' % SURROGATE.encode(), 403),
    "dsn-surrogate-only": (b'{"dsn": "%s"}' % SURROGATE.encode(), 401),
    "dsn-surrogate-key-and-nul": (b'{"dsn": "http://\\u0000%s@h/1"}' % SURROGATE.encode(), 403),
    "dsn-nul-key": (b'{"dsn": "http://\\u0000@h/1"}', 403),
    "dsn-latin1-key": (b'{"dsn": "http://\\u00e9t\\u00e9@h/1"}', 403),
    "dsn-int": (b'{"dsn": 12345}', 401),
    "dsn-negative": (b'{"dsn": -1}', 401),
    "dsn-float": (b'{"dsn": 1.5}', 401),
    "dsn-infinite": (b'{"dsn": 1e999}', 401),
    "dsn-big-int": (b'{"dsn": %s}' % (b"9" * 4000), 401),
    "dsn-int-too-big-to-parse": (b'{"dsn": %s}' % (b"9" * 5000), 400),
    "dsn-true": (b'{"dsn": true}', 401),
    "dsn-null": (b'{"dsn": null}', 401),
    "dsn-list": (b'{"dsn": ["http://k@h/1"]}', 401),
    "dsn-object": (b'{"dsn": {"user": "k"}}', 401),
    "dsn-bad-ipv6": (b'{"dsn": "http://k@[::1/1"}', 401),
    "dsn-bad-port": (b'{"dsn": "http://k@h:999999999/1"}', 403),
    "dsn-empty": (b'{"dsn": ""}', 401),
    "dsn-right-key-surrogate-path": (b'{"dsn": "http://{key}@h/%s"}' % SURROGATE.encode(), 200),
}


@pytest.mark.parametrize("header,status", DSN_CASES.values(), ids=DSN_CASES.keys())
def test_envelope_dsn(client, project, header, status):
    check(post(client, project, with_event(header.replace(b"{key}", project.sentry_key.encode()))), status, project)


# --- the envelope header's other members, with the key in the query string ----------------------------------------

HEADER_CASES = {
    "event-id-surrogates": (b'{"event_id": "%s"}' % (SURROGATE.encode() * 32), 200),
    "event-id-nuls": (b'{"event_id": "%s"}' % (b"\\u0000" * 32), 200),
    "event-id-int": (b'{"event_id": 123}', 200),
    "event-id-huge-int": (b'{"event_id": %s}' % (b"1" * 4000), 200),
    "event-id-float": (b'{"event_id": -1.5e308}', 200),
    "event-id-bool": (b'{"event_id": true}', 200),
    "event-id-object": (b'{"event_id": {"hex": "%s"}}' % uuid.uuid4().hex.encode(), 200),
    "event-id-list": (b'{"event_id": ["a"]}', 200),
    "sent-at-surrogate": (b'{"sent_at": "%s"}' % SURROGATE.encode(), 200),
    "sdk-nested": (b'{"sdk": {"name": "%s", "version": [[[{}]]]}}' % SURROGATE.encode(), 200),
    "trace-nul": (b'{"trace": "\\u0000"}', 200),
    "surrogate-member-name": (b'{"%s": 1}' % SURROGATE.encode(), 200),
    "many-members": (json.dumps({f"m{i}": i for i in range(3000)}).encode(), 200),
    "duplicate-members": (b'{"dsn": 1, "dsn": "x", "event_id": 1, "event_id": null}', 200),
    "list": (b"[]", 400),
    "string": (b'"%s"' % SURROGATE.encode(), 400),
    "number": (b"1e999", 400),
    "null": (b"null", 400),
    "raw-nul-byte": (b'{"a": "\x00"}', 400),
    "utf8-encoded-surrogate": (b'{"a": "\xed\xa0\x80"}', 200),  # json.loads decodes bytes with surrogatepass
    "invalid-utf8": (b'{"a": "\xff"}', 400),
    "deep-nesting": (b'{"a": ' + b"[" * 30_000 + b"]" * 30_000 + b"}", 400),
    "too-long": (b'{"a": "%s"}' % (b"x" * 70_000), 400),
}


@pytest.mark.parametrize("header,status", HEADER_CASES.values(), ids=HEADER_CASES.keys())
def test_envelope_header_member(client, project, header, status):
    check(post(client, project, with_event(header), query="sentry_key={key}"), status, project)


# --- item headers -------------------------------------------------------------------------------------------------


def typed(item_type: bytes, length: bytes | None = None, more: bytes = b"") -> bytes:
    header = b'{"type": %s' % item_type
    if length is not None:
        header += b', "length": %s' % length
    return header + more + b"}"


ITEM_CASES = {
    "type-surrogate": (typed(b'"%s"' % SURROGATE.encode()), 200),
    "type-nul": (typed(b'"event\\u0000"'), 200),
    "type-int": (typed(b"5"), 200),
    "type-huge-int": (typed(b"9" * 4000), 200),
    "type-float": (typed(b"1e999"), 200),
    "type-bool": (typed(b"false"), 200),
    "type-null": (typed(b"null"), 200),
    "type-list": (typed(b'["event"]'), 200),
    "type-object": (typed(b'{"event": {"event": []}}'), 200),
    "length-negative": (typed(b'"event"', b"-1"), 400),
    "length-float": (typed(b'"event"', b"10.0"), 400),
    "length-infinite": (typed(b'"event"', b"1e999"), 400),
    "length-bool": (typed(b'"event"', b"true"), 400),
    "length-string": (typed(b'"event"', b'"10"'), 400),
    "length-surrogate": (typed(b'"event"', b'"%s"' % SURROGATE.encode()), 400),
    "length-list": (typed(b'"event"', b"[10]"), 400),
    "length-object": (typed(b'"event"', b'{"n": 10}'), 400),
    "length-huge-event": (typed(b'"event"', b"9" * 4000), 413),
    "length-huge-dropped": (typed(b'"attachment"', b"9" * 4000), 400),
    "length-too-big-to-parse": (typed(b'"event"', b"9" * 5000), 400),
    "content-type-surrogate": (typed(b'"event"', more=b', "content_type": "%s"' % SURROGATE.encode()), 200),
    "filename-nested": (typed(b'"event"', more=b', "filename": {"a": [1, {"b": null}]}'), 200),
    "attachment-type-nul": (typed(b'"event"', more=b', "attachment_type": "\\u0000"'), 200),
    "item-count-negative": (typed(b'"event"', more=b', "item_count": -1e308'), 200),
    "item-header-list": (b'[{"type": "event"}]', 400),
    "item-header-surrogate-string": (b'"%s"' % SURROGATE.encode(), 400),
    "item-header-too-long": (typed(b'"event"', more=b', "pad": "%s"' % (b"x" * 20_000)), 400),
}


@pytest.mark.parametrize("item_header,status", ITEM_CASES.values(), ids=ITEM_CASES.keys())
def test_item_header_member(client, project, item_header, status):
    check(post(client, project, with_item_header(item_header), query="sentry_key={key}"), status, project)


# --- the auth header, the query string, the request line and HTTP headers ----------------------------------------

REQUEST_CASES = {
    "auth-nul-key": ({"HTTP_X_SENTRY_AUTH": "Sentry sentry_key=\x00"}, "", 403),
    "auth-latin1-key": ({"HTTP_X_SENTRY_AUTH": "Sentry sentry_key=\xe9\xff"}, "", 403),
    "auth-long-key": ({"HTTP_X_SENTRY_AUTH": "Sentry sentry_key=" + "a" * 10_000}, "", 403),
    "auth-no-value": ({"HTTP_X_SENTRY_AUTH": "Sentry sentry_key"}, "", 401),
    "auth-only-separators": ({"HTTP_X_SENTRY_AUTH": "Sentry ,,,=,==,"}, "", 401),
    "auth-empty-quoted": ({"HTTP_X_SENTRY_AUTH": 'Sentry sentry_key=""'}, "", 401),
    "auth-junk-members": (
        {"HTTP_X_SENTRY_AUTH": "Sentry sentry_key={key}, sentry_version=\x00\xff, sentry_client={}, =x"},
        "",
        200,
    ),
    "authorization-nul": ({"HTTP_AUTHORIZATION": "Sentry sentry_key=\x00\x00"}, "", 403),
    "query-invalid-utf8-key": ({}, "sentry_key=%ED%A0%80", 403),
    "query-nul-key": ({}, "sentry_key=%00", 403),
    "query-key-as-list": ({}, "sentry_key[]=x", 401),
    "query-junk-version": ({}, "sentry_key={key}&sentry_version=%FF%00&sentry_client=%ED%A0%80", 200),
    "query-too-many-fields": ({}, "sentry_key={key}&" + "&".join(f"f{i}=1" for i in range(1100)), 400),
    "content-encoding-nul": ({"HTTP_CONTENT_ENCODING": "gzip\x00"}, "sentry_key={key}", 400),
    "content-encoding-latin1": ({"HTTP_CONTENT_ENCODING": "\xe9"}, "sentry_key={key}", 400),
    "content-encoding-many": ({"HTTP_CONTENT_ENCODING": "gzip," * 1000}, "sentry_key={key}", 400),
    "content-length-float": ({"CONTENT_LENGTH": "1e3"}, "sentry_key={key}", 400),
    "content-length-huge": ({"CONTENT_LENGTH": "9" * 40}, "sentry_key={key}", 413),
    "content-length-negative": ({"CONTENT_LENGTH": "-5"}, "sentry_key={key}", 400),
    "content-length-nul": ({"CONTENT_LENGTH": "\x00"}, "sentry_key={key}", 400),
}


@pytest.mark.parametrize("extra,query,status", REQUEST_CASES.values(), ids=REQUEST_CASES.keys())
def test_request_member(client, project, extra, query, status):
    extra = {name: value.replace(KEY, project.sentry_key) for name, value in extra.items()}
    check(post(client, project, with_event(b"{}"), query=query, **extra), status, project)


@pytest.mark.parametrize(
    "project_id", ["%ED%A0%80", "%00", "9" * 40, "-1", "1.5", "%C2%B2", "1e3"], ids=lambda p: p[:10]
)
def test_project_id_in_path(client, project, project_id):
    response = post(client, project, with_event(b"{}"), query="sentry_key={key}", path=f"/api/{project_id}/envelope/")
    check(response, 404, project)


def test_store_body_members(client, project):
    """The legacy endpoint reads the same kind of values from its JSON body."""
    body = b'{"event_id": "%s", "platform": {"x": 1}, "message": "%s"}' % (SURROGATE.encode() * 32, SURROGATE.encode())
    response = client.generic(
        "POST", f"/api/{project.pk}/store/?sentry_key={project.sentry_key}", data=body, content_type="application/json"
    )
    check(response, 200, project)


# --- through the live server: the log shows no traceback ----------------------------------------------------------


@pytest.fixture
def live_server_log(live_server_url, tmp_path_factory):
    """The log file of the session's live server (conftest's live_server_url)."""
    logs = sorted(tmp_path_factory.getbasetemp().glob("live[0-9]*/*.log"))
    assert len(logs) == 1, logs
    return logs[0]


def raw_exchange(url: str, request: bytes) -> bytes:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        for _ in range(1000):  # bounded: the server closes after its answer (Connection: close)
            data = sock.recv(65536)
            if not data:
                break
            received += data
        return received


def http_post(project, body: bytes, query: str = "", headers: dict | None = None) -> bytes:
    query = query.replace(KEY, project.sentry_key)
    lines = [f"POST /api/{project.pk}/envelope/{'?' + query if query else ''} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    lines += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1") + body


LIVE_CASES = {
    "dsn-surrogate-key": (with_event(DSN_CASES["dsn-surrogate-key"][0]), "", {}, 403),
    "dsn-object": (with_event(DSN_CASES["dsn-object"][0]), "", {}, 401),
    "event-id-surrogates": (with_event(HEADER_CASES["event-id-surrogates"][0]), "sentry_key={key}", {}, 200),
    "header-invalid-utf8": (with_event(HEADER_CASES["invalid-utf8"][0]), "sentry_key={key}", {}, 400),
    "length-huge-event": (with_item_header(ITEM_CASES["length-huge-event"][0]), "sentry_key={key}", {}, 413),
    "type-object": (with_item_header(ITEM_CASES["type-object"][0]), "sentry_key={key}", {}, 200),
    "auth-latin1-key": (with_event(b"{}"), "", {"X-Sentry-Auth": "Sentry sentry_key=\xe9\xff"}, 403),
    "query-invalid-utf8-key": (with_event(b"{}"), "sentry_key=%ED%A0%80", {}, 403),
    "content-encoding-latin1": (with_event(b"{}"), "sentry_key={key}", {"Content-Encoding": "\xe9"}, 400),
}


@pytest.mark.live
@pytest.mark.parametrize("body,query,headers,status", LIVE_CASES.values(), ids=LIVE_CASES.keys())
def test_live_server(live_server_url, live_server_log, transactional_db, body, query, headers, status):
    project = Project.objects.create(name="Hostile")
    offset = live_server_log.stat().st_size
    raw = raw_exchange(live_server_url, http_post(project, body, query, headers))
    head, _, content = raw.partition(b"\r\n\r\n")
    assert int(head.split(b" ", 2)[1]) == status, raw[:2000]
    answer = json.loads(content)
    assert ("detail" in answer) is (status != 200), answer
    with open(live_server_log, "rb") as f:
        f.seek(offset)
        written = f.read().decode(errors="replace")
    for sign in ("Traceback", "Internal Server Error", "Logging error"):
        assert sign not in written, written
