"""What users run is what we test: the runtime reaches only packages of the runtime lock, and the venv the suite runs
in holds exactly the versions its lock pins.

A green suite once hid a production install that did not start: `make test` installs the dev lock, and a package
that only the test tools brought in (`packaging`, then needed by kombu's Redis transport) was missing from the
runtime. The guard below imports every runtime module of the project, and the Celery worker machinery with its Redis
transport, in a fresh interpreter where every installed package that the runtime lock does not list is made
unimportable. Each guard is shown failing on a planted violation.
"""

import json
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Test support: the `testing` package (fixtures, helpers, the test settings) is imported by tests only and may use
# dev packages; a runtime module that imports it reaches them, and the guard fails on that.
TEST_SUPPORT_PACKAGES = {"testing"}
NOT_RUNTIME_DIRS = {"tests", "bench", "bin", ".venv", ".cache", "node_modules", "data", "static"}

# Third-party modules that the production processes load lazily (the web server, the Celery CLI, the worker with its
# pools, the beat thread, the Redis transport), beyond what importing the project's modules loads.
RUNTIME_EXTRAS = [
    "waitress",
    "celery.bin.celery",
    "celery.apps.worker",
    "celery.apps.beat",
    "celery.worker.consumer",
    "celery.concurrency.solo",
    "celery.concurrency.thread",
    "celery.beat",
    "kombu.transport.redis",
    "celery.backends.redis",
    "psycopg",
    "brotli",
    "zstandard",
    "symbolic",
    "drf_spectacular_sidecar",
]

# Runs in a fresh interpreter: blocks every top-level module that belongs only to distributions outside ALLOWED,
# then imports MODULES; prints one JSON line {"failed": {module: error}, "blocked": [names]}.
GUARD = r"""
import importlib, importlib.abc, json, os, sys, traceback
from importlib import metadata

allowed = set(json.loads(os.environ["GUARD_ALLOWED"]))
modules = json.loads(os.environ["GUARD_MODULES"])

def canonical(name):
    return name.lower().replace("_", "-").replace(".", "-")

owners = {}
for top, dists in metadata.packages_distributions().items():
    owners.setdefault(top, set()).update(canonical(d) for d in dists)
blocked_names = {top for top, dists in owners.items() if not (dists & allowed)}
attempts = []

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in blocked_names:
            attempts.append(name)
            raise ModuleNotFoundError(f"No module named {name!r} (not in the runtime lock)", name=name)
        return None

sys.meta_path.insert(0, Block())
for name in list(sys.modules):
    if name.partition(".")[0] in blocked_names:
        del sys.modules[name]

import django
django.setup()
failed = {}
for module in modules:
    try:
        importlib.import_module(module)
    except BaseException as error:  # noqa: BLE001 - every failure is the finding
        failed[module] = "".join(traceback.format_exception_only(error)).strip()[-400:]
try:
    from bugsink.celery import app
    app.loader.import_default_modules()
    app.connection_for_write().transport  # resolves the broker's transport class; connects to nothing
    from django.core.management import call_command
    call_command("check", verbosity=0)
except BaseException as error:  # noqa: BLE001
    failed["<celery app and manage.py check>"] = "".join(traceback.format_exception_only(error)).strip()[-400:]
print(json.dumps({"failed": failed, "blocked": sorted(set(attempts))}))
"""


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked(path: Path) -> dict[str, str]:
    """The lock file's pins: {canonical name: version}."""
    pins = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)", line)
        if match:
            pins[canonical(match.group(1))] = match.group(2)
    return pins


def runtime_modules(root: Path = ROOT) -> list[str]:
    modules = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        folders = relative.parts[:-1]
        if set(folders) & NOT_RUNTIME_DIRS or any(f.startswith(".") for f in folders):
            continue
        if relative.parts[0] in TEST_SUPPORT_PACKAGES:
            continue
        if len(relative.parts) == 1 and relative.name != "manage.py":
            continue
        if relative.name == "manage.py":
            continue
        parts = list(relative.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules.append(".".join(parts))
    return modules


def run_guard(tmp_path, allowed: set[str], modules: list[str], extra_path: Path | None = None) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bugsink.settings",
        "BUGSINK_DATA_DIR": str(tmp_path / "data"),
        "SECRET_KEY": "dependency-guard",
        # a broker URL makes the settings take the production path; nothing connects to it
        "CELERY_BROKER_URL": "redis://127.0.0.1:9/0",
        "GUARD_ALLOWED": json.dumps(sorted(allowed)),
        "GUARD_MODULES": json.dumps(modules),
        "PYTHONPATH": os.pathsep.join(str(p) for p in (extra_path, ROOT) if p),
    }
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", GUARD], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def runtime_lock() -> dict[str, str]:
    return locked(ROOT / "requirements.txt")


