"""Ingest load generator: N events from C concurrent keep-alive senders.

Reports accepted events/s, request latency p50/p95/p99, end-to-end digested events/s (until the last event is
stored, read from the database the server uses) and the peak RSS of the server's processes.

    python bench/loadgen.py --dsn http://KEY@127.0.0.1:8000/1 --events 10000 --concurrency 8 \
        [--payload samples --samples python-sdk3] [--endpoint envelope|store] [--gzip] \
        [--server-pattern 'gunicorn|celery']
    python bench/loadgen.py --dsn ... --payload synthetic --issues 20 --size 10240

What it sends (`--payload`, named in the report):
- `samples` (the default): events captured from the real SDKs (bugsink/tests/samples/, see its README), taken in
  turn, each with a fresh event_id and the current time; `--samples` names folders (every file in them) or
  folder/name files, comma-separated. The default, `python-sdk3`, is what sentry-sdk 3.0.1 sent for the capture
  script's 14 scenarios (6.7 KB on average as sent here, from a 1 KB message to the 15-frame web request error of
  16 KB and two long stacks of 22 and 23 KB); each sample is an issue of its own.
- `synthetic`: the earlier generated body (8 frames, padded to --size bytes with random text in `extra`) over
  --issues issues; the figures in bench/RESULTS.md before the samples say so.

Run it with the server's environment (DATABASE_URL / BUGSINK_DATA_DIR) so it can count stored events. It only
talks to the address in the DSN, which must be a loopback address, and every loop is bounded.
"""

import argparse
import gzip
import http.client
import json
import os
import random
import string
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
SAMPLES_DIR = Path(__file__).resolve().parent.parent / "bugsink" / "tests" / "samples"
DEFAULT_SAMPLES = "python-sdk3"


_PADDING: dict[int, str] = {}


def _padding(length: int, rng: random.Random) -> str:
    if length not in _PADDING:
        _PADDING[length] = "".join(random.Random(length).choices(string.ascii_letters, k=2 * length))
    start = rng.randrange(length)
    return _PADDING[length][start : start + length]


def make_event(issue: int, size: int, rng: random.Random) -> dict:
    frames = [
        {
            "filename": f"app/module_{issue}_{i}.py",
            "module": f"app.module_{issue}_{i}",
            "function": f"handler_{i}",
            "lineno": 10 + i,
            "in_app": True,
            "context_line": f"    result = compute_{i}(payload)",
            "pre_context": ["def handler(payload):", "    check(payload)"],
            "post_context": ["    return result", ""],
            "vars": {"payload": "{'id': 1}", "i": str(i)},
        }
        for i in range(8)
    ]
    event = {
        "event_id": uuid.uuid4().hex,
        "timestamp": time.time(),
        "platform": "python",
        "level": "error",
        "release": "bench@1.0.0",
        "environment": "bench",
        "server_name": "bench-host",
        "tags": {"customer": f"c{rng.randint(1, 50)}"},
        "exception": {
            "values": [
                {
                    "type": f"BenchError{issue}",
                    "value": f"failure {rng.randint(1, 10**9)}",
                    "stacktrace": {"frames": frames},
                }
            ]
        },
        "extra": {},
    }
    base = len(json.dumps(event))
    if size > base:
        # random text made once per size and sliced at a random offset: the load generator must not eat the CPU
        # the server under test needs
        event["extra"]["padding"] = _padding(size - base - 20, rng)
    return event


def envelope_body(event: dict) -> bytes:
    return envelope_of(event["event_id"], json.dumps(event).encode())


def envelope_of(event_id: str, payload: bytes) -> bytes:
    header = json.dumps({"event_id": event_id}).encode()
    item = json.dumps({"type": "event", "length": len(payload)}).encode()
    return header + b"\n" + item + b"\n" + payload + b"\n"


class SyntheticPayload:
    """make_event's body: `issues` issues, padded to about `size` bytes."""

    def __init__(self, issues: int, size: int):
        self.issues, self.size = issues, size

    def describe(self) -> dict:
        return {"payload": "synthetic", "issues": self.issues, "size": self.size}

    def event(self, job: int, rng: random.Random) -> tuple[str, bytes]:
        event = make_event(job % self.issues, self.size, rng)
        return event["event_id"], json.dumps(event).encode()


