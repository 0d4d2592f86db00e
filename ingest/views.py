"""The HTTP side of the Sentry protocol: POST /api/<id>/envelope/ and /api/<id>/store/ (also under a DSN prefix), and
browsers' security reports at /api/<id>/security/?sentry_key=<key> (ingest.security)."""

import base64
import binascii
import json
import logging
import uuid
import zlib
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from events.safe import loads_json
from events.scrub import sender_address
from ingest import item_streams, project_cache, quota, raw
from ingest.auth import key_matches, sentry_key_from_request
from ingest.envelope import max_event_size, read_envelope_headers, read_envelope_items
from ingest.errors import (
    BadRequest,
    Forbidden,
    IngestError,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    UnsupportedMediaType,
)
from ingest.intake import accept_event
from ingest.not_kept import rate_limits_for
from ingest.project_cache import IngestProject
from ingest.refusals import record_refusal
from ingest.security import security_events
from ingest.streams import FramedReader, LimitedReader, decompressing_reader

logger = logging.getLogger(__name__)

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "x-sentry-error, x-sentry-rate-limits, retry-after",
}
PREFLIGHT_HEADERS = {
    **CORS_HEADERS,
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": (
        "x-sentry-auth, x-requested-with, x-forwarded-for, origin, referer, accept, content-type, "
        "authentication, authorization, content-encoding, transfer-encoding, sentry-trace, baggage"
    ),
    "Access-Control-Max-Age": "3600",
}


def _respond(payload: dict, status: int = 200, extra_headers: dict | None = None) -> HttpResponse:
    # what JsonResponse does, minus its DjangoJSONEncoder (our payloads are plain JSON): once per accepted event
    response = HttpResponse(json.dumps(payload), status=status, content_type="application/json")
    for name, value in {**CORS_HEADERS, **(extra_headers or {})}.items():
        response[name] = value
    return response


def _header_safe(text: str, limit: int = 200) -> str:
    """The detail may quote client input: Django raises on a newline in a header (a 500), MIME-encodes non-latin-1."""
    return "".join(c if " " <= c <= "~" else "?" for c in text[:limit])


def _error(error: IngestError) -> HttpResponse:
    # a flood of 429s is not logged one by one: ingest.quota warns once per full window
    logger.log(
        logging.DEBUG if error.status == 429 else logging.INFO, "ingest refused (%s): %s", error.status, error.detail
    )
    headers = {"X-Sentry-Error": _header_safe(error.detail), **getattr(error, "headers", {})}
    return _respond({"detail": error.detail}, status=error.status, extra_headers=headers)


MAX_PROJECT_ID = 2**63 - 1  # a bigger number than the database's integer is no project, not a database error


def _get_project(project_id: str) -> IngestProject:
    # str.isdigit() is also true for "²" and "١", which int() rejects or reads as another number
    if not (project_id.isascii() and project_id.isdigit()) or int(project_id) > MAX_PROJECT_ID:
        raise NotFound(f"unknown project {project_id[:40]!r}: project ids are integers")
    project = project_cache.get(int(project_id))
    if project is None:
        raise NotFound(f"unknown project {project_id}")
    return project


@dataclass
class Intake:
    """One request's project, and whether the request proved the project's key (only then is a refusal counted)."""

    project: IngestProject
    key_verified: bool = False


def _authenticate(request, intake: Intake, envelope_headers: dict | None = None) -> None:
    key = sentry_key_from_request(request, envelope_headers)
    if not key:
        raise Unauthorized("missing sentry_key: send it in X-Sentry-Auth, ?sentry_key= or the envelope's dsn")
    if not key_matches(intake.project, key):
        raise Forbidden("invalid sentry_key for this project")
    intake.key_verified = True


def _raw_body(request, limit: int, what: str) -> LimitedReader:
    content_length = request.META.get("CONTENT_LENGTH")
    if content_length:
        try:
            length = int(content_length)
        except ValueError:
            raise BadRequest(f"invalid Content-Length: {content_length!r}") from None
        if length > limit:
            raise PayloadTooLarge(f"{what} exceeds {limit} bytes", size=length)
        return LimitedReader(request, limit, what, content_length=length)
    if request.META.get("wsgi.input_terminated"):
        # Transfer-Encoding: chunked with no Content-Length (@sentry/node): the server de-chunks wsgi.input for
        # us, while Django's request stream would read nothing.
        return LimitedReader(request.META["wsgi.input"], limit, what)
    return LimitedReader(request, limit, what, content_length=0)


def _event_id(envelope_headers: dict, event: dict) -> str:
    for candidate in (envelope_headers.get("event_id"), event.get("event_id")):
        if isinstance(candidate, str):
            compact = candidate.replace("-", "").strip().lower()
            if len(compact) == 32:
                try:
                    return uuid.UUID(hex=compact).hex
                except ValueError:
                    pass
    # no usable id: the event is still kept, under one of our own
    return uuid.uuid4().hex


