"""Digest's CPU cost per event, by batch size, in one process (no web server, no broker): raw events of the load
generator's payload are written to the ingest store and digested with the real digest code, BATCH at a time.

    python bench/digest_bench.py [--events 2000] [--batch 4 --batch 100] [--samples python-sdk3] [--profile out.prof]
    python bench/digest_bench.py --payload synthetic --issues 20 --size 10240
    python bench/digest_bench.py --stages [--rounds 3]     # CPU ms per event of each digest stage

The payload is bench/loadgen.py's: by default the events captured from sentry-sdk 3.0.1 (bugsink/tests/samples/
python-sdk3, taken in turn, each with a fresh event id), or `--payload synthetic` (its generated body); the output
names it.

Reports CPU seconds (process time, so another tenant on the machine changes the figures less than wall time would)
per event and per batch, for each batch size, and a linear fit: fixed cost per batch + cost per event. SQLite in a
temporary folder unless --database-url; INGEST_FSYNC off (this measures digest, not the disk).

--stages: what digest pays per event in each stage (batches of 100), in CPU microseconds (process time) per event,
the minimum over the rounds. Each stage is the real function, wrapped with a timer where digest calls it; a stage
nested in another (sanitize in normalize) is subtracted from it. "transaction" is the whole batch transaction, split
into its parts below it (tag indexing, the Event insert, the commit). On PostgreSQL both modes also report the CPU
of the database backend that served digest (read from /proc: the server runs on this machine).
"""

import argparse
import cProfile
import json
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup(data_dir: Path, database_url: str | None) -> None:
    os.environ["BUGSINK_DATA_DIR"] = str(data_dir)
    os.environ.pop("DATABASE_URL", None)
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ["INGEST_FSYNC"] = "false"
    os.environ["DJANGO_SETTINGS_MODULE"] = "bugsink.settings"
    os.environ["RETENTION_MAX_EVENTS"] = "0"
    os.environ["LOG_LEVEL"] = "WARNING"
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def write_raw_events(project_id: int, count: int, payload, rng: random.Random) -> list[str]:
    from ingest.store import RawEvent, store_raw_event

    keys = []
    for n in range(count):
        event_id, body = payload.event(n, rng)
        keys.append(
            store_raw_event(
                RawEvent(
                    project_id=project_id,
                    event_id=event_id,
                    received_at=time.time(),
                    remote_addr="127.0.0.1",
                    payload=body,
                )
            )
        )
    return keys


def database_cpu_seconds() -> float | None:
    """CPU seconds (user + system) the PostgreSQL backend serving this process's connection has used, read from
    /proc (the server runs on this machine); None on other databases."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(project_id: int, batch: int, events: int, payload, profiler=None) -> dict:
    from digest.batch import digest_keys

    rng = random.Random(batch)
    keys = write_raw_events(project_id, events, payload, rng)
    batches = [keys[i : i + batch] for i in range(0, len(keys), batch)]
    start_db = database_cpu_seconds()
    start_cpu, start_wall = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    stored = sum(digest_keys(project_id, chunk) for chunk in batches)
    if profiler:
        profiler.disable()
    cpu, wall = time.process_time() - start_cpu, time.perf_counter() - start_wall
    assert stored == events, (stored, events)
    result = {
        "batch": batch,
        "events": events,
        "cpu_ms_per_event": round(1000 * cpu / events, 3),
        "cpu_ms_per_batch": round(1000 * cpu / len(batches), 2),
        "wall_ms_per_event": round(1000 * wall / events, 3),
    }
    if start_db is not None:
        result["database_cpu_ms_per_event"] = round(1000 * (database_cpu_seconds() - start_db) / events, 3)
    return result


# (label, module, attribute, parent label or None): the function as digest reaches it, timed where it is looked up
STAGES = [
    ("read raw events", "digest.batch", "store.load_raw_events", None),
    ("JSON parse (loads_json)", "digest.batch", "loads_json", None),
    ("normalize (without sanitize)", "digest.batch", "normalize_event", None),
    ("sanitize", "digest.normalize", "sanitize", "normalize (without sanitize)"),
    ("symbolicate", "digest.batch", "symbolicate", None),
    ("scrub", "digest.batch", "scrub_event", None),
    ("user agent contexts", "digest.batch", "add_user_agent_contexts", None),
    ("grouping keys (2)", "digest.batch", "grouping_key", None),
    ("title", "digest.batch", "title_parts", None),
    ("tags extracted", "digest.batch", "capped_event_tags", None),
    ("trim check + stored JSON (fit_event)", "digest.batch", "fit_event", None),
    ("transaction (all of it)", "digest.batch", "_digest_retrying_contention", None),
    ("  tag indexing", "digest.batch", "index_tags", "transaction (all of it)"),
    ("  Event insert (bulk_create)", "events.models", "Event.objects.bulk_create", "transaction (all of it)"),
    ("  commit", "django.db.backends.base.base", "BaseDatabaseWrapper.commit", "transaction (all of it)"),
]


def _resolve(module_name: str, dotted: str):
    import importlib

    owner = importlib.import_module(module_name)
    *path, name = dotted.split(".")
    for part in path:
        owner = getattr(owner, part)
    return owner, name


def instrument_stages() -> dict:
    """Wrap each stage's function with a process-time timer; returns {label: [seconds, calls]}."""
    totals = {label: [0.0, 0] for label, *_ in STAGES}
    for label, module_name, dotted, _ in STAGES:
        owner, name = _resolve(module_name, dotted)
        original = getattr(owner, name)

        def timed(*args, __original=original, __total=totals[label], **kwargs):
            start = time.process_time()
            try:
                return __original(*args, **kwargs)
            finally:
                __total[0] += time.process_time() - start
                __total[1] += 1

        setattr(owner, name, timed)  # on a class, a plain function: self comes through *args
    return totals


