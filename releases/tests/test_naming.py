"""Release names follow Sentry's rules (issue 19, part 4): one function (releases.naming) for ingest and the API.

At ingest an event whose release breaks a rule is kept, without the release, and its pages say what was dropped;
the API answers 400 with a `detail`. Releases stored under such a name before the rules are reachable: their pages
are linked by id, not by a path that browsers normalise away (`..`, `../../admin`).
"""

import pytest
from django.utils import timezone

from api.models import ApiToken, Scope
from events.models import Event
from issues.models import Issue
from projects.models import Project, ProjectMembership
from releases.models import Release
from releases.naming import MAX_VERSION_LENGTH, release_name_problem
from tags.models import TagValue
from testing.utils import exception_event

VALID = ["1.0.0", "myapp@1.4.2", "1.0.0+build.5", "release 2024-06", "x" * MAX_VERSION_LENGTH, "1.0.0\u200b", "Ünïcode"]
INVALID = [
    ("a/b", "slash"),
    ("../../admin", "slash"),
    ("a\\b", "backslash"),
    ("a\nb", "line break"),
    ("a\rb", "line break"),
    ("a\fb", "line break"),
    ("a\tb", "tab"),
    (".", "cannot be"),
    ("..", "cannot be"),
    ("", "blank"),
    ("   ", "blank"),
    (" 1.0", "whitespace"),
    ("latest", "latest"),
    ("LATEST", "latest"),
    ("x" * (MAX_VERSION_LENGTH + 1), "at most 200"),
    ("a\x00b", "NUL"),
    (5, "string"),
    (None, "string"),
]


@pytest.mark.parametrize("version", VALID)
def test_valid_names(version):
    assert release_name_problem(version) is None


@pytest.mark.parametrize("version, reason", INVALID)
def test_invalid_names_say_why(version, reason):
    assert reason in release_name_problem(version)


@pytest.fixture
def member(client, django_user_model, project):
    user = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user)
    client.force_login(user)
    return user


@pytest.mark.parametrize("sent", ["../../admin", "..", ".", "a\\b", "latest", "x" * 201, "line\nbreak", "\t"])
def test_ingest_keeps_the_event_and_drops_the_release_with_a_note(client, member, project, send_event, sent):
    response = send_event(project, exception_event(release=sent, tags={"shard": "7"}))
    assert response.status_code == 200
    event = Event.objects.get(project=project)
    assert event.release == ""
    assert not Release.objects.filter(project=project).exists()
    assert not TagValue.objects.filter(project=project, key="release").exists()
    assert TagValue.objects.filter(project=project, key="shard", value="7").exists()  # the rest of the event is kept
    issue = Issue.objects.get(project=project)
    assert issue.first_release == "" and issue.last_release == ""
    for tab in ("", "details/", "breadcrumbs/"):
        page = client.get(f"/issues/{issue.pk}/{tab}").content.decode()
        assert "data-invalid-data" in page, tab
        assert "The release “" in page and "” was dropped: " in page
    # the note is not mistaken for a source-map problem
    assert "Not mapped to the original source" not in client.get(f"/issues/{issue.pk}/").content.decode()


def test_the_note_shows_the_release_as_sent_with_its_invisible_characters(client, member, project, send_event):
    send_event(project, exception_event(release="\u202e1.0/evil"))
    issue = Issue.objects.get(project=project)
    page = client.get(f"/issues/{issue.pk}/").content.decode()
    assert "The release “⟨U+202E⟩1.0/evil” was dropped: a release&#x27;s version may not hold a slash." in page


def test_a_valid_release_is_kept_as_sent(project, send_event):
    send_event(project, exception_event(release="  myapp@1.0\u200b  "))
    event = Event.objects.get(project=project)
    assert event.release == "myapp@1.0\u200b"
    assert Release.objects.filter(project=project, version="myapp@1.0\u200b").exists()
    assert "errors" not in event.data_json or "invalid_data" not in event.data_json


def test_the_api_refuses_what_ingest_drops(client, project, django_user_model):
    user = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    ProjectMembership.objects.create(project=project, user=user)
    token = ApiToken.create_for(user, "cli", Scope.WRITE)[1]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    url = "/api/0/organizations/main/releases/"
    for version, reason in INVALID:
        response = client.post(url, {"version": version, "projects": [project.slug]}, "application/json", **auth)
        assert response.status_code == 400, version
        assert reason in response.json()["detail"], (version, response.json())
    assert not Release.objects.exists()
    for version in VALID:
        response = client.post(url, {"version": version, "projects": [project.slug]}, "application/json", **auth)
        assert response.status_code == 201, (version, response.content)


@pytest.mark.parametrize("version", ["..", ".", "../../admin", "a/../b", "%2e%2e", "?x#y", "a/b"])
def test_stored_releases_with_bad_names_are_reachable_by_id(client, member, project, version):
    """Stored before the rules (or by an older version): the Releases page links each by id, and the page opens."""
    release = Release.objects.create(project=project, version=version, date_released=timezone.now())
    listing = client.get(f"/projects/{project.pk}/releases/").content.decode()
    link = f"/projects/{project.pk}/releases/id/{release.pk}/"
    assert f'href="{link}"' in listing
    page = client.get(link)
    assert page.status_code == 200
    assert "data-release-facts" in page.content.decode()


def test_a_release_page_of_another_project_is_a_404(client, member, project):
    other = Project.objects.create(name="Other", slug="other")
    release = Release.objects.create(project=other, version="1.0", date_released=timezone.now())
    assert client.get(f"/projects/{project.pk}/releases/id/{release.pk}/").status_code == 404
    assert client.get(f"/projects/{other.pk}/releases/id/{release.pk}/").status_code == 404  # not a member