def _parse_event(payload: bytes) -> dict:
    try:
        event = loads_json(payload)
    except ValueError as e:
        raise BadRequest(f"malformed event JSON: {e}") from e
    except RecursionError as e:
        raise BadRequest("malformed event JSON: nested too deeply") from e
    if not isinstance(event, dict):
        raise BadRequest("malformed event JSON: not an object")
    return event


def _accept(
    request, project: IngestProject, envelope_headers: dict, payload: bytes, items=(), counted: bool = False
) -> HttpResponse:
    """Keep one event; its quota is consumed here unless the caller `counted` it already."""
    event = _parse_event(payload)
    event_id = _event_id(envelope_headers, event)
    # counts this event, or raises QuotaExceeded (a 429)
    consumed = quota.Consumed([], 0.0, 0) if counted else quota.consume(project)
    try:
        accept_event(
            project_id=project.pk,
            event_id=event_id,
            payload=payload,
            received_at=raw.clock(),
            remote_addr=sender_address(request.META.get("REMOTE_ADDR", ""), project.scrub_ip_addresses),
            items=list(items),
        )
    except BaseException:
        quota.release(consumed)
        raise
    return _respond({"id": event_id})


def _accept_items(request, project: IngestProject, envelope_headers: dict, items) -> HttpResponse:
    """Attachments or user feedback without an event (sent after it, or feedback of its own): kept like an event
    (durably, then digest links them), not counted against the event quota."""
    event_id = _event_id(envelope_headers, {})
    accept_event(
        project_id=project.pk,
        event_id=event_id,
        payload=b"",
        received_at=raw.clock(),
        remote_addr=sender_address(request.META.get("REMOTE_ADDR", ""), project.scrub_ip_addresses),
        items=list(items),
    )
    return _respond({"id": event_id})


def _ingest(request, project_id: str, handler):
    if request.method == "OPTIONS":
        response = HttpResponse(status=200, content_type="text/plain")  # no document: no CSP to carry
        for name, value in PREFLIGHT_HEADERS.items():
            response[name] = value
        return response
    try:
        if request.method != "POST":
            return _respond(
                {"detail": f"{request.method} is not allowed here; POST events"},
                status=405,
                extra_headers={"Allow": "POST, OPTIONS"},
            )
        intake = Intake(_get_project(project_id))
        try:
            return handler(request, intake)
        except PayloadTooLarge as e:
            record_refusal(intake.project.pk, e, counted=intake.key_verified)
            raise
    except IngestError as e:
        return _error(e)
    except SuspiciousOperation as e:  # e.g. too many query string fields: Django would answer with an HTML 400
        return _error(BadRequest(f"bad request: {e.__class__.__name__}"))


def _stream_category(raw_item) -> str:
    """The quota category of a kept stream item ("" for items no quota applies to: markers, client reports)."""
    if raw_item.headers.get("dropped"):
        return ""
    stream = item_streams.stream_for(raw_item.headers.get("type", ""))
    if stream is None or stream.category not in quota.STREAM_SETTINGS:
        return ""
    return stream.category


def _apply_stream_quotas(project, kept: list) -> tuple[list, list[quota.Consumed], list[quota.QuotaExceeded]]:
    """Each stream category of the envelope against its own quota: the items of a full category are left out (the
    quota counts them as refused), the others are counted. Returns the items to keep, what was counted, the refusals.
    """
    quantities: dict[str, int] = {}
    for raw_item in kept:
        category = _stream_category(raw_item)
        if category:
            quantities[category] = quantities.get(category, 0) + item_streams.item_quantity(raw_item.headers)
    consumed, refused, full = [], [], set()
    try:
        for category, amount in quantities.items():
            try:
                consumed.append(quota.consume(project, category, amount))
            except quota.QuotaExceeded as e:
                refused.append(e)
                full.add(category)
    except BaseException:
        for done in consumed:
            quota.release(done)
        raise
    if full:
        kept = [raw_item for raw_item in kept if _stream_category(raw_item) not in full]
    return kept, consumed, refused


