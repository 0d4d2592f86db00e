"""The real sentry-cli against a live server: releases, commits, deploys (and, in test_sentry_cli_uploads, source
maps). Each command must exit 0 and leave the rows Sentry would have."""

import json
import re
import subprocess

import pytest
from django.contrib.auth import get_user_model

from api.models import ApiToken, Scope
from api.tests.cli import cli_env, run_cli
from artifacts.assemble import read_bundle_member
from artifacts.models import ArtifactBundle, DebugIdArtifact, ReleaseFile
from artifacts.storage import blob_path
from projects.models import Project, ProjectMembership, Role
from releases.actions import record_repositories
from releases.models import Commit, Deploy, Release


@pytest.fixture
def cli(transactional_db, live_server_url, tmp_path):
    user = get_user_model().objects.create_user("ci", "ci@example.com", "pw")
    project = Project.objects.create(name="Shop", slug="shop")
    ProjectMembership.objects.create(project=project, user=user, role=Role.ADMIN)
    _, write = ApiToken.create_for(user, "ci", scope=Scope.WRITE)
    _, admin = ApiToken.create_for(user, "admin", scope=Scope.ADMIN)
    home = tmp_path / "home"
    home.mkdir()
    return {
        "project": project,
        "env": cli_env(home, live_server_url, write, "shop"),
        "admin_env": cli_env(home, live_server_url, admin, "shop"),
        "home": home,
    }


def git(repo, *args):
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, timeout=30)


def make_repo(path):
    path.mkdir()
    git(path, "init", "-q")
    git(path, "config", "user.email", "dev@example.com")
    git(path, "config", "user.name", "Dev Eloper")
    git(path, "remote", "add", "origin", "https://github.com/acme/shop.git")
    for name, message in [("a.txt", "Add a"), ("b.txt", "Fix the checkout total")]:
        (path / name).write_text(name)
        git(path, "add", name)
        git(path, "commit", "-q", "-m", message)


def test_info_shows_the_token_scopes(cli):
    out = run_cli(cli["env"], "info").stdout
    assert "project:releases" in out and "Default Organization: main" in out


def test_release_lifecycle(cli, tmp_path):
    env, project = cli["env"], cli["project"]
    assert "Created release 1.0.0" in run_cli(env, "releases", "new", "1.0.0").stdout
    release = Release.objects.get(project=project, version="1.0.0")
    assert release.date_created is not None and release.date_finalized is None
    run_cli(env, "releases", "new", "1.0.0")  # again: Sentry's 208, still exit 0
    assert Release.objects.filter(version="1.0.0").count() == 1

    run_cli(env, "releases", "finalize", "1.0.0")
    release.refresh_from_db()
    assert release.date_finalized is not None

    listed = run_cli(env, "releases", "list").stdout
    assert "1.0.0" in listed
    assert "1.0.0" in run_cli(env, "releases", "info", "1.0.0").stdout

    repo = tmp_path / "repo"
    make_repo(repo)
    run_cli(env, "releases", "new", "1.1.0")
    assert "Set commits" in run_cli(env, "releases", "set-commits", "1.1.0", "--local", cwd=repo).stdout
    commits = list(Commit.objects.filter(release__version="1.1.0").order_by("position"))
    assert [c.message.strip() for c in commits] == ["Fix the checkout total", "Add a"]
    assert commits[0].author_email == "dev@example.com" and commits[0].author_name == "Dev Eloper"
    assert len(commits[0].sha) == 40 and commits[0].timestamp is not None
    info = run_cli(env, "releases", "info", "1.1.0", "--show-commits").stdout
    assert commits[0].sha in info

    # --commit names a repository the server knows: one named by set-commits (--local records the remote's name,
    # "origin", which is not listed as one: api.tests.test_set_commits_auto)
    run_cli(env, "releases", "new", "1.2.0")
    repository = "acme/shop"
    record_repositories(Release.objects.filter(version="1.1.0"), {repository})
    run_cli(env, "releases", "set-commits", "1.2.0", "--commit", f"{repository}@abcdef1234", cwd=repo)
    assert list(Commit.objects.filter(release__version="1.2.0").values_list("repository", "sha")) == [
        (repository, "abcdef1234")
    ]

    run_cli(env, "deploys", "new", "-r", "1.1.0", "-e", "production", "-n", "blue")
    deploy = Deploy.objects.get(release__version="1.1.0")
    assert (deploy.environment, deploy.name) == ("production", "blue")
    assert "production" in run_cli(env, "deploys", "list", "-r", "1.1.0").stdout

    # deleting needs the admin scope; then the release, its commits and deploys are gone
    refused = run_cli(env, "releases", "delete", "1.1.0", check=False)
    assert refused.returncode != 0 and "admin scope" in refused.stderr
    assert "Deleted release 1.1.0" in run_cli(cli["admin_env"], "releases", "delete", "1.1.0").stdout
    assert not Release.objects.filter(version="1.1.0").exists()
    assert not Commit.objects.filter(repository=repository, sha=commits[0].sha).exists()
    assert not Deploy.objects.exists()


