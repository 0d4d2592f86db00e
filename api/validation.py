"""Reading clients' JSON bodies defensively: every field checked for its type and length, every failure a 400 with
a `detail` that says which field and why."""

from datetime import datetime

from django.db.models import Q
from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import ValidationError

from bugsink.links import HTTP_URL_RULE, is_http_url
from projects.access import visible_projects
from releases.naming import release_name_problem


def holds_nul(value, depth: int = 0) -> bool:
    """Whether a NUL character is anywhere in a JSON value: PostgreSQL refuses it in text and in jsonb."""
    if isinstance(value, str):
        return "\x00" in value
    if depth > 32:
        return True  # deeper than any body of ours: refused as well
    if isinstance(value, dict):
        return any(holds_nul(k, depth + 1) or holds_nul(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return any(holds_nul(v, depth + 1) for v in value)
    return False


def request_object(request) -> dict:
    data = request.data
    if not isinstance(data, dict):
        raise ValidationError({"detail": "The body must be a JSON object."})
    if holds_nul(data):
        raise ValidationError({"detail": "NUL characters (and nesting deeper than 32) are not accepted."})
    return data


def validate_version(value) -> str:
    """A release version from a request body, by the rules ingest keeps too (releases.naming)."""
    if value is None:
        raise ValidationError({"detail": "version is required (a string)."})
    problem = release_name_problem(value)
    if problem is not None:
        raise ValidationError({"detail": f"Invalid version: {problem}."})
    return value


def optional_string(data: dict, field: str, max_length: int) -> str | None:
    value = data.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError({"detail": f"{field} must be a string."})
    if len(value) > max_length:
        raise ValidationError({"detail": f"{field} may have at most {max_length} characters."})
    return value.replace("\x00", "")


def optional_http_url(data: dict, field: str, max_length: int) -> str | None:
    """A URL a page will show as a link (a release's, a deploy's): http(s) only (bugsink.links); "" clears it."""
    value = optional_string(data, field, max_length)
    if value and not is_http_url(value):
        raise ValidationError({"detail": f"{field} must be {HTTP_URL_RULE}."})
    return value


def optional_datetime(data: dict, field: str) -> datetime | None:
    value = data.get(field)
    if value is None:
        return None
    parsed = None
    if isinstance(value, str) and len(value) <= 64:
        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise ValidationError({"detail": f"{field} must be a date and time with a time zone (ISO 8601)."})
    return parsed


def parse_project_refs(request, value) -> list:
    """The projects a body names (slugs or ids, as sentry-cli sends them) that the user may see; any other is a
    400, as Sentry answers."""
    if not isinstance(value, list) or not value:
        raise ValidationError({"detail": "projects is required: a list of project slugs or ids."})
    if len(value) > 100:
        raise ValidationError({"detail": "At most 100 projects per request."})
    match = Q(pk__in=[])
    for ref in value:
        if isinstance(ref, bool) or not isinstance(ref, str | int):
            raise ValidationError({"detail": "projects must hold project slugs or ids."})
        ref = str(ref)
        match |= Q(slug=ref[:100])
        if ref.isdigit() and len(ref) < 18:
            match |= Q(pk=int(ref))
    projects = list(visible_projects(request.user).filter(match).order_by("pk"))
    known = {p.slug for p in projects} | {str(p.pk) for p in projects}
    unknown = [str(ref) for ref in value if str(ref) not in known]
    if unknown:
        raise ValidationError({"detail": f"Invalid project ids or slugs: {', '.join(unknown[:10])}"})
    return projects
