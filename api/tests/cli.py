"""Running the real sentry-cli (the binary beside the test interpreter, from requirements-dev) against a live server:
its own HOME, no dotenv, no update check, no proxies, our token, organization and project."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from testing.utils import require_service

CLI = Path(sys.executable).parent / "sentry-cli"


def cli_path() -> str:
    found = str(CLI) if CLI.exists() else shutil.which("sentry-cli")
    require_service(bool(found), "the sentry-cli binary (pip install sentry-cli) is not installed")
    return found


def cli_env(home: Path, url: str, token: str, project: str = "") -> dict:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower() and not k.startswith("SENTRY_")}
    env.update(
        HOME=str(home),
        SENTRY_URL=url,
        SENTRY_AUTH_TOKEN=token,
        SENTRY_ORG="main",
        SENTRY_LOAD_DOTENV="0",
        SENTRY_DISABLE_UPDATE_CHECK="true",
        SENTRY_NO_PROGRESS_BAR="1",
        SENTRY_HTTP_MAX_RETRIES="0",
    )
    if project:
        env["SENTRY_PROJECT"] = project
    return env


def run_cli(env: dict, *args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [cli_path(), "--log-level=warn", *args],
        env=env,
        cwd=cwd or env["HOME"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check:
        assert result.returncode == 0, (
            f"sentry-cli {' '.join(args)}: {result.returncode}\n{result.stdout}\n{result.stderr}"
        )
    return result
