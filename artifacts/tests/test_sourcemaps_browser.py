"""Source maps in a real browser (Debian's Chromium through Playwright, against our live web server): the release's
artifacts page reached from the release page, with its bundle, files and debug ids, and a bundle deleted by an
admin after the confirm dialog; and the event page's "Not mapped to the original source" panel for each reason a
frame is not mapped, with what to do about it. The builds are real (esbuild, sentry-cli inject, node: see
digest.tests.test_symbolicate)."""

import pytest
from django.utils import timezone

from artifacts.models import ArtifactBundle
from artifacts.tests.uploads import debug_id_of, store_folder, store_release_file
from digest.tests.test_symbolicate import build, digested, esbuild, node_event  # noqa: F401 (fixtures)
from projects.models import Project, ProjectMembership, Role
from releases.models import Release
from testing.browser import login

pytestmark = [pytest.mark.live, pytest.mark.slow]


@pytest.fixture
def user(transactional_db, django_user_model):
    return django_user_model.objects.create_user("ada", "ada@example.com", "pw")


def member_project(user, slug: str) -> Project:
    project = Project.objects.create(name=slug.capitalize(), slug=slug)
    ProjectMembership.objects.create(project=project, user=user, role=Role.ADMIN)
    return project


def test_the_artifacts_page_from_the_release_page(live_server_url, chromium_page, user, build):  # noqa: F811
    project = member_project(user, "shop")
    release = Release.objects.create(project=project, version="1.0.0", date_released=timezone.now())
    dist = build()
    bundle = store_folder(project, dist, release="1.0.0", dist="web")
    store_release_file(project, "1.0.0", "http://127.0.0.1:4741/assets/extra.js", b"x" * 100)
    digested(project, node_event(dist, release="1.0.0"))  # symbolication uses the bundle

    page = chromium_page
    login(page, live_server_url, "ada", "pw")
    page.goto(f"{live_server_url}/projects/{project.pk}/releases/id/{release.pk}/")
    with page.expect_navigation():
        page.get_by_role("link", name="Artifacts", exact=True).click()
    assert page.get_by_role("heading", name="Artifacts").is_visible()

    shown = page.locator(f'[data-bundle="{bundle.bundle_id}"]')
    assert shown.locator("[data-dist]").inner_text() == "web"
    assert "not used yet" not in shown.locator("[data-last-used]").inner_text()
    files = shown.locator("[data-bundle-files] tbody tr")
    assert files.count() == 2
    assert debug_id_of(dist / "app.min.js") in shown.locator("[data-debug-id]").all_inner_texts()
    extra = page.locator('[data-release-file="http://127.0.0.1:4741/assets/extra.js"]')
    name = extra.locator("bdi").first
    assert name.inner_text() == "assets/extra.js"
    assert name.get_attribute("title") == "http://127.0.0.1:4741/assets/extra.js"
    assert extra.locator("[data-last-used]").inner_text() == "not used yet"

    # deleting asks first: dismissed, nothing happens; accepted, the bundle is gone
    page.once("dialog", lambda dialog: dialog.dismiss())
    shown.get_by_role("button", name="Delete bundle").click()
    assert ArtifactBundle.objects.filter(pk=bundle.pk).exists()
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        shown.get_by_role("button", name="Delete bundle").click()
    assert not ArtifactBundle.objects.filter(pk=bundle.pk).exists()
    assert page.locator("[data-bundle-count]").inner_text() == "(0)"
    assert page.get_by_text("No bundles uploaded for this release").is_visible()
    assert page.console_watch.errors == []

    # the phone layout holds
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def broken_map(dist):
    (dist / "app.min.js.map").write_text(
        f'{{"version": 3, "debugId": "{debug_id_of(dist / "app.min.js")}", "mappings": ['
    )


def out_of_range(event: dict) -> dict:
    for frame in event["exception"]["values"][0]["stacktrace"]["frames"][1:]:
        frame["lineno"] = 9000
    return event


def test_the_not_mapped_panel_says_why_and_what_to_do(live_server_url, chromium_page, user, build):  # noqa: F811
    dist = build()
    url_of = {"url_of": lambda path: "http://127.0.0.1:4741/assets/app.min.js", "debug_meta": False}
    cases = {}

    # a minified frame with no debug id, in a release with no files
    project = member_project(user, "nothing")
    cases["js_no_uploads"] = (
        digested(project, node_event(dist, release="1.0.0", **url_of)),
        ["Nothing uploaded for this file", "release 1.0.0 has no uploaded files", "sourcemaps upload --release 1.0.0"],
    )
    # a debug id nobody uploaded
    project = member_project(user, "debugid")
    cases["js_no_source"] = (
        digested(project, node_event(dist)),
        ["No source map found", f"no source map with debug id {debug_id_of(dist / 'app.min.js')}"],
    )
    # the release has files, not this one
    project = member_project(user, "otherfile")
    store_release_file(project, "2.0", "~/assets/other.min.js", b"other")
    cases["js_no_source-url"] = (
        digested(project, node_event(dist, release="2.0", **url_of)),
        ["No source map found", "release 2.0 has no file ~/assets/app.min.js", "from the build that served it"],
    )
    # the minified file is there, the map it names is not
    project = member_project(user, "nomap")
    store_release_file(project, "3.0", "~/assets/app.min.js", (dist / "app.min.js").read_bytes())
    cases["js_missing_source"] = (
        digested(project, node_event(dist, release="3.0", **url_of)),
        ["Source map not uploaded", "app.min.js.map was not uploaded for 3.0", "upload the .map files too"],
    )
    # a map outside whose mappings the frame is
    project = member_project(user, "range")
    store_folder(project, dist)
    cases["js_invalid_sourcemap_location"] = (
        digested(project, out_of_range(node_event(dist))),
        ["Position not in the source map", "no mapping for line 9000", "another build"],
    )
    # a map that cannot be parsed
    broken = build(folder="broken")
    broken_map(broken)
    project = member_project(user, "broken")
    store_folder(project, broken)
    cases["js_invalid_source"] = (
        digested(project, node_event(broken)),
        ["Unreadable source map", "the source map cannot be parsed", "upload the map your bundler wrote again"],
    )

    page = chromium_page
    login(page, live_server_url, "ada", "pw")
    for kind, (event, words) in cases.items():
        page.goto(f"{live_server_url}/issues/{event.issue_id}/events/{event.pk}/")
        panel = page.get_by_role("region", name="Not mapped to the original source")
        entry = panel.locator(f'[data-error-type="{kind.split("-")[0]}"]')
        assert entry.count() == 1, (kind, panel.inner_text())
        text = entry.inner_text()
        for word in words:
            assert word in text, (kind, word, text)
        if kind in ("js_no_uploads", "js_no_source-url", "js_missing_source"):
            where = entry.locator("bdi.mono")
            assert where.inner_text() == "assets/app.min.js"
            assert where.get_attribute("title") == "http://127.0.0.1:4741/assets/app.min.js"
        # the frames show the file relative to its origin, the full URL on hover
        if kind == "js_no_uploads":
            frame = page.locator(".frame-where").first
            assert frame.inner_text() == "assets/app.min.js"
            assert frame.get_attribute("title") == "http://127.0.0.1:4741/assets/app.min.js"
    assert page.console_watch.errors == []