def _handle_envelope(request, intake: Intake) -> HttpResponse:
    """An envelope may hold items of every category, each with a quota of its own: it is read (within its size
    limits) before any quota is asked. A full category's items are left out and named in X-Sentry-Rate-Limits; the
    answer is a 429 only when nothing at all was accepted."""
    project = intake.project
    key_before_body = sentry_key_from_request(request) is not None
    if key_before_body:
        _authenticate(request, intake)
    raw = _raw_body(request, settings.MAX_ENVELOPE_COMPRESSED_SIZE, "envelope")
    reader = FramedReader(
        decompressing_reader(raw, request.META.get("HTTP_CONTENT_ENCODING", "")),
        settings.MAX_ENVELOPE_SIZE,
        "envelope",
    )
    headers = read_envelope_headers(reader)
    if not key_before_body:
        _authenticate(request, intake, headers)
    items = read_envelope_items(reader)
    kept, consumed, refused = _apply_stream_quotas(project, items.kept)
    try:
        response = None
        if items.event is not None:
            try:
                response = _accept(request, project, headers, items.event, kept)
            except quota.QuotaExceeded as e:
                refused.append(e)
                # the event's attachments and feedback go with it; the streams' items stay
                kept = [raw_item for raw_item in kept if item_streams.stream_for(raw_item.headers.get("type", ""))]
        if response is None:
            if kept:
                response = _accept_items(request, project, headers, kept)
            elif refused:
                raise quota.QuotaExceeded.combine(refused)
            else:
                response = _respond({})
    except BaseException:
        for done in consumed:
            quota.release(done)
        raise
    # full categories, and the types we do not keep (ingest.not_kept): the SDK is told to stop sending them
    limits = [error.rate_limits for error in refused]
    not_kept = rate_limits_for(items.item_types).get("X-Sentry-Rate-Limits")
    if not_kept:
        limits.append(not_kept)
    if limits:
        response["X-Sentry-Rate-Limits"] = ", ".join(limits)
    return response


def _decode_legacy_body(body: bytes) -> bytes:
    """raven clients send base64(zlib(JSON)) or base64(JSON) to /store/."""
    if body.lstrip()[:1] in (b"{", b"["):
        return body
    try:
        decoded = base64.b64decode(body.strip(), validate=False)
    except (binascii.Error, ValueError):
        return body  # not base64 either: let the JSON parser say what is wrong
    if decoded[:1] == b"\x78":
        limit = max_event_size()
        decompressor = zlib.decompressobj()
        try:
            out = decompressor.decompress(decoded, limit + 1)
        except zlib.error as e:
            raise BadRequest(f"invalid zlib data in base64 body: {e}") from e
        if len(out) > limit or decompressor.unconsumed_tail:
            raise PayloadTooLarge(f"event exceeds {limit} bytes", size=len(out))
        if not decompressor.eof:
            raise BadRequest("truncated zlib data in base64 body")
        return out
    return decoded


def _handle_store(request, intake: Intake) -> HttpResponse:
    project = intake.project
    _authenticate(request, intake)
    quota.check(project)  # before the body is read
    raw = _raw_body(request, settings.MAX_STORE_COMPRESSED_SIZE, "store body")
    reader = FramedReader(
        decompressing_reader(raw, request.META.get("HTTP_CONTENT_ENCODING", "")), max_event_size(), "event"
    )
    body = reader.read_rest()
    if not body.strip():
        raise BadRequest("empty body")
    return _accept(request, project, {}, _decode_legacy_body(body))


@csrf_exempt
def envelope(request, project_id: str):
    return _ingest(request, project_id, _handle_envelope)


@csrf_exempt
def store(request, project_id: str):
    return _ingest(request, project_id, _handle_store)


# report-uri sends application/csp-report, report-to application/reports+json; scripts may send plain JSON
SECURITY_CONTENT_TYPES = ("application/csp-report", "application/reports+json", "application/json", "")
MAX_SECURITY_REPORT_SIZE = 1024 * 1024  # decompressed; a report is a few KiB, a report-to batch a few hundred


def _handle_security(request, intake: Intake) -> HttpResponse:
    """A browser's CSP report: each violation is accepted as an event (quota, durable raw store, digest), as an
    SDK's would be. The key comes in the query string (the report URI); browsers send no credentials."""
    project = intake.project
    _authenticate(request, intake)
    quota.check(project, quota.SECURITY)  # before the body is read
    content_type = request.META.get("CONTENT_TYPE", "").partition(";")[0].strip().lower()
    if content_type not in SECURITY_CONTENT_TYPES:
        raise UnsupportedMediaType(
            f"unsupported Content-Type {content_type[:80]!r}: send application/csp-report, application/reports+json"
            " or application/json"
        )
    raw = _raw_body(request, settings.MAX_STORE_COMPRESSED_SIZE, "security report")
    reader = FramedReader(
        decompressing_reader(raw, request.META.get("HTTP_CONTENT_ENCODING", "")),
        MAX_SECURITY_REPORT_SIZE,
        "security report",
    )
    body = reader.read_rest()
    if not body.strip():
        raise BadRequest("empty body")
    events = security_events(
        body,
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        release=request.GET.get("sentry_release", ""),
        environment=request.GET.get("sentry_environment", ""),
    )
    # a report-to batch is counted as a whole: all of its reports are accepted, or the answer is a 429
    consumed = quota.consume(project, quota.SECURITY, len(events))
    try:
        for event in events:
            _accept(request, project, {}, json.dumps(event).encode(), counted=True)
    except BaseException:
        quota.release(consumed)
        raise
    return _respond({"ids": [event["event_id"] for event in events]})


@csrf_exempt
def security(request, project_id: str):
    return _ingest(request, project_id, _handle_security)