def test_runtime_reaches_only_the_runtime_lock(tmp_path, runtime_lock):
    modules = runtime_modules()
    assert {"bugsink.settings", "digest.batch", "bugsink.webserver", "bugsink.celery"} <= set(modules)
    report = run_guard(tmp_path, set(runtime_lock), modules + RUNTIME_EXTRAS)
    assert report["failed"] == {}, json.dumps(report, indent=2)


def test_guard_fails_when_a_runtime_dependency_is_missing_from_the_lock(tmp_path, runtime_lock):
    # the bug this guard is for: kombu's Redis transport needs `packaging`, which only the test tools brought in
    report = run_guard(tmp_path, set(runtime_lock) - {"packaging"}, ["kombu.transport.redis"])
    assert "kombu.transport.redis" in report["failed"]
    assert "packaging" in report["failed"]["kombu.transport.redis"]


def test_guard_fails_on_a_runtime_module_that_imports_a_dev_package(tmp_path, runtime_lock):
    planted = tmp_path / "planted"
    planted.mkdir()
    (planted / "planted_runtime_module.py").write_text("import pytest  # a runtime module reaching a test tool\n")
    report = run_guard(tmp_path, set(runtime_lock), ["planted_runtime_module"], extra_path=planted)
    assert "pytest" in report["failed"]["planted_runtime_module"]
    assert "pytest" in report["blocked"]


def test_runtime_module_walk_excludes_test_support_only(tmp_path):
    # the walk that feeds the guard: a test-support file is left out, a new runtime module is found
    (tmp_path / "app" / "tests").mkdir(parents=True)
    (tmp_path / "testing").mkdir()
    for name in (
        "app/__init__.py",
        "app/models.py",
        "app/tests/test_x.py",
        "conftest.py",
        "manage.py",
        "testing/__init__.py",
        "testing/utils.py",
    ):
        (tmp_path / name).write_text("")
    assert runtime_modules(tmp_path) == ["app", "app.models"]


def test_guard_fails_on_a_runtime_module_that_imports_test_support(tmp_path, runtime_lock):
    # the test helpers are left out of the walk, not out of the guard: a runtime module importing them reaches pytest
    planted = tmp_path / "planted"
    planted.mkdir()
    (planted / "planted_helper_user.py").write_text("from testing.utils import wait_until  # noqa: F401\n")
    report = run_guard(tmp_path, set(runtime_lock), ["planted_helper_user"], extra_path=planted)
    assert "pytest" in report["failed"]["planted_helper_user"]


def test_the_lock_pins_every_package_with_hashes():
    for lock in ("requirements.txt", "requirements-dev.txt", "requirements-mysql.txt"):
        text = (ROOT / lock).read_text()
        blocks = [block for block in re.split(r"\n(?=[A-Za-z0-9])", text) if re.match(r"^[A-Za-z0-9]", block)]
        assert blocks, lock
        for block in blocks:
            assert "==" in block.splitlines()[0], (lock, block.splitlines()[0])
            assert "--hash=sha256:" in block, (lock, block.splitlines()[0])


def test_dev_lock_keeps_the_runtime_versions(runtime_lock):
    dev = locked(ROOT / "requirements-dev.txt")
    assert {name: dev.get(name) for name in runtime_lock} == runtime_lock


def test_the_venv_holds_exactly_the_locked_versions():
    # `make test` installed requirements-dev.txt with --require-hashes --no-deps: every pin, at its version
    dev = locked(ROOT / "requirements-dev.txt")
    installed = {canonical(d.metadata["Name"]): d.version for d in metadata.distributions()}
    marker_only = {"async-timeout", "colorama", "tzdata"}  # pinned for other platforms or Pythons
    mismatched = {
        name: (version, installed.get(name))
        for name, version in dev.items()
        if installed.get(name) != version and not (name in marker_only and name not in installed)
    }
    assert mismatched == {}
