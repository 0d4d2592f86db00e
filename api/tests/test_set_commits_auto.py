"""`set-commits --auto` (what @sentry/vite-plugin's `setCommits: {auto: true}` asks for) and the repositories list.

Clients list /api/0/organizations/<org>/repos/ and match the checkout's remote (git@github.com:acme/fe-app.git is
`acme/fe-app`) against the names: newer tools and the bundler plugins by name (then they send `refs` naming it, with
the head commit and the previous release's), sentry-cli 3.8 by a listed code-host URL (else it falls back to the
local git history, under the remote's name "origin"). So a repository named by set-commits is accepted when new and
listed from then on, and "origin" is not listed: a name-matching client would otherwise fail with "No Sentry
repository matching 'acme/fe-app'". The real sentry-cli runs in a temporary checkout whose remote is never
contacted."""

import json
import subprocess

from django.contrib.auth import get_user_model

from api.models import ApiToken, Scope
from api.tests.cli import run_cli
from api.tests.test_sentry_cli import cli, git  # noqa: F401 (fixture)
from projects.models import Project, ProjectMembership, Role
from releases.models import Commit, Repository


def make_checkout(path, remote="git@github.com:acme/fe-app.git"):
    path.mkdir()
    git(path, "init", "-q")
    git(path, "config", "user.email", "dev@example.com")
    git(path, "config", "user.name", "Dev Eloper")
    git(path, "remote", "add", "origin", remote)
    commit(path, "a.txt", "Add a")
    commit(path, "b.txt", "Fix the checkout total")


def commit(path, name, message) -> str:
    (path / name).write_text(name)
    git(path, "add", name)
    git(path, "commit", "-q", "-m", message)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=path, check=True, capture_output=True, text=True, timeout=30
    )
    return head.stdout.strip()


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def listed(client, token: str) -> list[str]:
    response = client.get("/api/0/organizations/main/repos/", **bearer(token))
    assert response.status_code == 200
    return [r["name"] for r in response.json()]


def test_set_commits_auto_and_the_repositories_it_names(cli, tmp_path, client):  # noqa: F811
    env, token = cli["env"], cli["env"]["SENTRY_AUTH_TOKEN"]
    checkout = tmp_path / "fe-app"
    make_checkout(checkout)

    # nothing listed yet: sentry-cli --auto records the local history (under the remote's name) and succeeds
    run_cli(env, "releases", "new", "1.0.0")
    out = run_cli(env, "releases", "set-commits", "1.0.0", "--auto", cwd=checkout).stdout
    assert "Success! Set commits for release 1.0.0" in out
    assert Commit.objects.filter(release__version="1.0.0").count() == 2
    assert listed(client, token) == []  # "origin" is a remote, not a repository

    # a name-matching client (the bundler plugins): nothing matches, so it names the repository itself; accepted
    head = commit(checkout, "c.txt", "Third")
    run_cli(env, "releases", "new", "1.1.0")
    body = {"refs": [{"repository": "acme/fe-app", "commit": head, "previousCommit": "0" * 40}]}
    response = client.put(
        "/api/0/organizations/main/releases/1.1.0/", json.dumps(body), content_type="application/json", **bearer(token)
    )
    assert response.status_code == 200, response.content
    assert listed(client, token) == ["acme/fe-app"]
    assert list(Commit.objects.filter(release__version="1.1.0").values_list("repository", "sha")) == [
        ("acme/fe-app", head)
    ]
    repos = client.get("/api/0/organizations/main/repos/", **bearer(token)).json()
    assert repos[0]["provider"]["id"] and repos[0]["status"] == "active" and repos[0]["dateCreated"]

    # the same name in other case is the same repository
    client.put(
        "/api/0/organizations/main/releases/1.1.0/",
        json.dumps({"refs": [{"repository": "Acme/FE-App", "commit": head}]}),
        content_type="application/json",
        **bearer(token),
    )
    assert Repository.objects.filter(name__iexact="acme/fe-app").count() == 1

    # sentry-cli now knows it: --commit names it, and --auto still works
    run_cli(env, "releases", "new", "1.2.0")
    run_cli(env, "releases", "set-commits", "1.2.0", "--commit", f"acme/fe-app@{head}", cwd=checkout)
    assert list(Commit.objects.filter(release__version="1.2.0").values_list("repository", "sha")) == [
        ("acme/fe-app", head)
    ]
    newest = commit(checkout, "d.txt", "Fourth")
    run_cli(env, "releases", "new", "1.3.0")
    assert "Success!" in run_cli(env, "releases", "set-commits", "1.3.0", "--auto", cwd=checkout).stdout

    assert Commit.objects.filter(release__version="1.3.0", sha=newest).exists()

    # another project's member does not see it
    stranger = get_user_model().objects.create_user("sam")
    other = Project.objects.create(name="Other", slug="other")
    ProjectMembership.objects.create(project=other, user=stranger, role=Role.ADMIN)
    other_token = ApiToken.create_for(stranger, "ci", scope=Scope.WRITE)[1]
    assert listed(client, other_token) == []
