"""Source-mapped events through /api/0/ in Sentry's shape: a mapped frame's `data` (symbolicated, the map,
resolved_with), the minified frames in `rawStacktrace`, and an issue's `firstRelease`/`lastRelease`. The events are
real esbuild builds run under node and symbolicated at digest (digest.tests.test_symbolicate's helpers)."""

import pytest
from django.contrib.auth import get_user_model

from api.models import ApiToken, Scope
from artifacts.tests.uploads import store_folder
from digest.tests.test_symbolicate import build, digested, esbuild, node_event  # noqa: F401 (fixtures)
from issues.models import Issue
from projects.models import Project, ProjectMembership
from releases.models import Release
from testing.utils import exception_event

ORG = "main"


@pytest.fixture
def get(client, project):
    user = get_user_model().objects.create_user("alice")
    ProjectMembership.objects.create(project=project, user=user)
    token = ApiToken.create_for(user, "read", scope=Scope.READ)[1]

    def get(url):
        response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 200, response.content
        return response.json()

    return get


def exception_of(shape: dict) -> dict:
    (entry,) = [e for e in shape["entries"] if e["type"] == "exception"]
    return entry["data"]["values"][0]


def test_mapped_frames_carry_data_and_the_raw_stacktrace_the_minified_frames(project, build, get):  # noqa: F811
    dist = build()
    store_folder(project, dist)
    event = digested(project, node_event(dist, release="1.0.0"))

    exc = exception_of(get(f"/api/0/projects/{ORG}/myapp/events/{event.event_id.hex}/"))
    internal, checkout, parse_order, require_items = exc["stacktrace"]["frames"]
    assert internal["data"] == {"symbolicated": False}
    assert checkout["function"] == "checkout" and checkout["filename"].endswith("src/app.js")
    assert checkout["data"]["symbolicated"] is True and checkout["data"]["resolved_with"] == "debug-id"
    assert checkout["data"]["sourcemap"].endswith("app.min.js.map")
    assert "minified" not in checkout["data"]

    raw = exc["rawStacktrace"]
    assert raw is not None and len(raw["frames"]) == 4
    raw_internal, raw_checkout, raw_parse, raw_require = raw["frames"]
    assert raw_internal["filename"] == "node:internal/modules/cjs/loader"
    minified = event.data["exception"]["values"][0]["stacktrace"]["frames"][1]["data"]["minified"]
    assert raw_checkout["filename"] == str(dist / "app.min.js") and raw_checkout["function"] != "checkout"
    assert (raw_checkout["lineNo"], raw_checkout["colNo"]) == (minified["lineno"], minified["colno"])
    assert raw_checkout["inApp"] is True and raw_checkout["data"] is None and raw_checkout["context"] == []
    # the raw frames all come from the one minified file, as node reported them
    assert {f["filename"] for f in (raw_checkout, raw_parse, raw_require)} == {str(dist / "app.min.js")}

    # the issue's latest event, same shape
    latest = get(f"/api/0/issues/{event.issue_id}/events/latest/")
    assert exception_of(latest)["rawStacktrace"] == raw


def test_unmapped_events_have_no_raw_stacktrace(project, build, get):  # noqa: F811
    dist = build()  # nothing uploaded
    event = digested(project, node_event(dist, release="1.0.0"))
    exc = exception_of(get(f"/api/0/projects/{ORG}/myapp/events/{event.event_id.hex}/"))
    assert exc["rawStacktrace"] is None
    assert all(f["data"] == {"symbolicated": False} for f in exc["stacktrace"]["frames"])

    # a Python event's frames have no such data
    python = digested(project, exception_event("ValueError", "x", frames=[{"filename": "a.py", "lineno": 1}]))
    exc = exception_of(get(f"/api/0/projects/{ORG}/myapp/events/{python.event_id.hex}/"))
    assert exc["stacktrace"]["frames"][0]["data"] is None and exc["rawStacktrace"] is None


def test_first_and_last_release_on_the_issue(project, get, django_assert_max_num_queries):
    for release in ("1.0.0", "1.1.0", "1.2.0"):
        digested(project, exception_event("ValueError", "boom", release=release))
    Release.objects.filter(project=project, version="1.0.0").update(ref="v1.0.0", url="https://example.com/r/1.0.0")
    issue = Issue.objects.get()
    shape = get(f"/api/0/issues/{issue.pk}/")
    first, last = shape["firstRelease"], shape["lastRelease"]
    assert (first["version"], first["shortVersion"], first["ref"], first["url"]) == (
        "1.0.0",
        "1.0.0",
        "v1.0.0",
        "https://example.com/r/1.0.0",
    )
    assert last["version"] == "1.2.0" and last["dateCreated"] and last["dateReleased"] is None

    # the list gives them too, with one query for the releases of the whole page
    other = Project.objects.create(name="Other", slug="other")
    digested(other, exception_event("KeyError", "elsewhere", release="9.9.9"))
    listed = get(f"/api/0/projects/{ORG}/myapp/issues/")
    assert [(i["firstRelease"]["version"], i["lastRelease"]["version"]) for i in listed] == [("1.0.0", "1.2.0")]

    # an issue without a release has none
    digested(project, exception_event("TypeError", "no release"))
    untagged = Issue.objects.get(calculated_type="TypeError")
    shape = get(f"/api/0/issues/{untagged.pk}/")
    assert shape["firstRelease"] is None and shape["lastRelease"] is None
