"""The SDK versions the real-SDK (conformance) tests run, in one place, and the fixtures that install them.

Each family runs its current major and the last release of the previous one (the newest at the time of writing;
`pip index versions sentry-sdk`, `npm view @sentry/node versions`). Raise a version here and the tests install it
on their next run; .venv's own sentry-sdk (requirements-dev.txt) is only for the tests that use it in-process.

- Python: every version is installed with `pip install --target` into .cache/ (testing.pip_cache) and run in a
  child process with that folder first on its PYTHONPATH, so both majors run side by side whatever .venv holds.
- @sentry/node: installed with npm into .cache/ (testing.npm_cache), one folder per major, put on NODE_PATH.
- @sentry/browser: installed the same way; its CDN bundle (build/bundles/bundle.min.js, which the npm package
  ships) is loaded by a page in Debian's Chromium (ingest/tests/test_browser_sdk.py).
"""

from dataclasses import dataclass
from pathlib import Path

import pytest

from testing.npm_cache import npm_package
from testing.pip_cache import pip_package

PYTHON_SDKS = {"3": "3.0.1", "2": "2.76.0"}  # major: version (sentry-sdk on PyPI)
NODE_SDKS = {"11": "11.12.0", "10": "10.78.0"}  # @sentry/node on npm
BROWSER_SDKS = {"11": "11.19.0", "10": "10.78.0"}  # @sentry/browser on npm
# What each Node SDK major declares in its package.json `engines`: a test is skipped (fails in CI) on an older Node.
NODE_MIN_VERSIONS = {"11": (20, 19, 0), "10": (18, 0, 0)}


@dataclass(frozen=True)
class PythonSdk:
    major: str
    version: str
    path: Path  # to put first on the child's PYTHONPATH

    def env(self) -> dict[str, str]:
        return {"PYTHONPATH": str(self.path)}


@dataclass(frozen=True)
class NpmSdk:
    major: str
    version: str
    node_modules: Path


def python_sdk_for(major: str) -> PythonSdk:
    return PythonSdk(major, PYTHON_SDKS[major], pip_package("sentry-sdk", PYTHON_SDKS[major]))


def node_sdk_for(major: str) -> NpmSdk:
    version = NODE_SDKS[major]
    folder = npm_package(f"node-sdk-{major}", "@sentry/node", version, min_node=NODE_MIN_VERSIONS[major])
    return NpmSdk(major, version, folder)


def browser_sdk_for(major: str) -> NpmSdk:
    version = BROWSER_SDKS[major]
    return NpmSdk(major, version, npm_package(f"browser-sdk-{major}", "@sentry/browser", version))


def _majors(versions: dict[str, str]) -> list[str]:
    return sorted(versions, key=int, reverse=True)  # the current major first


CURRENT_NODE_MAJOR = _majors(NODE_SDKS)[0]


@pytest.fixture(scope="session", params=_majors(PYTHON_SDKS), ids=lambda major: f"sentry-sdk-{major}.x")
def each_python_sdk(request) -> PythonSdk:
    """Each Python SDK major in turn (a test that uses this fixture runs once per major)."""
    return python_sdk_for(request.param)


@pytest.fixture(scope="session", params=_majors(NODE_SDKS), ids=lambda major: f"sentry-node-{major}.x")
def each_node_sdk(request) -> NpmSdk:
    """Each @sentry/node major in turn."""
    return node_sdk_for(request.param)


@pytest.fixture(scope="session", params=_majors(BROWSER_SDKS), ids=lambda major: f"sentry-browser-{major}.x")
def each_browser_sdk(request) -> NpmSdk:
    """Each @sentry/browser major in turn."""
    return browser_sdk_for(request.param)
