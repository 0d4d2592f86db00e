"""The answer to a request Django refuses before or outside our views: a 400 that says why, in JSON under the APIs.

Django turns its SuspiciousOperation family (a request with more than DATA_UPLOAD_MAX_NUMBER_FIELDS query or form
fields, a body over DATA_UPLOAD_MAX_MEMORY_SIZE, a Host header not in ALLOWED_HOSTS, ...) and BadRequest into a
400 through `handler400` (bugsink/urls.py). A script or an SDK reads the API's `{"detail": ...}`; a browser gets
Django's own page. The log gets one line per refusal (bugsink.logfilters.OneLineWarning), not a traceback.
"""

import re

from django.conf import settings
from django.core.exceptions import (
    DisallowedHost,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import JsonResponse
from django.views import defaults

# the ingest endpoints, under any DSN path prefix (bugsink/urls.py); the web API
_INGEST_PATH = re.compile(r"/api/[^/]+/(?:envelope|store)/?$")
_API_PREFIX = "/api/"
MAX_DETAIL_CHARS = 300


def is_api_path(path: str) -> bool:
    return (path or "").startswith(_API_PREFIX) or bool(_INGEST_PATH.search(path or ""))


def refusal_detail(exception) -> str:
    """Why the request was refused, for the client."""
    if isinstance(exception, TooManyFieldsSent):
        return (
            f"Too many query or form fields: at most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} are accepted "
            "(a bulk request takes at most that many ids)."
        )
    if isinstance(exception, TooManyFilesSent):
        return f"Too many files: at most {settings.DATA_UPLOAD_MAX_NUMBER_FILES} are accepted."
    if isinstance(exception, RequestDataTooBig):
        return "The request body is too large."
    if isinstance(exception, DisallowedHost):
        return "The Host header names no host this server answers for."
    if isinstance(exception, SuspiciousOperation) or not str(exception or ""):
        return "The request was refused as malformed."
    return str(exception)[:MAX_DETAIL_CHARS]


def bad_request(request, exception=None):
    if is_api_path(request.path):
        response = JsonResponse({"detail": refusal_detail(exception)}, status=400)
        if _INGEST_PATH.search(request.path):
            response["Access-Control-Allow-Origin"] = "*"  # browser SDKs read the ingest endpoints' answers (CORS)
        return response
    return defaults.bad_request(request, exception)
