"""npm packages that tests run (a Sentry SDK, a bundler), installed at test time into the repository's `.cache/`
folder (ignored by git), at a pinned version, once: a concurrent run waits on a lock and then finds the package.

Outside CI a missing node or npm, or an install that fails, skips the test that needs it; in CI it fails the test
(testing.utils.require_service). Install scripts never run (`--ignore-scripts`): packages that ship a native
binary as an optional dependency (esbuild) work without them.
"""

import contextlib
import fcntl
import json
import re
import shutil
import subprocess
from pathlib import Path

from testing.utils import require_service

CACHE_DIR = Path(__file__).resolve().parent.parent / ".cache"
NPM_TIMEOUT = 300


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def installed_version(folder: Path, package: str) -> str | None:
    try:
        return json.loads((folder / "node_modules" / package / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


@contextlib.contextmanager
def _install_lock(folder: Path):
    with open(folder / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def npm_package(folder_name: str, package: str, version: str, min_node: tuple[int, ...] = ()) -> Path:
    """The `node_modules` folder of `.cache/<folder_name>` with `package@version` in it (installed when needed)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    require_service(bool(node and npm), f"node and npm are needed for the tests that use {package}")
    if min_node:
        found = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
        wanted = ".".join(map(str, min_node))
        require_service(version_tuple(found) >= min_node, f"{package} {version} needs node >= {wanted}, got {found}")
    folder = CACHE_DIR / folder_name
    folder.mkdir(parents=True, exist_ok=True)
    with _install_lock(folder):
        if installed_version(folder, package) != version:
            manifest = {"name": f"culvert-test-{folder_name}", "private": True, "description": "test cache"}
            (folder / "package.json").write_text(json.dumps(manifest) + "\n")
            command = [npm, "install", "--no-audit", "--no-fund", "--ignore-scripts", "--save-exact"]
            try:
                result = subprocess.run(
                    [*command, f"{package}@{version}"], cwd=folder, capture_output=True, text=True, timeout=NPM_TIMEOUT
                )
                failure = None if result.returncode == 0 else result.stderr[-2000:]
            except subprocess.TimeoutExpired:
                failure = f"timed out after {NPM_TIMEOUT} s"
            require_service(failure is None, f"npm install {package}@{version} failed: {failure}")
            installed = installed_version(folder, package)
            require_service(installed == version, f"npm installed {package} {installed}, not {version}")
    return folder / "node_modules"