EVENT_ID_SLOT = b"__loadgen_event_id__"
TIMESTAMP_SLOT = b'"__loadgen_timestamp__"'


class SamplePayload:
    """Captured SDK events (see the module docstring), each serialized once with slots for the event id and the
    timestamp, which every event fills anew (bytes.replace: the load generator must not eat the CPU the server
    under test needs)."""

    def __init__(self, spec: str = DEFAULT_SAMPLES, samples_dir: Path = SAMPLES_DIR):
        self.spec = spec
        self.names: list[str] = []
        self.templates: list[bytes] = []
        for part in [part.strip() for part in spec.split(",") if part.strip()]:
            target = samples_dir / part
            paths = sorted(target.glob("*.json")) if target.is_dir() else [target.with_suffix(".json")]
            for path in paths:
                if not path.is_file():
                    raise SystemExit(f"no such sample: {path}")
                event = json.loads(path.read_text())
                event["event_id"], event["timestamp"] = EVENT_ID_SLOT.decode(), TIMESTAMP_SLOT.decode().strip('"')
                self.names.append(f"{path.parent.name}/{path.stem}")
                self.templates.append(json.dumps(event).encode())
        if not self.templates:
            raise SystemExit(f"no samples in {spec!r}")

    @property
    def issues(self) -> int:
        return len(self.templates)

    def describe(self) -> dict:
        sizes = [len(template) for template in self.templates]
        return {
            "payload": f"samples: {self.spec}",
            "samples": len(sizes),
            "sample_bytes_mean": round(sum(sizes) / len(sizes)),
            "sample_bytes_min_max": [min(sizes), max(sizes)],
        }

    def event(self, job: int, rng: random.Random) -> tuple[str, bytes]:
        event_id = uuid.uuid4().hex
        body = self.templates[job % len(self.templates)]
        body = body.replace(EVENT_ID_SLOT, event_id.encode()).replace(TIMESTAMP_SLOT, repr(time.time()).encode())
        return event_id, body


class Sender(threading.Thread):
    def __init__(self, args, url, key, jobs, results, lock, start, payload):
        super().__init__(daemon=True)
        self.args, self.url, self.key, self.jobs, self.results, self.lock = args, url, key, jobs, results, lock
        self.payload = payload
        self.start_time = start
        self.rng = random.Random()

    def run(self):
        parts = urlsplit(self.url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        path = parts.path + f"?sentry_key={self.key}&sentry_version=7"
        while True:
            with self.lock:
                if not self.jobs:
                    break
                number = len(self.jobs)
                issue = self.jobs.pop()
            if self.args.rate:  # paced: job k (counting from the first) is due at start + k / rate
                due = self.start_time + (self.args.events - number) / self.args.rate
                time.sleep(max(0.0, due - time.perf_counter()))
            event_id, event = self.payload.event(issue, self.rng)
            body = envelope_of(event_id, event) if self.args.endpoint == "envelope" else event
            headers = {"Content-Type": "application/x-sentry-envelope"}
            if self.args.gzip:
                body = gzip.compress(body, compresslevel=6)
                headers["Content-Encoding"] = "gzip"
            start = time.perf_counter()
            try:
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
                status = 0
            elapsed = time.perf_counter() - start
            with self.lock:
                self.results.append((status, elapsed))
        connection.close()


def process_tree(root_pid: int) -> set[str]:
    """The pids (as text) of `root_pid` and all its descendants."""
    children: dict[str, list[str]] = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                # the parent pid is the 2nd field after the parenthesised command name
                parent = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1]
            except (OSError, IndexError):
                continue
            children.setdefault(parent, []).append(pid)
    found, todo = set(), [str(root_pid)]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, []))
    return found


def role_of(cmdline: str) -> str:
    """A server process's short name, from its command line: web, digest, alerts or other."""
    if any(name in cmdline for name in ("webserver", "gunicorn", "granian", "uvicorn")):
        return "web"
    if "-Q digest" in cmdline:
        return "digest"
    if "celery" in cmdline or "bugsink.worker" in cmdline:
        return "alerts"
    return "other"