def run_stages(project_id: int, events: int, payload, rounds: int) -> None:
    totals = instrument_stages()
    best: dict[str, float] = {}
    for _ in range(rounds):
        for entry in totals.values():
            entry[0], entry[1] = 0.0, 0
        result = run(project_id, 100, events, payload)
        per_event = {label: 1e6 * seconds / events for label, (seconds, _) in totals.items()}
        for label, _, _, parent in STAGES:
            if parent and not label.startswith("  "):
                per_event[parent] -= per_event[label]
        per_event["whole digest"] = 1000 * result["cpu_ms_per_event"]
        if "database_cpu_ms_per_event" in result:
            per_event["PostgreSQL backend (its process, not digest's)"] = 1000 * result["database_cpu_ms_per_event"]
        for label, value in per_event.items():
            best[label] = min(best.get(label, value), value)
    whole = best["whole digest"]
    print("| stage | CPU µs per event | share |\n|---|---|---|")
    for label, value in best.items():
        print(f"| {label} | {value:.0f} | {100 * value / whole:.0f} % |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--batch", type=int, action="append", default=None)
    parser.add_argument("--payload", choices=["samples", "synthetic"], default="samples")
    parser.add_argument("--samples", default=None, help="sample folders or folder/name (bench/loadgen.py's default)")
    parser.add_argument("--issues", type=int, default=20, help="synthetic payload: distinct issues")
    parser.add_argument("--size", type=int, default=10_240, help="synthetic payload: approximate size in bytes")
    parser.add_argument("--rounds", type=int, default=2, help="each batch size this often, interleaved")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--profile", default=None, help="write a cProfile of the last round to this file")
    parser.add_argument("--stages", action="store_true", help="CPU per event of each digest stage (batches of 100)")
    args = parser.parse_args()
    batches = args.batch or [4, 100]

    data_dir = Path(tempfile.mkdtemp(prefix="bugsink-digest-bench-"))
    try:
        setup(data_dir, args.database_url)
        from loadgen import DEFAULT_SAMPLES, SamplePayload, SyntheticPayload

        from projects.models import Project

        if args.payload == "samples":
            payload = SamplePayload(args.samples or DEFAULT_SAMPLES)
        else:
            payload = SyntheticPayload(args.issues, args.size)
        print(json.dumps(payload.describe()))
        project = Project.objects.create(name=f"digest-bench-{uuid.uuid4().hex[:8]}")
        # a warm-up round: issues created, caches filled, as on a server that has been running a while
        run(project.pk, 100, 200, payload)
        if args.stages:
            run_stages(project.pk, args.events, payload, args.rounds)
            return
        results = []
        for round_number in range(args.rounds):
            for batch in batches:
                last = round_number == args.rounds - 1 and batch == batches[0]
                profiler = cProfile.Profile() if args.profile and last else None
                results.append(run(project.pk, batch, args.events, payload, profiler))
                if profiler:
                    profiler.dump_stats(args.profile)
        for result in results:
            print(json.dumps(result))
        by_batch = {b: min(r["cpu_ms_per_event"] for r in results if r["batch"] == b) for b in batches}
        if len(batches) >= 2:
            small, large = min(batches), max(batches)
            per_event = (by_batch[large] * large - by_batch[small] * small) / (large - small)
            fixed = by_batch[small] * small - per_event * small
            print(json.dumps({"fixed_ms_per_batch": round(fixed, 2), "ms_per_event": round(per_event, 3)}))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
