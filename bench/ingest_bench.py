"""Run the ingest load generator against a freshly set-up server, in one of three modes:

    embedded  what `make run` starts: one web server process with threads, Celery eager (digest inline)
    web       the web server alone with Redis as the broker and no worker: what ingest itself can accept
    single    what `make serve` starts: the Procfile under bin/procfile-run (web server, digest worker, alerts
              worker, beat) on Redis
    cluster   scale-out with no shared disk: two web nodes (the Procfile's web line) on --port and --port + 1, each
              with a data folder of its own, and one digest worker (the Procfile's digest line) with a third, on
              PostgreSQL, Redis and INGEST_STORE=database; the senders take the two nodes in turn

on SQLite (default) or PostgreSQL, and print the load generator's report plus the setup.

    python bench/ingest_bench.py --mode single --db sqlite -- --events 10000 --concurrency 8
    python bench/ingest_bench.py --mode single --db postgres -- --rate 200 --events 60000
    python bench/ingest_bench.py --mode cluster -- --events 10000 --concurrency 8 --gzip
    python bench/ingest_bench.py --mode single --db postgres --shards 2 -- --events 10000 --concurrency 8 --gzip
    python bench/ingest_bench.py --table [--quick]    # the issue 22 table: serve SQLite, serve PostgreSQL, run

--shards N (single mode): DIGEST_SHARDS=N, the Procfile's digest line once per queue (digest-0 .. digest-N-1), and N
projects (project ids 1..N: one per shard), the senders taking them in turn.
--table runs the three modes one after the other with the real-SDK payload (10,000 gzip envelopes, 8 senders; 3,000
with --quick) and prints one Markdown table: end to end, accepted/s, p99, peak and after-run RSS.

--server compares web servers (gunicorn, granian, waitress: the first two must be installed by hand) in the
embedded and web modes. Everything after `--` goes to bench/loadgen.py (add --no-wait in the web mode: nothing
digests); its default payload is the events captured from sentry-sdk 3.0.1 (see its docstring), `-- --payload
synthetic --issues 20 --size 10240` the generated body of the figures before them. Loopback only; every process it
starts is stopped at the end.
"""

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# the servers run from the virtualenv that runs this script: with a runtime-only one (requirements.txt alone), what
# users run is what is measured
BIN = Path(sys.executable).parent
# BENCH_POSTGRES_DB and BENCH_REDIS_URL: so that two benchmarks on one machine never share a database or a broker
POSTGRES_DB = os.environ.get("BENCH_POSTGRES_DB", "bench_bugsink")
POSTGRES_URL = f"postgres://postgres@127.0.0.1:5432/{POSTGRES_DB}"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")


