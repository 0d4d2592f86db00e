"""A release's artifacts page (artifacts.views): bundles with their files, debug ids, sizes and distribution, files
uploaded on their own, when symbolication last used each; delete for the project's admins only; nothing of another
project, whatever ids one puts in the URL."""

import html
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from artifacts.lookup import LAST_SEEN_RESOLUTION
from artifacts.models import ArtifactBundle, DebugIdArtifact, ReleaseFile
from artifacts.tests.uploads import debug_id_of, store_bundle, store_folder, store_release_file
from digest.tests.test_symbolicate import build, digested, esbuild, node_event  # noqa: F401 (fixtures)
from projects.models import Project, ProjectMembership, Role
from releases.models import Release


@pytest.fixture
def release(project):
    return Release.objects.create(project=project, version="1.0.0", date_released=timezone.now())


@pytest.fixture
def member(project, django_user_model):
    user = django_user_model.objects.create_user("mia")
    ProjectMembership.objects.create(project=project, user=user, role=Role.MEMBER)
    return user


@pytest.fixture
def admin(project, django_user_model):
    user = django_user_model.objects.create_user("ada")
    ProjectMembership.objects.create(project=project, user=user, role=Role.ADMIN)
    return user


def page_url(project, release) -> str:
    return reverse("artifacts:release", args=[project.pk, release.pk])


def test_the_page_lists_bundles_files_debug_ids_and_last_use(client, project, release, member, build):  # noqa: F811
    dist = build()
    bundle = store_folder(project, dist, release="1.0.0", dist="web")
    legacy = store_release_file(project, "1.0.0", "http://127.0.0.1:4741/assets/legacy.min.js", b"x" * 2048)
    client.force_login(member)

    text = html.unescape(client.get(page_url(project, release)).content.decode())
    assert str(bundle.bundle_id) in text
    assert debug_id_of(dist / "app.min.js") in text and "minified_source" in text and "source_map" in text
    assert "~/app.min.js.map" in text and "web" in text
    assert "assets/legacy.min.js" in text and 'title="http://127.0.0.1:4741/assets/legacy.min.js"' in text
    assert "2.0\xa0KB" in text
    assert text.count("not used yet") == 2
    assert "Delete bundle" not in text  # a member, not an admin

    # the release page links here
    release_page = client.get(reverse("releases:release", args=[project.pk, release.pk])).content.decode()
    assert page_url(project, release) in release_page

    # symbolication stamps the bundle it used: once, not per event
    digested(project, node_event(dist, release="1.0.0"))
    used = ArtifactBundle.objects.get(pk=bundle.pk).last_symbolicated_at
    assert used is not None
    digested(project, node_event(dist, release="1.0.0"))
    assert ArtifactBundle.objects.get(pk=bundle.pk).last_symbolicated_at == used
    ArtifactBundle.objects.filter(pk=bundle.pk).update(last_symbolicated_at=used - LAST_SEEN_RESOLUTION)
    digested(project, node_event(dist, release="1.0.0"))
    assert ArtifactBundle.objects.get(pk=bundle.pk).last_symbolicated_at > used - timedelta(seconds=1)
    text = html.unescape(client.get(page_url(project, release)).content.decode())
    assert text.count("not used yet") == 1  # the legacy file was not used
    assert legacy.last_symbolicated_at is None


def test_an_admin_deletes_a_bundle_and_a_file(client, project, release, admin, member, build):  # noqa: F811
    dist = build()
    bundle = store_folder(project, dist, release="1.0.0")
    legacy = store_release_file(project, "1.0.0", "~/legacy.js", b"legacy")
    url = page_url(project, release)
    delete_bundle = reverse("artifacts:delete-bundle", args=[project.pk, release.pk, bundle.pk])
    delete_file = reverse("artifacts:delete-file", args=[project.pk, release.pk, legacy.pk])

    client.force_login(member)
    assert client.post(delete_bundle).status_code == 403
    assert client.post(delete_file).status_code == 403
    assert ArtifactBundle.objects.filter(pk=bundle.pk).exists() and ReleaseFile.objects.filter(pk=legacy.pk).exists()

    client.force_login(admin)
    assert "Delete bundle" in client.get(url).content.decode()
    assert client.get(delete_bundle).status_code == 405  # deleting is a POST
    assert client.post(delete_bundle)["Location"] == url
    assert not ArtifactBundle.objects.filter(pk=bundle.pk).exists()
    assert not DebugIdArtifact.objects.exists() and not ReleaseFile.objects.filter(bundle__isnull=False).exists()
    assert client.post(delete_file)["Location"] == url
    assert not ReleaseFile.objects.exists()
    assert "No bundles uploaded for this release" in client.get(url).content.decode()


