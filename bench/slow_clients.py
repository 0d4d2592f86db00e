"""Slow clients against the web server as `make run` starts it: do trickling connections starve everyone else?

Starts the server (a fresh temporary data dir, SQLite, digest inline, 8 threads as `make run`) on a free loopback
port, then for --seconds each:

    quiet    /health/live latency and the ingest rate of one normal sender, nothing else going on
    trickle  the same while --slow connections send an envelope POST one byte per second (--trickle body: full
             headers then a trickled body; --trickle headers: the request head itself trickled)

and prints a JSON report. Candidates can be compared with --server (gunicorn: the threaded worker; granian: its
WSGI interface; waitress). Loopback only; every loop and socket is bounded; the server is stopped at the end.

    python bench/slow_clients.py --server granian --slow 20 --seconds 20
"""

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
sys.path.insert(0, str(ROOT))

from bench.ingest_bench import machine  # noqa: E402
from testing.utils import exception_event, free_port, make_envelope, web_server_command  # noqa: E402


def wait_live(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection(urlsplit(url).hostname, urlsplit(url).port, timeout=2)
            connection.request("GET", "/health/live")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("server did not start")


class Trickler(threading.Thread):
    """One connection sending a POST at one byte per second until `stop` (or the server closes it)."""

    def __init__(self, address, path: str, mode: str, stop: threading.Event):
        super().__init__(daemon=True)
        self.address, self.path, self.mode, self.stop = address, path, mode, stop
        self.bytes_sent = 0

    def run(self):
        body = b"x" * 100_000
        head = (
            f"POST {self.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
            "Content-Type: application/x-sentry-envelope\r\n\r\n"
        ).encode()
        try:
            with socket.create_connection(self.address, timeout=5) as sock:
                if self.mode == "body":
                    sock.sendall(head)
                    data = body
                else:
                    data = head + body
                for byte in data:  # bounded by the data, and by `stop`
                    if self.stop.wait(1.0):
                        return
                    sock.sendall(bytes([byte]))
                    self.bytes_sent += 1
        except OSError:
            return  # the server gave up on us: fine, that is one way to be immune


class Prober(threading.Thread):
    """GET /health/live every 0.25 s; records each latency (a timeout counts as the timeout)."""

    def __init__(self, address, stop: threading.Event, timeout: float):
        super().__init__(daemon=True)
        self.address, self.stop, self.timeout = address, stop, timeout
        self.latencies: list[float] = []
        self.failures = 0

    def run(self):
        while not self.stop.is_set():
            start = time.perf_counter()
            try:
                connection = http.client.HTTPConnection(*self.address, timeout=self.timeout)
                connection.request("GET", "/health/live")
                response = connection.getresponse()
                response.read()
                connection.close()
                ok = response.status == 200
            except OSError:
                ok = False
            self.latencies.append(time.perf_counter() - start)
            self.failures += not ok
            self.stop.wait(0.25)


class Sender(threading.Thread):
    """One normal SDK-like sender: sequential envelope POSTs on a keep-alive connection."""

    def __init__(self, address, path: str, key: str, stop: threading.Event, timeout: float):
        super().__init__(daemon=True)
        self.address, self.path, self.key, self.stop, self.timeout = address, path, key, stop, timeout
        self.accepted = 0
        self.failed = 0

    def run(self):
        connection = None
        while not self.stop.is_set():
            body = make_envelope(exception_event(value=f"bench {uuid.uuid4().hex[:4]}"))
            try:
                connection = connection or http.client.HTTPConnection(*self.address, timeout=self.timeout)
                connection.request(
                    "POST",
                    self.path,
                    body=body,
                    headers={"X-Sentry-Auth": f"Sentry sentry_version=7, sentry_key={self.key}"},
                )
                response = connection.getresponse()
                response.read()
                if response.status == 200:
                    self.accepted += 1
                else:
                    self.failed += 1
            except OSError:
                self.failed += 1
                connection = None


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else None


def phase(address, path, key, seconds: float, slow: int, trickle: str, timeout: float) -> dict:
    stop = threading.Event()
    tricklers = [Trickler(address, path, trickle, stop) for _ in range(slow)]
    for trickler in tricklers:
        trickler.start()
    time.sleep(min(2.0, seconds / 4) if slow else 0)  # let the slow connections take hold first
    prober, sender = Prober(address, stop, timeout), Sender(address, path, key, stop, timeout)
    start = time.perf_counter()
    prober.start()
    sender.start()
    time.sleep(seconds)
    stop.set()
    for thread in (prober, sender, *tricklers):
        thread.join(timeout + 5)
    elapsed = time.perf_counter() - start
    return {
        "slow_connections": slow,
        "seconds": round(elapsed, 1),
        "health_probes": len(prober.latencies),
        "health_failed": prober.failures,
        "health_ms_p50": round(percentile(prober.latencies, 50) * 1000, 1) if prober.latencies else None,
        "health_ms_max": round(max(prober.latencies) * 1000, 1) if prober.latencies else None,
        "ingest_accepted": sender.accepted,
        "ingest_failed": sender.failed,
        "ingest_per_second": round(sender.accepted / elapsed, 1),
        "trickled_bytes": sum(t.bytes_sent for t in tricklers),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default=None, help="gunicorn, granian or waitress (default: what make run uses)")
    parser.add_argument("--threads", type=int, default=8, help="web threads, as `make run`")
    parser.add_argument("--slow", type=int, default=20, help="trickling connections")
    parser.add_argument("--trickle", choices=["body", "headers"], default="body")
    parser.add_argument("--seconds", type=float, default=20, help="length of each phase")
    parser.add_argument("--timeout", type=float, default=30, help="socket timeout of the prober and the sender")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="bugsink-slow-"))
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bugsink.settings",
        "BUGSINK_DATA_DIR": str(data_dir),
        "BASE_URL": f"http://127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
        "QUOTA_EVENTS_PER_MINUTE": "0",
        "QUOTA_EVENTS_PER_HOUR": "0",
    }
    for name in ("CELERY_BROKER_URL", "DATABASE_URL"):
        env.pop(name, None)
    server = None
    try:
        subprocess.run([BIN / "python", "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        dsn = subprocess.run(
            [BIN / "python", "manage.py", "createproject", "slow"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        parts = urlsplit(dsn)
        path = f"/api/{parts.path.rsplit('/', 1)[1]}/envelope/"
        command = web_server_command(port, threads=args.threads, server=args.server)
        log = open(data_dir / "server.log", "wb")  # noqa: SIM115 (closed with the directory)
        server = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        wait_live(f"http://127.0.0.1:{port}")
        address = ("127.0.0.1", port)
        report = {
            "server": " ".join(str(c) for c in command).replace(str(BIN) + "/", ""),
            "trickle": args.trickle,
            "machine": machine(),
            "quiet": phase(address, path, parts.username, args.seconds, 0, args.trickle, args.timeout),
            "trickle_phase": phase(address, path, parts.username, args.seconds, args.slow, args.trickle, args.timeout),
        }
        print(json.dumps(report, indent=2))
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
