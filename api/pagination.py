"""Sentry's cursor pagination: `?cursor=` and a `Link` header with a previous and a next link, each saying whether
it has results (`results="true"`), which is how sentry-cli and Sentry's own tools walk pages.

Cursors have Sentry's form `<value>:<offset>:<is_prev>`; ours use the offset only (value 0).
"""

from urllib.parse import urlencode

from rest_framework.response import Response

DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 100


def _cursor(offset: int, is_prev: bool) -> str:
    return f"0:{offset}:{int(is_prev)}"


def parse_cursor(value) -> int:
    """The offset a cursor points at; anything unreadable is the first page."""
    if not isinstance(value, str):
        return 0
    parts = value.split(":")
    if len(parts) != 3 or not parts[1].isdigit() or len(parts[1]) > 12:
        return 0
    return int(parts[1])


def per_page(request, default: int = DEFAULT_PER_PAGE) -> int:
    # Sentry's issue and event lists call it `limit`
    value = request.query_params.get("per_page", "") or request.query_params.get("limit", "")
    if value.isdigit() and len(value) < 6:
        return max(1, min(int(value), MAX_PER_PAGE))
    return default


def link_header(request, offset: int, limit: int, has_next: bool) -> str:
    base = request.build_absolute_uri(request.path)
    params = []
    for key in request.query_params:
        if key != "cursor":
            params.extend((key, v) for v in request.query_params.getlist(key))

    def link(cursor: str, rel: str, results: bool) -> str:
        url = f"{base}?{urlencode([*params, ('cursor', cursor)])}"
        return f'<{url}>; rel="{rel}"; results="{str(results).lower()}"; cursor="{cursor}"'

    previous = link(_cursor(max(offset - limit, 0), True), "previous", offset > 0)
    following = link(_cursor(offset + limit, False), "next", has_next)
    return f"{previous}, {following}"


def paginated_response(request, items, serialize, default_per_page: int = DEFAULT_PER_PAGE) -> Response:
    """One page of `items` (a queryset or a list, in its final order) as a list response with Sentry's Link header.
    `serialize` turns the page's items into the JSON list."""
    limit = per_page(request, default_per_page)
    offset = parse_cursor(request.query_params.get("cursor"))
    page = list(items[offset : offset + limit + 1])
    has_next = len(page) > limit
    response = Response(serialize(page[:limit]))
    response["Link"] = link_header(request, offset, limit, has_next)
    return response
