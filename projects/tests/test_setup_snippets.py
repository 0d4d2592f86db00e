"""The setup page's JavaScript snippets (issue 23: it covered only @sentry/node): @sentry/browser, and the Vite and
webpack plugins that upload source maps, with `url` this server, `org` and `project` this project's; each is valid
JavaScript as shown (node --check)."""

import html
import re
import shutil
import subprocess

import pytest

from projects.models import Project, ProjectMembership
from testing.utils import require_service


@pytest.fixture
def page(client, django_user_model, settings, db):
    settings.BASE_URL = "https://errors.example.com"
    settings.ORGANIZATION_SLUG = "acme"
    project = Project.objects.create(name="Web shop", slug="web-shop")
    user = django_user_model.objects.create_user("ann")
    ProjectMembership.objects.create(project=project, user=user)
    client.force_login(user)
    response = client.get(f"/projects/{project.pk}/setup/")
    assert response.status_code == 200
    return project, response.content.decode()


def snippet(page: str, name: str) -> str:
    found = re.search(rf'<code id="snippet-{name}">(.*?)</code>', page, re.DOTALL)
    assert found, name
    return html.unescape(found.group(1))


def test_browser_vite_and_webpack_snippets_name_this_server_and_project(page):
    project, text = page
    assert snippet(text, "browser-install") == "npm install --save @sentry/browser"
    browser = snippet(text, "browser")
    assert 'import * as Sentry from "@sentry/browser";' in browser and f'dsn: "{project.dsn}"' in browser
    for name, plugin in (("vite", "sentryVitePlugin"), ("webpack", "sentryWebpackPlugin")):
        config = snippet(text, name)
        assert f"{plugin}({{" in config
        assert 'url: "https://errors.example.com/"' in config
        assert 'org: "acme"' in config and 'project: "web-shop"' in config
        assert "authToken: process.env.SENTRY_AUTH_TOKEN" in config
        assert 'release: { name: "myapp@1.4.2" }' in config
    # the browser SDK and the plugins upload and report under the same release
    assert 'release: "myapp@1.4.2"' in browser
    # still the Node one
    assert 'require("@sentry/node")' in snippet(text, "node")


def test_the_snippets_are_valid_javascript(page, tmp_path):
    node = shutil.which("node")
    require_service(node is not None, "node")  # skipped outside CI, failed in CI
    _, text = page
    for name, suffix in (("node", "cjs"), ("browser", "mjs"), ("vite", "mjs"), ("webpack", "cjs")):
        path = tmp_path / f"{name}.{suffix}"
        path.write_text(snippet(text, name))
        result = subprocess.run([node, "--check", str(path)], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, (name, result.stderr)