def reset_postgres():
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{POSTGRES_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{POSTGRES_DB}"')


def wait_ready(url: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("server did not become ready")


def machine() -> dict:
    cpu = ""
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    mem_kib = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
    }


def tree_rss_kib(root: int) -> int:
    """The summed VmRSS of `root` and its descendants."""
    from loadgen import process_tree  # bench/ is this script's folder, first on sys.path

    total = 0
    for pid in process_tree(root):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def cluster_script(data_dir: Path, port: int) -> str:
    """Three processes, each with a folder of its own (nothing on disk is shared), started as the Procfile's web
    and digest lines start them; the shell waits for them so that one process group holds them all."""
    lines = []
    for name, command in (
        ("node-a", f"python -m bugsink.webserver --port {port} --workers 1 --threads 16"),
        ("node-b", f"python -m bugsink.webserver --port {port + 1} --workers 1 --threads 16"),
        (
            "worker",
            "python -m bugsink.worker -A bugsink worker -Q digest -c 1 --pool solo -n digest@%h --without-gossip "
            "--without-mingle -l warning",
        ),
    ):
        folder = data_dir / name
        folder.mkdir()
        lines.append(f"BUGSINK_DATA_DIR={folder} INGEST_STORE_DIR={folder / 'ingest'} exec {command} &")
    return "\n".join(lines) + "\nwait\n"


def sharded_procfile(data_dir: Path, shards: int) -> str:
    """The Procfile, or with shards > 1 a copy whose digest line is repeated for each queue digest-0 .. digest-N-1."""
    if shards <= 1:
        return "Procfile"
    lines = []
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("digest:"):
            for n in range(shards):
                lines.append(
                    line.replace("digest:", f"digest{n}:", 1)
                    .replace("-Q digest ", f"-Q digest-{n} ", 1)
                    .replace("-n digest@", f"-n digest{n}@", 1)
                )
        else:
            lines.append(line)
    path = data_dir / "Procfile.sharded"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


TABLE_MODES = [
    ("`make serve`, SQLite", "single", "sqlite"),
    ("`make serve`, PostgreSQL", "single", "postgres"),
    ("`make run` (embedded)", "embedded", "sqlite"),
]


def table(args) -> None:
    """The three modes in turn, one Markdown table (the figures of issue 22's targets)."""
    events = "3000" if args.quick else "10000"
    rows = []
    for label, mode, db in TABLE_MODES:
        command = [
            sys.executable,
            __file__,
            "--mode",
            mode,
            "--db",
            db,
            "--port",
            str(args.port),
            "--",
            "--events",
            events,
            "--concurrency",
            "8",
            "--gzip",
        ]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        if result.returncode != 0:
            rows.append(f"| {label} | failed: {result.stderr.strip()[-200:]} | | | |")
            continue
        r = json.loads(result.stdout)
        rows.append(
            f"| {label} | **{r['end_to_end_per_second']}/s** | {r['accepted_per_second']} | {r['latency_ms_p99']} ms "
            f"| {r['server_peak_rss_mib']:.0f} MB ({r['server_rss_after_mib']:.0f} after) |"
        )
    print(f"{events} gzip envelopes of the real-SDK payload (python-sdk3), 8 senders, {machine()}")
    print("| mode | end to end | accepted/s | p99 | peak RSS |\n|---|---|---|---|---|")
    print("\n".join(rows))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["embedded", "web", "single", "cluster"], default="single")
    parser.add_argument("--server", default=None, help="gunicorn, granian or waitress (default: what make run uses)")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--port", type=int, default=8700)
    parser.add_argument("--settle", type=float, default=5, help="seconds after the run before the idle RSS is read")
    parser.add_argument("--shards", type=int, default=1, help="single mode: digest shards (and as many projects)")
    parser.add_argument("--table", action="store_true", help="serve SQLite, serve PostgreSQL and run, as a table")
    parser.add_argument("--quick", action="store_true", help="with --table: 3,000 events instead of 10,000")
    parser.add_argument("loadgen_args", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.table:
        table(args)
        return
    loadgen_args = [a for a in args.loadgen_args if a != "--"]
    if args.mode == "cluster":
        args.db = "postgres"

    import socket

    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", args.port)) == 0:
            raise SystemExit(f"something listens on 127.0.0.1:{args.port} already (a server of an earlier run?)")
    data_dir = Path(f"/tmp/bugsink-bench-{args.mode}-{args.db}-{args.port}")
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bugsink.settings",
        "BUGSINK_DATA_DIR": str(data_dir),
        "BASE_URL": f"http://127.0.0.1:{args.port}",
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "LOG_LEVEL": "WARNING",
        # no per-project quota in a benchmark: it measures the server, not the limiter
        "QUOTA_EVENTS_PER_MINUTE": "0",
        "QUOTA_EVENTS_PER_HOUR": "0",
        # and every event stays, so that the stored count is the digested count
        "RETENTION_MAX_EVENTS": "0",
    }
    env.pop("CELERY_BROKER_URL", None)
    if args.db == "postgres":
        reset_postgres()
        env["DATABASE_URL"] = POSTGRES_URL
    else:
        env.pop("DATABASE_URL", None)
    if args.mode == "cluster":
        env["INGEST_STORE"] = "database"
        env["SECRET_KEY"] = "bench-cluster-secret-key"  # the nodes of one installation share it
    if args.shards > 1:
        env["DIGEST_SHARDS"] = str(args.shards)
    if args.mode in ("single", "web", "cluster"):
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()
        env["CELERY_BROKER_URL"] = REDIS_URL

    subprocess.run([BIN / "python", "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    dsns = [
        subprocess.run(
            [BIN / "python", "manage.py", "createproject", f"bench-{n}" if n else "bench"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        for n in range(max(args.shards, 1))
    ]
    dsn = dsns[0]
    for extra in dsns[1:]:
        loadgen_args += ["--extra-dsn", extra]

    log = open(data_dir / "server.log", "wb")  # noqa: SIM115 (closed below)
    if args.mode in ("embedded", "web"):
        sys.path.insert(0, str(ROOT))
        from testing.servers import web_server_command

        command = web_server_command(args.port, threads=8, server=args.server)
        pattern = r"gunicorn|granian|waitress|bugsink\.webserver"
    elif args.mode == "cluster":
        command = ["bash", "-c", cluster_script(data_dir, args.port)]
        pattern = r"bugsink\.webserver|bugsink\.worker|celery"
    else:
        command = [
            BIN / "python",
            "-S",  # as `make serve` starts it: the supervisor needs nothing beyond the standard library
            "bin/procfile-run",
            "-f",
            sharded_procfile(data_dir, args.shards),
            "-p",
            str(args.port),
        ]
        pattern = r"gunicorn|granian|waitress|bugsink\.webserver|bugsink\.worker|celery|procfile-run"
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_ready(f"http://127.0.0.1:{args.port}")
        if args.mode == "cluster":
            wait_ready(f"http://127.0.0.1:{args.port + 1}")
            loadgen_args += ["--extra-node", f"http://127.0.0.1:{args.port + 1}"]
        result = subprocess.run(
            [
                BIN / "python",
                str(ROOT / "bench" / "loadgen.py"),
                "--dsn",
                dsn,
                "--server-pattern",
                pattern,
                "--server-pid",
                str(server.pid),
                "--backlog-dir",
                str(data_dir / "ingest"),
                *loadgen_args,
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=3600,
        )
        if result.returncode != 0:
            raise SystemExit(result.stderr)
        report = json.loads(result.stdout)
        # what the server keeps once the burst is over (the idle-RSS targets are about this, not the peak)
        time.sleep(args.settle)
        report["server_rss_after_mib"] = round(tree_rss_kib(server.pid) / 1024, 1)
    finally:
        # the whole process group: the supervisor and every server process it started
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()
    server_name = args.server or ("procfile" if args.mode == "single" else "default")
    report = {"mode": args.mode, "server": server_name, "db": args.db, "machine": machine(), **report}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