def test_another_projects_member_gets_404_everywhere(client, project, release, build, django_user_model):  # noqa: F811
    dist = build()
    bundle = store_folder(project, dist, release="1.0.0")
    legacy = store_release_file(project, "1.0.0", "~/legacy.js", b"legacy")
    other = Project.objects.create(name="Other", slug="other")
    other_release = Release.objects.create(project=other, version="1.0.0", date_released=timezone.now())
    stranger = django_user_model.objects.create_user("sam")
    ProjectMembership.objects.create(project=other, user=stranger, role=Role.ADMIN)
    client.force_login(stranger)

    assert client.get(page_url(project, release)).status_code == 404
    # nor through their own project's URL with this project's ids
    assert str(bundle.bundle_id) not in client.get(page_url(other, other_release)).content.decode()
    for args in ([project.pk, release.pk, bundle.pk], [other.pk, other_release.pk, bundle.pk]):
        assert client.post(reverse("artifacts:delete-bundle", args=args)).status_code == 404
    for args in ([project.pk, release.pk, legacy.pk], [other.pk, other_release.pk, legacy.pk]):
        assert client.post(reverse("artifacts:delete-file", args=args)).status_code == 404
    # a release of another project under this project's id is not found either
    assert client.get(reverse("artifacts:release", args=[other.pk, release.pk])).status_code == 404
    assert ArtifactBundle.objects.filter(pk=bundle.pk).exists() and ReleaseFile.objects.filter(pk=legacy.pk).exists()


def test_a_bundle_shared_with_another_project_stays_for_it(client, project, release, admin, build):  # noqa: F811
    dist = build()
    bundle = store_folder(project, dist, release="1.0.0")
    other = Project.objects.create(name="Other", slug="other")
    bundle.projects.add(other)  # as earlier versions stored an upload for two projects
    client.force_login(admin)
    client.post(reverse("artifacts:delete-bundle", args=[project.pk, release.pk, bundle.pk]))
    assert list(ArtifactBundle.objects.get(pk=bundle.pk).projects.all()) == [other]
    assert not ReleaseFile.objects.filter(project=project).exists()


def test_the_page_costs_a_fixed_number_of_queries(client, project, release, admin):
    client.force_login(admin)

    def queries_with(bundles: int) -> int:
        for n in range(bundles):
            store_bundle(project, {f"a{n}.js": b"x", f"a{n}.js.map": b"{}"}, release="1.0.0")
            store_release_file(project, "1.0.0", f"~/own{n}.js", b"own")
        with CaptureQueriesContext(connection) as context:
            response = client.get(page_url(project, release))
        assert response.content.decode().count("data-bundle=") == ArtifactBundle.objects.count()
        return len(context)

    client.get(page_url(project, release))  # the session's first request writes more
    assert queries_with(1) == queries_with(5)


def test_bundles_uploaded_without_a_release_are_listed_apart(client, project, release, admin, build):  # noqa: F811
    dist = build()
    loose = store_folder(project, dist)  # sentry-cli sourcemaps upload without --release
    other = Project.objects.create(name="Other", slug="other")
    foreign = store_folder(other, dist)
    client.force_login(admin)

    text = client.get(page_url(project, release)).content.decode()
    assert "Bundles uploaded without a release" in text and str(loose.bundle_id) in text
    assert str(foreign.bundle_id) not in text
    assert "No bundles uploaded for this release" in text

    client.post(reverse("artifacts:delete-bundle", args=[project.pk, release.pk, loose.pk]))
    assert not ArtifactBundle.objects.filter(pk=loose.pk).exists()
    assert client.post(reverse("artifacts:delete-bundle", args=[project.pk, release.pk, foreign.pk])).status_code == 404
    assert "Bundles uploaded without a release" not in client.get(page_url(project, release)).content.decode()
