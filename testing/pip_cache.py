"""Python packages that tests run at a version other than the one in .venv (the previous major of sentry-sdk, next to
the current one), installed at test time with `pip install --target` into the repository's `.cache/` folder (ignored
by git), once per version: a concurrent run waits on a lock and then finds the folder.

A test puts the folder first on the PYTHONPATH of the child process that imports the package, so the child sees
that version and the test process keeps its own. The folder is complete (the package's dependencies are installed
into it too), so it does not depend on what .venv holds.

Outside CI a failed install skips the test that needs it; in CI it fails the test (testing.utils.
require_service), like testing.npm_cache.
"""

import contextlib
import fcntl
import shutil
import subprocess
import sys
from pathlib import Path

from testing.utils import require_service

CACHE_DIR = Path(__file__).resolve().parent.parent / ".cache"
PIP_TIMEOUT = 300
MARKER = ".culvert-installed"  # written last: a folder without it is a broken install, made again


@contextlib.contextmanager
def _install_lock(path: Path):
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def pip_package(package: str, version: str) -> Path:
    """The folder to put on PYTHONPATH for `package==version` (installed there when needed)."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    folder = CACHE_DIR / f"pip-{package}-{version}"
    requirement = f"{package}=={version}"
    with _install_lock(CACHE_DIR / f".pip-{package}-{version}.lock"):
        marker = folder / MARKER
        if marker.is_file() and marker.read_text().strip() == requirement:
            return folder
        shutil.rmtree(folder, ignore_errors=True)
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input"]
        try:
            result = subprocess.run(
                [*command, "--target", str(folder), requirement], capture_output=True, text=True, timeout=PIP_TIMEOUT
            )
            failure = None if result.returncode == 0 else result.stderr[-2000:]
        except subprocess.TimeoutExpired:
            failure = f"timed out after {PIP_TIMEOUT} s"
        require_service(failure is None, f"pip install {requirement} failed: {failure}")
        marker.write_text(requirement + "\n")
    return folder