class RssSampler(threading.Thread):
    """Peak of the summed RSS of all processes whose command line matches the pattern; with `root_pid`, only of
    that process and its descendants (on a shared machine, another server's processes match the pattern too)."""

    def __init__(self, pattern: str, root_pid: int | None = None):
        super().__init__(daemon=True)
        import re

        self.pattern = re.compile(pattern)
        self.root_pid = root_pid
        self.peak_kib = 0
        self.role_peak_kib: dict[str, int] = {}  # role (web, digest, alerts, other) -> its processes' peak sum
        self.cpu_ticks: dict[str, tuple[str, int, int]] = {}  # pid -> (command line, utime, stime), last seen
        self.stop = threading.Event()

    def tree(self) -> set[str] | None:
        return None if self.root_pid is None else process_tree(self.root_pid)

    def sample(self) -> int:
        total = 0
        by_role: dict[str, int] = {}
        tree = self.tree()
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) == os.getpid() or (tree is not None and pid not in tree):
                continue
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                if not self.pattern.search(cmdline) or "loadgen" in cmdline:
                    continue
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        role = role_of(cmdline)
                        by_role[role] = by_role.get(role, 0) + int(line.split()[1])
                # utime and stime: fields 14 and 15, i.e. the 12th and 13th after the parenthesised name
                fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
                self.cpu_ticks[pid] = (cmdline, int(fields[11]), int(fields[12]))
            except (OSError, IndexError, ValueError):
                continue
        for role, kib in by_role.items():
            self.role_peak_kib[role] = max(self.role_peak_kib.get(role, 0), kib)
        return total

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds (user + system) each server process had used when last sampled, by a short name; and the
        system part of all of them as "system"."""
        tick = os.sysconf("SC_CLK_TCK")
        named: dict[str, float] = {"system": 0.0}
        for cmdline, user, system in self.cpu_ticks.values():
            ticks = user + system
            named["system"] = round(named["system"] + system / tick, 1)
            name = role_of(cmdline)
            named[name] = round(named.get(name, 0) + ticks / tick, 1)
            named[f"{name}_system"] = round(named.get(f"{name}_system", 0) + system / tick, 1)
        return named

    def run(self):
        while not self.stop.is_set():
            self.peak_kib = max(self.peak_kib, self.sample())
            self.stop.wait(0.2)


class BacklogSampler(threading.Thread):
    """How many accepted raw events wait in the ingest store for digest, every `interval` seconds."""

    def __init__(self, directory: str, interval: float = 5.0):
        super().__init__(daemon=True)
        self.directory = Path(directory)
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self.stop = threading.Event()

    def count(self) -> int:
        try:
            return sum(
                1
                for project in self.directory.iterdir()
                if project.is_dir() and project.name.isdigit()
                for entry in os.scandir(project)
                if entry.name.endswith(".event")
            )
        except OSError:
            return 0

    def run(self):
        start = time.perf_counter()
        while not self.stop.is_set():
            self.samples.append((round(time.perf_counter() - start, 1), self.count()))
            self.stop.wait(self.interval)


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def stored_events(project_id: int) -> int:
    """Events digested so far (the project's counter: retention may have deleted some of the stored ones)."""
    from projects.models import Project

    return Project.objects.values_list("digested_event_count", flat=True).get(pk=project_id)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--payload", choices=["samples", "synthetic"], default="samples")
    parser.add_argument("--samples", default=DEFAULT_SAMPLES, help="sample folders or folder/name, comma-separated")
    parser.add_argument("--issues", type=int, default=20, help="synthetic payload: distinct issues")
    parser.add_argument("--size", type=int, default=10_240, help="synthetic payload: approximate event size in bytes")
    parser.add_argument("--endpoint", choices=["envelope", "store"], default="envelope")
    parser.add_argument("--gzip", action="store_true")
    parser.add_argument("--server-pattern", default=r"gunicorn|celery", help="regex over server command lines")
    parser.add_argument("--server-pid", type=int, default=None, help="count only this process and its descendants")
    parser.add_argument("--no-wait", action="store_true", help="do not wait for digest (no database access)")
    parser.add_argument("--wait-timeout", type=float, default=600)
    parser.add_argument("--rate", type=float, default=0, help="target events/s (0: as fast as possible)")
    parser.add_argument("--backlog-dir", help="the server's INGEST_STORE_DIR: sample the digest backlog")
    parser.add_argument(
        "--extra-dsn",
        action="append",
        default=[],
        help="another project's DSN (same server): senders take the projects in turn; end to end counts them all",
    )
    parser.add_argument(
        "--extra-node", action="append", default=[], help="another web node's base URL: senders take the nodes in turn"
    )
    args = parser.parse_args()

    parts = urlsplit(args.dsn)
    if parts.hostname not in LOOPBACK:
        sys.exit("refusing to load anything but a loopback address")
    prefix, _, project_id = parts.path.rpartition("/")
    urls = [f"http://{parts.hostname}:{parts.port}{prefix}/api/{project_id}/{args.endpoint}/"]
    for node in args.extra_node:
        if urlsplit(node).hostname not in LOOPBACK:
            sys.exit("refusing to load anything but a loopback address")
        urls.append(f"{node.rstrip('/')}{prefix}/api/{project_id}/{args.endpoint}/")
    project_id = int(project_id)
    targets = [(url, parts.username) for url in urls]  # (endpoint URL, key) of each sender, taken in turn
    project_ids = [project_id]
    for dsn in args.extra_dsn:
        extra = urlsplit(dsn)
        if extra.hostname not in LOOPBACK:
            sys.exit("refusing to load anything but a loopback address")
        extra_prefix, _, extra_id = extra.path.rpartition("/")
        url = f"http://{extra.hostname}:{extra.port}{extra_prefix}/api/{extra_id}/{args.endpoint}/"
        targets.append((url, extra.username))
        project_ids.append(int(extra_id))

    if not args.no_wait:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bugsink.settings")
        import django

        django.setup()
        before = sum(stored_events(p) for p in project_ids)

    payload = SamplePayload(args.samples) if args.payload == "samples" else SyntheticPayload(args.issues, args.size)
    jobs = [i % payload.issues for i in range(args.events)]
    random.shuffle(jobs)
    results, lock = [], threading.Lock()
    sampler = RssSampler(args.server_pattern, args.server_pid)
    sampler.start()
    backlog = BacklogSampler(args.backlog_dir) if args.backlog_dir else None
    if backlog:
        backlog.start()

    start = time.perf_counter()
    senders = [
        Sender(args, *targets[i % len(targets)], jobs, results, lock, start, payload) for i in range(args.concurrency)
    ]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    sent_seconds = time.perf_counter() - start

    accepted = [t for status, t in results if status == 200]
    failed = len(results) - len(accepted)
    report = {
        "events": args.events,
        "concurrency": args.concurrency,
        **payload.describe(),
        "endpoint": args.endpoint,
        "gzip": args.gzip,
        "accepted": len(accepted),
        "failed": failed,
        "accept_seconds": round(sent_seconds, 2),
        "accepted_per_second": round(len(accepted) / sent_seconds, 1),
        "latency_ms_p50": round(percentile(accepted, 50) * 1000, 1) if accepted else None,
        "latency_ms_p95": round(percentile(accepted, 95) * 1000, 1) if accepted else None,
        "latency_ms_p99": round(percentile(accepted, 99) * 1000, 1) if accepted else None,
    }
    if not args.no_wait:
        deadline = time.perf_counter() + args.wait_timeout
        target = before + len(accepted)
        while time.perf_counter() < deadline and sum(stored_events(p) for p in project_ids) < target:
            time.sleep(0.1)
        digested = sum(stored_events(p) for p in project_ids) - before
        end_to_end = time.perf_counter() - start
        report.update(
            {
                "digested": digested,
                "end_to_end_seconds": round(end_to_end, 2),
                "end_to_end_per_second": round(digested / end_to_end, 1),
            }
        )
    sampler.sample()  # the CPU each process used up to now
    sampler.stop.set()
    sampler.join()
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    report["cpu_seconds"] = {**sampler.cpu_seconds(), "loadgen": round(usage.ru_utime + usage.ru_stime, 1)}
    if backlog:
        backlog.stop.set()
        backlog.join()
        counts = [n for t, n in backlog.samples if t <= sent_seconds]
        half = counts[len(counts) // 2 :] or [0]
        report["backlog_max"] = max(counts or [0])
        report["backlog_second_half_first_last"] = [half[0], half[-1]]
        report["backlog_samples"] = backlog.samples
    report["server_peak_rss_mib"] = round(sampler.peak_kib / 1024, 1)
    report["server_peak_rss_mib_by_role"] = {
        role: round(kib / 1024, 1) for role, kib in sorted(sampler.role_peak_kib.items())
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
