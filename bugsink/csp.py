"""The Content-Security-Policy of every page this server renders.

Each page's scripts and styles are files served from this origin (`static/`, the admin's, the Swagger UI's from the
sidecar package): no inline `<script>`, no `<style>` block, no `style="..."` attribute, no event-handler attribute.
So the policy can say `script-src 'self'` and `style-src 'self'` without 'unsafe-inline': markup that an attacker
gets onto a page (client-supplied text that escaping somehow let through) neither runs script nor restyles the page.
`img-src` allows `data:` for the small icons inlined in stylesheets (the admin's and the Swagger UI's);
`object-src`, `base-uri` and `frame-ancestors` are closed; forms post to this origin only.

No page needs a nonce today. bugsink/tests/test_template_guard.py keeps it that way for our templates, and the
browser tests fail on any violation the browser reports (testing.browser).

The header goes on documents a browser renders and could run script in (HTML, XHTML, SVG, XML), whichever view made
them, error pages included; a response that already carries a policy keeps its own. JSON, downloads and the SDK
endpoints (answered before this middleware, see ingest.fastpath) are left as they are.
"""

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}
HEADER_VALUE = "; ".join(f"{directive} {sources}" for directive, sources in POLICY.items())


def header_with_form_targets(origins: list[str]) -> str:
    """The policy for a page whose forms lead to other origins too: the login page's single sign-on buttons post
    here and are redirected to the identity provider, and browsers hold redirects of a form to form-action."""
    policy = {**POLICY, "form-action": " ".join(["'self'", *origins])}
    return "; ".join(f"{directive} {sources}" for directive, sources in policy.items())


DOCUMENT_TYPES = {"text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml"}


def is_document(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() in DOCUMENT_TYPES


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response and is_document(response.get("Content-Type", "")):
            response["Content-Security-Policy"] = HEADER_VALUE
        return response
