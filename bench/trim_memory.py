"""Peak memory and time to accept and to digest one oversized event (digest.trim), each phase in a fresh process.

    python bench/trim_memory.py [--sizes 24] [--kind locals|string]

`locals`: a deep stack (1,100 frames) of ordinary locals, about 24 MB of JSON; `string`: a 300-deep recursion with
one 10 MB string local (the issue's two cases). Per phase, a child process reports tracemalloc's peak (Python
allocations) and the growth of its peak RSS over what it had before the phase:

    ingest   the gzip body through the real readers (decompression, envelope framing), the event parsed as the view
             parses it, and written to the ingest store
    digest   digest.batch._prepare on that raw event (load, parse, normalize, group, trim, and the JSON text the
             Event row stores)

The phases run without a database (ingest's auth, quota and digest's transaction are not what costs memory here).
Each child runs twice: once to time it without tracemalloc, once with it.
"""

import argparse
import gzip
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024


def rss_peak() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux


def current_rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def frame(index: int, variables: dict) -> dict:
    return {
        "filename": "shop/checkout.py",
        "module": "shop.checkout",
        "function": f"step_{index}",
        "lineno": 10 + index,
        "context_line": f"    return step_{index + 1}(order, depth - 1)",
        "pre_context": ["def step(order, depth):", "    if depth == 0:"],
        "post_context": [""],
        "in_app": True,
        "vars": variables,
    }


def make_event(kind: str, megabytes: int) -> dict:
    if kind == "string":
        frames = [frame(i, {"blob": "x" * (megabytes * MIB)} if i == 150 else {"depth": str(i)}) for i in range(300)]
    else:
        per_frame = 400  # locals per frame; about 22 KB of JSON each
        count = max(1, megabytes * MIB // (per_frame * 55 + 1500))
        frames = [
            frame(i, {f"item_{n}": f"'SKU-{i:05d}-{n:04d} blue cotton shirt, size M'" for n in range(per_frame)})
            for i in range(count)
        ]
    return {
        "event_id": uuid.uuid4().hex,
        "platform": "python",
        "level": "error",
        "exception": {"values": [{"type": "ValueError", "value": "empty order", "stacktrace": {"frames": frames}}]},
    }


def body_for(event: dict) -> bytes:
    payload = json.dumps(event).encode()
    header = json.dumps({"event_id": event["event_id"]}).encode()
    item = json.dumps({"type": "event", "length": len(payload)}).encode()
    return gzip.compress(b"\n".join([header, item, payload]) + b"\n", compresslevel=1)


def phase(name: str, work_dir: Path, traced: bool) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "testing.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    settings.INGEST_STORE_DIR = work_dir / "ingest"  # testing.settings would pick a temporary folder per process
    settings.INGEST_FSYNC = False
    from digest import batch
    from ingest import envelope, store, streams, views

    body = (work_dir / "body.gz").read_bytes()
    before = current_rss()
    if traced:
        tracemalloc.start()
    start = time.perf_counter()
    if name == "ingest":
        reader = streams.FramedReader(
            streams.decompressing_reader(io.BytesIO(body), "gzip"), settings.MAX_ENVELOPE_SIZE, "envelope"
        )
        headers = envelope.read_envelope_headers(reader)
        items = envelope.read_envelope_items(reader)
        event = views._parse_event(items.event)
        key = store.store_raw_event(
            store.RawEvent(
                project_id=1,
                event_id=views._event_id(headers, event),
                received_at=time.time(),
                remote_addr="127.0.0.1",
                payload=items.event,
            )
        )
        (work_dir / "key").write_text(key)
        result = {"event_bytes": len(items.event)}
    else:
        prepared = batch._prepare((work_dir / "key").read_text())
        result = {"stored_bytes": len(prepared.data_json), "marker": prepared.data.get("_trimmed")}
    result["seconds"] = round(time.perf_counter() - start, 2)
    if traced:
        result["tracemalloc_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / MIB, 1)
        tracemalloc.stop()
    result["rss_growth_mb"] = round((rss_peak() - before) / MIB, 1)
    return result


def run_child(name: str, work_dir: Path, traced: bool) -> dict:
    command = [sys.executable, __file__, "--phase", name, "--work-dir", str(work_dir)]
    command += ["--traced"] if traced else []
    output = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT)
    if output.returncode:
        raise SystemExit(output.stderr)
    return json.loads(output.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="24", help="comma-separated sizes in MB")
    parser.add_argument("--kind", default="locals", choices=["locals", "string"])
    parser.add_argument("--phase")
    parser.add_argument("--work-dir")
    parser.add_argument("--traced", action="store_true")
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, Path(args.work_dir), args.traced)))
        return
    for megabytes in [int(s) for s in args.sizes.split(",")]:
        with tempfile.TemporaryDirectory(prefix="trim-bench-") as folder:
            work_dir = Path(folder)
            event = make_event(args.kind, megabytes)
            body = body_for(event)
            (work_dir / "body.gz").write_bytes(body)
            size = len(json.dumps(event))
            del event
            report = {"kind": args.kind, "event_mb": round(size / MIB, 1), "gzip_body_mb": round(len(body) / MIB, 1)}
            for name in ("ingest", "digest"):
                timed = run_child(name, work_dir, traced=False)
                traced = run_child(name, work_dir, traced=True)
                report[name] = {**timed, "tracemalloc_peak_mb": traced["tracemalloc_peak_mb"]}
            print(json.dumps(report))


if __name__ == "__main__":
    main()
