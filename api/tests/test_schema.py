"""The OpenAPI schema of all of /api/0/: generated without a warning or error, valid, listing every DRF endpoint;
served at /api/0/schema/ and browsable at /api/0/docs/ with scripts from this server only."""

import re
from io import StringIO

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import URLPattern, URLResolver

from api import urls as api_urls
from api.models import ApiToken, Scope


def drf_routes(patterns, prefix="") -> list[str]:
    """Every DRF view under /api/0/ as an OpenAPI path ({name} for <conv:name>), the schema's own views aside."""
    found = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            found += drf_routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            view = getattr(pattern.callback, "cls", None)
            if view is None or view.__module__.startswith("drf_spectacular"):
                continue
            route = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", prefix + str(pattern.pattern))
            found.append("/api/0/" + route)
    return found


def test_schema_generates_without_warnings_and_lists_every_endpoint(tmp_path):
    target = tmp_path / "schema.yaml"
    # --fail-on-warn: any endpoint's warning or error (ours or another helper's) fails this test
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target), stderr=StringIO())
    schema = yaml.safe_load(target.read_text())
    assert schema["info"]["title"].endswith("API")
    routes = drf_routes(api_urls.urlpatterns)
    assert "/api/0/issues/{issue_id}/" in routes and "/api/0/projects/{org}/{project}/events/{event_id}/" in routes
    missing = sorted(set(routes) - set(schema["paths"]))
    assert not missing, missing
    issue = schema["paths"]["/api/0/issues/{issue_id}/"]
    assert set(issue) >= {"get", "put", "delete"}
    status = issue["put"]["requestBody"]["content"]["application/json"]["schema"]["properties"]["status"]
    assert "resolvedInNextRelease" in status["enum"]
    listing = schema["paths"]["/api/0/projects/{org}/{project}/issues/"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"org", "project", "query", "sort", "cursor"}
    assert "bearerAuth" in schema["components"]["securitySchemes"]
    operation_ids = [op["operationId"] for item in schema["paths"].values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))


@pytest.mark.django_db
def test_schema_is_served_to_tokens_and_the_docs_page_to_signed_in_users(client, settings):
    user = get_user_model().objects.create_user("alice")
    _, token = ApiToken.create_for(user, "read", scope=Scope.READ)
    assert client.get("/api/0/schema/").status_code == 401
    response = client.get("/api/0/schema/?format=json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert "/api/0/issues/{issue_id}/events/" in response.json()["paths"]

    anonymous = client.get("/api/0/docs/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    client.force_login(user)
    page = client.get("/api/0/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(not source.startswith(("http:", "https:", "//")) for source in sources), sources
    assert any("swagger-ui-bundle.js" in source for source in sources)
    # the start-up script (with the schema's URL) is a file of its own: the page has no inline script or style
    assert "<script>" not in html and "<style" not in html and "style=" not in html
    script = client.get("/api/0/docs/?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert "/api/0/schema/" in script.content.decode()
    for source in sources:
        assert client.get(source).status_code == 200, source  # served here (whitenoise, from the sidecar)


def test_schema_names_the_apps_version_and_groups_every_operation(tmp_path):
    """Issue 23: Swagger UI showed version "0" and a group named "default"."""
    from bugsink.version import VERSION

    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(target), stderr=StringIO())
    schema = yaml.safe_load(target.read_text())
    assert schema["info"]["version"] == VERSION != "0"
    declared = [tag["name"] for tag in schema["tags"]]
    used = {tag for item in schema["paths"].values() for op in item.values() for tag in op["tags"]}
    assert all(len(op["tags"]) == 1 for item in schema["paths"].values() for op in item.values())
    assert "default" not in used and used <= set(declared), used - set(declared)
    assert schema["paths"]["/api/0/"]["get"]["tags"] == ["Authentication"]
    assert schema["paths"]["/api/0/issues/{issue_id}/events/"]["get"]["tags"] == ["Events"]
    assert schema["paths"]["/api/0/organizations/{org}/issues/"]["get"]["tags"] == ["Issues"]
    assert schema["paths"]["/api/0/organizations/{org}/chunk-upload/"]["post"]["tags"] == ["Source maps and uploads"]
    assert schema["paths"]["/api/0/organizations/{org}/releases/{version}/deploys/"]["get"]["tags"] == ["Releases"]


@pytest.mark.django_db
def test_docs_page_links_back_to_the_app_and_names_the_version(client):
    from bugsink.version import VERSION

    client.force_login(get_user_model().objects.create_user("alice"))
    html = client.get("/api/0/docs/").content.decode()
    assert '<a href="/projects/" data-back-to-app>← Back to Culvert</a>' in html
    assert f"API version {VERSION}" in html
