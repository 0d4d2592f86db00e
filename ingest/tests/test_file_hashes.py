"""Bundle hashes in file names are masked for grouping (the next build renames the file, the issue stays), names
are not; and issues grouped under the first, hex-only masking keep receiving their events."""

import pytest

from digest.batch import digest_event
from digest.grouping import _clean_filename, grouping_key, hash_key
from events.models import Event
from issues.models import Grouping, Issue
from testing.utils import exception_event, store_event


@pytest.mark.parametrize(
    "name, cleaned",
    [
        ("app-CN2JVIP6.js", "app-<hash>.js"),  # esbuild, base32
        ("chunk-ABCDEFGH.js", "chunk-<hash>.js"),  # base32 without a digit
        ("index-BxQ9f3Kd.js", "index-<hash>.js"),  # Vite / Rollup, base64url
        ("index-B_Qx-3aF.js", "index-<hash>.js"),  # base64url with its own dash
        ("vendor-BxQaFdKd.js", "vendor-<hash>.js"),  # base64url, letters only
        ("main.3f2a1b9c.js", "main.<hash>.js"),  # webpack [contenthash:8]
        ("main.3f2a1b9c0d4e5f6a7b8c.js", "main.<hash>.js"),  # [name].[contenthash:20].js
        ("123.abcdef12.chunk.js", "123.<hash>.chunk.js"),  # create-react-app chunks
        ("static/js/2.8f3a9c1d.chunk.js", "static/js/2.<hash>.chunk.js"),
        ("3f2a1b9c.js", "<hash>.js"),  # [contenthash].js
        ("https://cdn.example/assets/index-BxQ9f3Kd.js?v=2", "/assets/index-<hash>.js"),
        ("app.min.js", "app.min.js"),
        ("app-settings.js", "app-settings.js"),
        ("MyPlugin.js", "MyPlugin.js"),
        ("index.js", "index.js"),
        ("vendor-DayPicker.js", "vendor-DayPicker.js"),
        ("getElementById.js", "getElementById.js"),
        ("settings2.js", "settings2.js"),
        ("polyfills-es2015.js", "polyfills-es2015.js"),
        ("react-dom.production.min.js", "react-dom.production.min.js"),
        ("src/components/UserProfile.tsx", "src/components/UserProfile.tsx"),
        ("webpack-bootstrap", "webpack-bootstrap"),
    ],
)
def test_hashes_in_file_names_are_masked_and_names_stay(name, cleaned):
    assert _clean_filename(name) == cleaned


def test_two_builds_of_a_hashed_bundle_share_a_key():
    def event(filename):
        return exception_event("TypeError", frames=[{"filename": filename, "function": "render", "in_app": True}])

    assert grouping_key(event("/assets/index-BxQ9f3Kd.js")) == grouping_key(event("/assets/index-Dk41pQzZ.js"))
    assert grouping_key(event("/assets/index-BxQ9f3Kd.js")) != grouping_key(event("/assets/admin-Dk41pQzZ.js"))


def esbuild_event(name: str) -> dict:
    frames = [{"filename": f"/srv/app/{name}", "function": "handle", "lineno": 3, "in_app": True}]
    return exception_event("TypeError", "x is undefined", frames=frames, platform="python")


def test_an_issue_grouped_under_the_first_masking_keeps_its_events(project):
    """A database made by the first grouping code: the issue's key has the esbuild hash unmasked."""
    first = digest_event(store_event(project, esbuild_event("app-CN2JVIP6.js")))
    legacy_key = grouping_key(Event.objects.get(pk=first.pk).data, legacy=True)
    assert "app-CN2JVIP6.js" in legacy_key
    Grouping.objects.filter(issue=first.issue).update(grouping_key=legacy_key, grouping_key_hash=hash_key(legacy_key))

    same_build = digest_event(store_event(project, esbuild_event("app-CN2JVIP6.js")))
    assert same_build.issue_id == first.issue_id
    # the new key was added for the same issue: the next build (another hash, another legacy key) finds it
    keys = Grouping.objects.filter(issue=first.issue).values_list("grouping_key", flat=True)
    assert sorted(("app-<hash>.js" in key, "app-CN2JVIP6.js" in key) for key in keys) == [(False, True), (True, False)]
    next_build = digest_event(store_event(project, esbuild_event("app-QX7RT2MB.js")))
    assert next_build.issue_id == first.issue_id
    assert Issue.objects.count() == 1
    assert Issue.objects.get().event_count == 3


def test_keys_that_did_not_change_make_no_second_grouping(project):
    for _ in range(2):
        digest_event(store_event(project, esbuild_event("main.3f2a1b9c.js")))  # hex: masked the first way too
    assert Grouping.objects.count() == 1
    assert Issue.objects.get().event_count == 2
