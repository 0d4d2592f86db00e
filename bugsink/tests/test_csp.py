"""The Content-Security-Policy header (bugsink.csp): on every page, the admin's, the Swagger UI's, error pages and SVG
included; not on JSON, downloads or the SDK endpoints. What the pages do under it is checked in a real browser
(test_browser_csp.py); that their source holds nothing it blocks, by test_template_guard.py."""

import pytest
from django.http import HttpResponse, JsonResponse
from django.test import RequestFactory

from bugsink.csp import HEADER_VALUE, ContentSecurityPolicyMiddleware
from testing.utils import auth_header, exception_event, make_envelope, make_issue

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def test_the_policy_is_the_strict_one():
    assert HEADER_VALUE == POLICY
    assert "unsafe" not in HEADER_VALUE


@pytest.fixture
def staff(client, django_user_model, project):
    from projects.models import ProjectMembership

    user = django_user_model.objects.create_user("root", "root@example.com", "pw", is_staff=True, is_superuser=True)
    ProjectMembership.objects.create(project=project, user=user)
    client.force_login(user)
    return user


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path, status",
    [
        ("/accounts/login/", 200),
        ("/accounts/password/reset/", 200),
        ("/admin/login/", 200),
        ("/no/such/page/", 404),
    ],
)
def test_pages_for_anyone_carry_the_policy(client, django_user_model, path, status):
    django_user_model.objects.create_user("someone")  # else the login page leads to the first-user setup
    response = client.get(path)
    assert response.status_code == status
    assert response["Content-Security-Policy"] == POLICY


@pytest.mark.django_db
def test_a_refused_host_and_the_svg_icon_carry_it_too(client):
    bad_host = client.get("/accounts/login/", HTTP_HOST="scanner.example")
    assert bad_host.status_code == 400 and bad_host["Content-Security-Policy"] == POLICY
    icon = client.get("/static/img/favicon.svg")
    assert icon.status_code == 200 and icon["Content-Type"].startswith("image/svg+xml")
    assert icon["Content-Security-Policy"] == POLICY


def test_signed_in_pages_admin_and_swagger_ui_carry_the_policy(client, staff, project):
    issue = make_issue(project)
    for path in (
        "/projects/",
        f"/projects/{project.pk}/issues/",
        f"/issues/{issue.pk}/",
        f"/projects/{project.pk}/settings/",
        "/admin/",
        "/admin/releases/release/",
        "/admin/quarantine/",
        "/api/0/docs/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response["Content-Security-Policy"] == POLICY, path
        assert response["X-Frame-Options"] == "DENY" and response["X-Content-Type-Options"] == "nosniff", path


def test_json_scripts_and_sdk_answers_are_left_alone(client, staff, project):
    assert "Content-Security-Policy" not in client.get("/api/0/organizations/main/projects/")
    script = client.get("/api/0/docs/?script=")
    assert script.status_code == 200 and "Content-Security-Policy" not in script
    sdk = client.post(
        f"/api/{project.pk}/envelope/",
        data=make_envelope(exception_event()),
        content_type="application/x-sentry-envelope",
        **auth_header(project),
    )
    assert sdk.status_code == 200 and "Content-Security-Policy" not in sdk


def test_a_response_with_its_own_policy_keeps_it():
    own = "default-src 'none'"

    def view(request):
        response = HttpResponse("<p>x</p>")
        response["Content-Security-Policy"] = own
        return response

    request = RequestFactory().get("/")
    assert ContentSecurityPolicyMiddleware(view)(request)["Content-Security-Policy"] == own
    html = ContentSecurityPolicyMiddleware(lambda r: HttpResponse("<p>x</p>", content_type="text/html; charset=utf-8"))
    assert html(request)["Content-Security-Policy"] == POLICY
    data = ContentSecurityPolicyMiddleware(lambda r: JsonResponse({"a": 1}))
    assert "Content-Security-Policy" not in data(request)


@pytest.mark.django_db
def test_favicon_ico_is_the_site_icon_not_a_404(client):
    """Pages that name no icon (the admin's) make the browser ask for /favicon.ico: a 404 there is a console error."""
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/img/favicon.svg"
    assert client.get(response["Location"]).status_code == 200


@pytest.mark.django_db
def test_the_csrf_failure_page_is_ours_without_inline_style(django_user_model):
    """Django's built-in CSRF failure page has an inline <style> the policy would block."""
    from django.test import Client

    django_user_model.objects.create_user("ann", password="pw")
    response = Client(enforce_csrf_checks=True).post("/accounts/login/", {"username": "ann", "password": "pw"})
    assert response.status_code == 403
    assert response["Content-Security-Policy"] == POLICY
    html = response.content.decode()
    assert 'data-error-page="403-csrf"' in html and "<style" not in html and "style=" not in html
