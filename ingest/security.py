"""Browser security reports (Content-Security-Policy violations) as events.

Browsers POST them to a CSP's `report-uri` (`application/csp-report`: `{"csp-report": {"blocked-uri": ..., ...}}`)
or to a `report-to` endpoint (`application/reports+json`: a list of `{"type": "csp-violation", "body": {"blockedURL":
..., ...}}`). Each violation becomes an ordinary event, so it is kept, grouped, counted, muted and alerted on like
any other: titled by what was blocked ("Blocked 'script' from 'cdn.example'"), grouped (by its fingerprint) by the
effective directive and the blocked origin, so that one misconfigured CDN is one issue however many pages report it.
Pure: no database, no request; the intake view calls `security_events`.
"""

import uuid
from urllib.parse import urlsplit

from events.safe import clean_str, loads_json, safe_int
from ingest.errors import BadRequest

MAX_REPORTS = 100  # violations per request (a report-to batch); more is refused
MAX_FIELD_CHARS = 4096

# report-to's camelCase body fields, by the report-uri name the event keeps
REPORT_TO_FIELDS = {
    "documentURL": "document-uri",
    "referrer": "referrer",
    "blockedURL": "blocked-uri",
    "effectiveDirective": "effective-directive",
    "originalPolicy": "original-policy",
    "sourceFile": "source-file",
    "sample": "script-sample",
    "disposition": "disposition",
    "statusCode": "status-code",
    "lineNumber": "line-number",
    "columnNumber": "column-number",
}
REPORT_URI_FIELDS = (
    "document-uri",
    "referrer",
    "blocked-uri",
    "violated-directive",
    "effective-directive",
    "original-policy",
    "source-file",
    "script-sample",
    "disposition",
    "status-code",
    "line-number",
    "column-number",
)
# what a directive governs, as the title names it (script-src-elem and script-src-attr are scripts too)
KINDS = {
    "img": "image",
    "script": "script",
    "style": "style",
    "font": "font",
    "connect": "connect",
    "media": "media",
    "object": "object",
    "frame": "frame",
    "child": "child",
    "worker": "worker",
    "manifest": "manifest",
    "prefetch": "prefetch",
    "default": "default",
}
# blocked-uri values that are keywords, not addresses
INLINE, EVAL, WASM_EVAL = "inline", "eval", "wasm-eval"
SCHEMES = ("data", "blob", "filesystem", "about", "mediastream", "ws", "wss")


def _field(value) -> str:
    if isinstance(value, str):
        return clean_str(value[:MAX_FIELD_CHARS]).strip()
    number = safe_int(value)
    return str(number) if number is not None else ""


def _directive(report: dict) -> str:
    directive = report.get("effective-directive") or report.get("violated-directive") or ""
    return directive.split()[0].lower()[:64] if directive.split() else ""


def _kind(directive: str) -> str:
    for suffix in ("-src-elem", "-src-attr", "-src"):
        if directive.endswith(suffix):
            return KINDS.get(directive.removesuffix(suffix), directive.removesuffix(suffix))
    return directive or "resource"


def _host(url: str) -> str:
    try:
        parts = urlsplit(url)
        return (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    except ValueError:
        return ""


def blocked_origin(report: dict) -> str:
    """What was blocked, as the title and the grouping name it: 'inline', 'eval', 'wasm-eval', 'self', a scheme
    ('data:'), or the blocked address's host (and port): the path and query vary per page, the origin does not."""
    blocked = report.get("blocked-uri", "")
    lowered = blocked.lower().strip("'")
    if lowered in (INLINE, EVAL, WASM_EVAL, "self", ""):
        return lowered or "self"
    scheme = lowered.partition(":")[0]
    if scheme in SCHEMES and (":" in lowered or lowered == scheme):
        return f"{scheme}:"
    host = _host(blocked)
    if host and host == _host(report.get("document-uri", "")):
        return "self"
    return host or blocked[:200]


def title(directive: str, origin: str) -> str:
    kind = _kind(directive)
    if origin == INLINE:
        return f"Blocked unsafe inline '{kind}'"
    if origin == EVAL:
        return f"Blocked unsafe eval() '{kind}'"
    if origin == WASM_EVAL:
        return f"Blocked unsafe WebAssembly eval '{kind}'"
    return f"Blocked '{kind}' from '{origin}'"


def _reports(document) -> list[dict]:
    """The violations of a request body, each as {report-uri field name: text}."""
    if isinstance(document, dict) and isinstance(document.get("csp-report"), dict):
        raw = document["csp-report"]
        return [{name: _field(raw.get(name)) for name in REPORT_URI_FIELDS if raw.get(name) is not None}]
    entries = document if isinstance(document, list) else [document]
    if len(entries) > MAX_REPORTS:
        raise BadRequest(f"more than {MAX_REPORTS} reports in one request")
    reports = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("body"), dict):
            raise BadRequest('not a CSP report: expected {"csp-report": {...}} or a list of report-to reports')
        if entry.get("type") != "csp-violation":
            continue  # other report types (deprecation, intervention, ...) are not security reports
        body = entry["body"]
        report = {name: _field(body.get(key)) for key, name in REPORT_TO_FIELDS.items() if body.get(key) is not None}
        if "document-uri" not in report and isinstance(entry.get("url"), str):
            report["document-uri"] = _field(entry["url"])
        if isinstance(entry.get("user_agent"), str):
            report["user-agent"] = _field(entry["user_agent"])
        reports.append(report)
    return reports


def security_events(body: bytes, *, user_agent: str = "", release: str = "", environment: str = "") -> list[dict]:
    """The events of a security report body; BadRequest for what is not one."""
    try:
        document = loads_json(body)
    except (ValueError, RecursionError, UnicodeDecodeError) as e:
        raise BadRequest(f"malformed security report: not JSON ({str(e)[:100]})") from None
    events = []
    for report in _reports(document):
        directive = _directive(report)
        if not directive:
            raise BadRequest("a CSP report without effective-directive or violated-directive")
        origin = blocked_origin(report)
        agent = report.pop("user-agent", "") or user_agent
        headers = {"User-Agent": agent} if agent else {}
        if report.get("referrer"):
            headers["Referer"] = report["referrer"]
        event = {
            "event_id": uuid.uuid4().hex,
            "platform": "javascript",
            "level": "error",
            "logger": "csp",
            "logentry": {"formatted": title(directive, origin)},
            "culprit": directive,
            "fingerprint": ["csp", directive, origin],
            "tags": {"effective-directive": directive, "blocked-origin": origin},
            "request": {"url": report.get("document-uri", ""), "headers": headers},
            "contexts": {"csp": {"type": "csp", **report}},
        }
        if release:
            event["release"] = release[:250]
        if environment:
            event["environment"] = environment[:64]
        events.append(event)
    if not events:
        raise BadRequest("no CSP violation in this report")
    return events