def test_propose_version_needs_no_server(cli, tmp_path):
    repo = tmp_path / "repo"
    make_repo(repo)
    env = dict(cli["env"], SENTRY_URL="http://127.0.0.1:9")  # nothing listens there
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True)
    assert run_cli(env, "releases", "propose-version", cwd=repo).stdout.strip() == head.stdout.strip()


MINIFIED_JS = 'function add(a,b){return a+b}function boom(){throw new Error("boom "+add(1,2))}boom();\n'
SOURCE_MAP = {
    "version": 3,
    "file": "app.min.js",
    "sources": ["src/app.js"],
    "sourcesContent": ["function add(a, b) {\n  return a + b;\n}\nfunction boom() {\n  throw new Error('boom');\n}\n"],
    "names": ["add", "a", "b", "boom", "Error"],
    "mappings": "AAAA,SAASA,IAAIC,EAAGC,GACd,OAAOD,EAAIC,EAEb,SAASC,OACP,MAAM,IAAIC",
}


def write_build(folder):
    folder.mkdir()
    (folder / "app.min.js").write_text(MINIFIED_JS + "//# sourceMappingURL=app.min.js.map\n")
    (folder / "app.min.js.map").write_text(json.dumps(SOURCE_MAP))


def test_sourcemaps_inject_and_upload(cli, tmp_path):
    env, project = cli["env"], cli["project"]
    build = tmp_path / "build"
    write_build(build)
    run_cli(env, "sourcemaps", "inject", str(build))
    injected = (build / "app.min.js").read_text()
    debug_id = re.search(r"debugId=([0-9a-f-]{36})", injected)[1]

    run_cli(env, "sourcemaps", "upload", str(build))
    bundle = ArtifactBundle.objects.get()
    assert list(bundle.projects.all()) == [project] and bundle.release == ""
    assert blob_path(bundle.blob.checksum).is_file()
    artifacts = {(str(a.debug_id), a.file_type, a.url) for a in DebugIdArtifact.objects.all()}
    assert artifacts == {(debug_id, "minified_source", "~/app.min.js"), (debug_id, "source_map", "~/app.min.js.map")}
    minified = DebugIdArtifact.objects.get(file_type="minified_source")
    assert read_bundle_member(bundle, minified.path, 10**6).decode() == injected
    assert not ReleaseFile.objects.exists()

    run_cli(env, "releases", "new", "4.0.0")
    run_cli(env, "sourcemaps", "upload", "--release", "4.0.0", "--dist", "web", str(build))
    files = {f.name: f for f in ReleaseFile.objects.filter(project=project, release="4.0.0", dist="web")}
    assert set(files) == {"~/app.min.js", "~/app.min.js.map"}
    assert files["~/app.min.js"].headers["Sourcemap"] == "app.min.js.map"
    stored = read_bundle_member(files["~/app.min.js.map"].bundle, files["~/app.min.js.map"].bundle_path, 10**6)
    assert json.loads(stored)["mappings"].endswith(SOURCE_MAP["mappings"])  # inject shifted it by its lines
    assert json.loads(stored)["debugId"] == debug_id

    # a release deleted (admin) takes its files along
    run_cli(cli["admin_env"], "releases", "delete", "4.0.0")
    assert not ReleaseFile.objects.exists()
