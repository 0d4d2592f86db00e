"""Issue ids in any form in URLs (redirected to the canonical /issues/<uuid>/...), and the site's own 404/403/500
pages (with the layout, not Django's bare "Not Found")."""

import pytest
from django.template import Context, engines
from django.template.loader import get_template
from django.views.defaults import server_error

from issues.refs import issue_ref_q, parse_short_id, parse_uuid
from projects.models import Project, ProjectMembership
from testing.utils import make_issue


@pytest.fixture
def member_client(client, django_user_model, project):
    user = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user)
    client.force_login(user)
    return client


def test_parsing_the_forms_of_an_id():
    uid = "0f6a1c9e-3b7d-4c55-9a0e-2d4b8f1e7a63"
    assert str(parse_uuid(uid)) == uid == str(parse_uuid(uid.replace("-", ""))) == str(parse_uuid(uid.upper()))
    assert parse_uuid("0f6a1c9e") is None and parse_uuid("not-a-uuid") is None
    assert parse_short_id("MYAPP-12") == ("myapp", 12)
    assert parse_short_id("my-app-2-7") == ("my-app-2", 7)  # slugs hold dashes: the number follows the last one
    assert parse_short_id("MYAPP") is None and parse_short_id("MYAPP-x") is None and parse_short_id("-12") is None
    assert issue_ref_q("hello world") is None


def test_any_form_of_the_id_redirects_to_the_canonical_url(member_client, project):
    issue = make_issue(project)
    canonical = f"/issues/{issue.pk}/"
    for form in (issue.short_id, issue.short_id.lower(), issue.pk.hex, str(issue.pk).upper(), issue.pk.hex.upper()):
        response = member_client.get(f"/issues/{form}/")
        assert response.status_code == 302 and response["Location"] == canonical, form
    # the rest of the path and the query string come along
    response = member_client.get(f"/issues/{issue.short_id}/events/", {"q": "level:error"})
    assert response["Location"] == f"{canonical}events/?q=level%3Aerror"
    assert member_client.get(canonical).status_code == 200


def test_unknown_or_invisible_ids_are_404_with_the_site_layout(member_client, project):
    other = Project.objects.create(name="Secret")
    hidden = make_issue(other)
    for url in (
        f"/issues/{hidden.short_id}/",
        f"/issues/{hidden.pk}/",
        f"/issues/{hidden.pk.hex}/",
        f"/issues/{project.short_prefix}-999/",
        "/issues/nonsense/",
        "/no/such/page/",
    ):
        response = member_client.get(url)
        assert response.status_code == 404, url
        html = response.content.decode()
        assert 'data-error-page="404"' in html and 'class="topbar"' in html, url
        assert "ann" in html  # the layout's user menu: rendered with the request


def test_the_403_page_has_the_layout(rf, admin_user):
    request = rf.get("/")
    request.user = admin_user
    html = get_template("403.html").render({}, request)
    assert 'data-error-page="403"' in html and 'class="topbar"' in html


def test_the_500_page_renders_with_an_empty_context():
    # what django.views.defaults.server_error does: no request, no context processors
    template = engines["django"].engine.get_template("500.html")
    html = template.render(Context({}))
    assert 'data-error-page="500"' in html and 'class="topbar"' in html and "Server error" in html


def test_the_500_handler_serves_the_page(client):
    response = server_error(client.get("/health/live").wsgi_request)
    assert response.status_code == 500 and 'data-error-page="500"' in response.content.decode()
