"""The release page links to a release's and a deploy's URL only when it is an http(s) URL: a `javascript:` value
stored before the API refused it (or written some other way) is shown as text, never as an href. The admin's
release form refuses such a URL where it is typed."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from projects.models import ProjectMembership
from releases.models import Deploy, Release

HOSTILE = ["javascript:alert(document.domain)", " JaVaScRiPt:alert(1)", "data:text/html,<script>alert(1)</script>"]


@pytest.fixture
def member(client, django_user_model, project):
    user = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user)
    client.force_login(user)
    return user


def hrefs(html: str) -> list[str]:
    return re.findall(r'\shref\s*=\s*"([^"]*)"', html)


def assert_only_safe_hrefs(html: str) -> None:
    """Every link of the page goes somewhere on this site or to an http(s) URL."""
    for href in hrefs(html):
        assert href.startswith(("/", "?", "#", "http://", "https://")), href
        assert not href.startswith("//"), href


def release_page(client, project, version="1.0"):
    response = client.get(f"/projects/{project.pk}/releases/{version}/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("bad", HOSTILE)
def test_a_stored_non_http_release_or_deploy_url_is_text_not_a_link(client, member, project, bad):
    release = Release.objects.create(project=project, version="1.0", date_released=timezone.now(), url=bad)
    Deploy.objects.create(release=release, environment="production", name="prod deploy", url=bad)
    Deploy.objects.create(release=release, environment="staging", name="", url=bad)

    html = release_page(client, project)
    assert "javascript:" not in " ".join(hrefs(html)).lower() and "data:" not in " ".join(hrefs(html))
    assert_only_safe_hrefs(html)
    shown = re.search(r"<dd data-release-url>(.*?)</dd>", html, re.S)[1]
    assert "<a" not in shown and "alert(" in shown  # the value is there, as text
    assert "<script>" not in html.split("<dd data-release-url>")[1].split("</dd>")[0]
    deploys = re.findall(r"<tr data-deploy>.*?</tr>", html, re.S)
    assert len(deploys) == 2
    assert all("<a" not in row for row in deploys)
    assert "prod deploy" in html and "unnamed" in html


def test_http_release_and_deploy_urls_are_links(client, member, project):
    release = Release.objects.create(
        project=project, version="1.0", date_released=timezone.now(), url="https://ci.example.com/b/1?x=1&y=2"
    )
    Deploy.objects.create(release=release, environment="production", name="prod", url="http://deploys.example.com/7")
    html = release_page(client, project)
    assert '<a href="https://ci.example.com/b/1?x=1&amp;y=2" rel="noopener noreferrer nofollow">' in html
    assert '<a href="http://deploys.example.com/7" rel="noopener noreferrer nofollow"><bdi>prod</bdi></a>' in html
    assert_only_safe_hrefs(html)


@pytest.mark.parametrize("bad", HOSTILE + ["ci.example.com/1"])
def test_the_admin_release_form_refuses_a_non_http_url(admin_client, project, bad):
    release = Release.objects.create(project=project, version="1.0", date_released=timezone.now())
    change = reverse("admin:releases_release_change", args=[release.pk])
    now = timezone.localtime()
    form = {
        "project": project.pk,
        "version": "1.0",
        "date_released_0": now.strftime("%Y-%m-%d"),
        "date_released_1": now.strftime("%H:%M:%S"),
        "date_created_0": now.strftime("%Y-%m-%d"),
        "date_created_1": now.strftime("%H:%M:%S"),
        "ref": "v1",
    }
    response = admin_client.post(change, {**form, "url": bad})
    assert response.status_code == 200  # the form again, with its error
    assert "Enter an http:// or https:// URL" in response.content.decode()
    release.refresh_from_db()
    assert release.url == "" and release.ref == ""

    saved = admin_client.post(change, {**form, "url": "https://ci.example.com/1"})
    assert saved.status_code == 302
    release.refresh_from_db()
    assert release.url == "https://ci.example.com/1" and release.ref == "v1"
