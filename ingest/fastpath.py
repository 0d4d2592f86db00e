"""The ingest URLs (envelope, store, security) skip the middleware and URL resolving that the pages need.

Why: SDK requests need none of sessions, authentication, CSRF, messages or the user's time zone, yet under load
the middleware chain and the resolver cost the web process about as much CPU as parsing the event. This middleware
sits right after SecurityMiddleware (so HTTPS redirects and the security headers stay as they are) and hands an
ingest request straight to its view. It keeps what the skipped middleware did to such a request: the Host check
(CommonMiddleware: a host not in ALLOWED_HOSTS is a 400), Content-Length (CommonMiddleware), X-Frame-Options
(XFrameOptionsMiddleware) and no active time zone (accounts' middleware). Not kept: `Vary: Cookie`, which the
session middleware added because the time-zone middleware looked at the user; an ingest answer never depends on
a cookie.

The routes are the intake's one table, ingest.urls, which bugsink.urls includes first: this middleware resolves a
path against those same patterns, so a path that matches one of them never reached another view, routing is
unchanged, and a route added there is served by both paths.
"""

from django.conf import settings
from django.utils import timezone

from ingest import urls


def resolve(path: str):
    """The intake route that `path` (a request's path_info) takes, as Django's resolver would find it, or None."""
    for pattern in urls.urlpatterns:
        match = pattern.resolve(path[1:])  # the root URLconf's patterns see the path without its leading slash
        if match:
            return match
    return None


class IngestFastPathMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if "/api/" in path:
            match = resolve(path)
            if match:
                return self.ingest(request, match)
        return self.get_response(request)

    def ingest(self, request, match):
        request.get_host()  # raises DisallowedHost (a 400, logged once) for a host not in ALLOWED_HOSTS
        timezone.deactivate()  # a page served earlier on this thread may have activated its user's
        request.resolver_match = match
        response = match.func(request, *match.args, **match.kwargs)
        if not response.streaming and not response.has_header("Content-Length"):
            response.headers["Content-Length"] = str(len(response.content))
        if response.get("X-Frame-Options") is None:
            response.headers["X-Frame-Options"] = getattr(settings, "X_FRAME_OPTIONS", "DENY").upper()
        return response
