"""The web server's command line, as the Makefile and the Procfile write it: for the tests (testing.utils) and the
benchmarks, which run from a runtime-only virtualenv too, so nothing here imports beyond the standard library."""

import sys
from pathlib import Path

WEB_SERVER = "waitress"  # what `make run` and `make serve` (Procfile) start: bugsink.webserver


def web_server_command(
    port: int, *, threads: int = 8, workers: int = 1, server: str | None = None, access_log: bool = False
) -> list[str]:
    """The command line of the web server on 127.0.0.1:`port`, as the Makefile and the Procfile write it.

    `server` picks another candidate for benchmarks (gunicorn, granian, waitress)."""
    server = server or WEB_SERVER
    bin_dir = Path(sys.executable).parent
    if server == "gunicorn":
        command = [str(bin_dir / "gunicorn"), "bugsink.wsgi", "--bind", f"127.0.0.1:{port}"]
        command += ["--workers", str(workers), "--threads", str(threads), "--graceful-timeout", "10"]
        return command + (["--access-logfile", "-"] if access_log else [])
    if server == "granian":
        command = [str(bin_dir / "granian"), "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port)]
        command += ["--workers", str(workers), "--blocking-threads", str(threads), "--workers-kill-timeout", "10"]
        return command + (["--access-log"] if access_log else []) + ["bugsink.wsgi:application"]
    if server == "waitress":
        command = [str(bin_dir / "python"), "-m", "bugsink.webserver", "--port", str(port)]
        command += ["--threads", str(threads), "--workers", str(workers)]
        return command + (["--access-log"] if access_log else [])
    raise ValueError(f"unknown web server {server!r}")
