"""How long the digest worker takes from start to its first digested event, with 1,000,000 events stored.

Builds (once) a SQLite database with EVENTS events over ISSUES issues, bulk-inserted (the point is a big table,
not realistic bodies), each issue with persisted period counts; then, N times: starts a real digest worker
(`celery -A bugsink worker -Q digest -c 1 --pool solo`) on Redis, stores one raw event of an existing issue and
enqueues its digest at the moment the worker is spawned, and measures the time until the event is in the
database. The registry warms up from the persisted counts of that one issue, not by reading the Event table.

    python bench/warm_start.py [--events 1000000] [--issues 1000] [--runs 5] [--rebuild]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("BENCH_DATA_DIR", "/tmp/bugsink-warm-start"))
BROKER_URL = "redis://127.0.0.1:6379/4"


def setup_django():
    os.environ.update(
        {
            "BUGSINK_DATA_DIR": str(DATA_DIR),
            "DJANGO_SETTINGS_MODULE": "bugsink.settings",
            "CELERY_BROKER_URL": BROKER_URL,
            "RETENTION_MAX_EVENTS": "0",
            "RETENTION_MAX_AGE_DAYS": "0",
        }
    )
    os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def build(events: int, issues: int) -> float:
    from django.core.management import call_command
    from django.db import connection, transaction

    from digest.period_counter import PeriodCounter
    from events.models import Event
    from issues.models import Grouping, Issue
    from projects.models import Project

    start = time.perf_counter()
    call_command("migrate", verbosity=0)
    project = Project.objects.create(name="Warm", slug="warm")
    now = datetime.now(UTC)
    per_issue = events // issues
    counts = PeriodCounter()
    for _ in range(per_issue):
        counts.inc(now)
    issue_rows = [
        Issue(
            project=project,
            number=n + 1,
            calculated_type=f"Error{n}",
            calculated_value="bench",
            first_seen=now,
            last_seen=now,
            event_count=per_issue,
            period_counts=counts.to_dict(),
        )
        for n in range(issues)
    ]
    Issue.objects.bulk_create(issue_rows, batch_size=500)
    Grouping.objects.bulk_create(
        [
            Grouping(project=project, grouping_key=f"k{n}", grouping_key_hash=f"{n:064x}", issue=issue)
            for n, issue in enumerate(issue_rows)
        ],
        batch_size=500,
    )
    Project.objects.filter(pk=project.pk).update(issue_counter=issues, digested_event_count=events)
    table = Event._meta.db_table
    columns = [
        "project_id",
        "issue_id",
        "event_id",
        "timestamp",
        "ingested_at",
        "digested_at",
        "digest_order",
        "data_json",
        "calculated_type",
        "calculated_value",
        "level",
        "platform",
        "release",
        "environment",
        "transaction",
    ]
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)  # "transaction" is a keyword
    sql = f"INSERT INTO {connection.ops.quote_name(table)} ({quoted}) VALUES ({', '.join(['%s'] * len(columns))})"
    stamp = now.isoformat()
    with connection.cursor() as cursor:
        for n, issue in enumerate(issue_rows):
            rows = [
                (
                    project.pk,
                    issue.pk.hex,
                    uuid.uuid4().hex,
                    stamp,
                    stamp,
                    stamp,
                    order + 1,
                    '{"level": "error"}',
                    issue.calculated_type,
                    "bench",
                    "error",
                    "python",
                    "",
                    "",
                    "",
                )
                for order in range(per_issue)
            ]
            with transaction.atomic():
                cursor.executemany(sql, rows)
            if n % 100 == 99:
                print(f"  {(n + 1) * per_issue} events", file=sys.stderr)
    return time.perf_counter() - start


def one_run(project, issue) -> dict:
    import redis

    from ingest.store import RawEvent, store_raw_event

    redis.Redis.from_url(BROKER_URL).flushdb()
    event_id = uuid.uuid4().hex
    event = {"event_id": event_id, "platform": "python", "exception": {"values": [{"type": issue.calculated_type}]}}
    key = store_raw_event(RawEvent(project.pk, event_id, time.time(), "127.0.0.1", json.dumps(event).encode()))
    env = {**os.environ, "LOG_LEVEL": "WARNING"}
    log = open(DATA_DIR / "worker.log", "ab")  # noqa: SIM115 (closed below)
    start = time.perf_counter()
    worker = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "celery"),
            "-A",
            "bugsink",
            "worker",
            "-Q",
            "digest",
            "-c",
            "1",
            "--pool",
            "solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    from celery import Celery

    from digest.job import digest_job

    client = Celery(broker=BROKER_URL)  # a bare client, as another process would send the job: by its message name
    client.send_task(digest_job.name, args=[key], queue="digest")
    client.close()
    from events.models import Event

    deadline = start + 60
    while time.perf_counter() < deadline and not Event.objects.filter(project=project, event_id=event_id).exists():
        time.sleep(0.02)
    elapsed = time.perf_counter() - start
    worker.terminate()
    worker.wait(timeout=30)
    log.close()
    return {"start_to_first_digest_s": round(elapsed, 2)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--issues", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    if args.rebuild:
        shutil.rmtree(DATA_DIR, ignore_errors=True)
    fresh = not (DATA_DIR / "db.sqlite3").exists()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    setup_django()
    build_seconds = build(args.events, args.issues) if fresh else None

    from events.models import Event
    from issues.models import Issue
    from projects.models import Project

    project = Project.objects.get(slug="warm")
    issue = Issue.objects.filter(project=project).order_by("number")[args.issues // 2]
    runs = [one_run(project, issue) for _ in range(args.runs)]
    seconds = [r["start_to_first_digest_s"] for r in runs]
    print(
        json.dumps(
            {
                "events_stored": Event.objects.filter(project=project).count(),
                "build_seconds": round(build_seconds, 1) if build_seconds else "reused",
                "runs": seconds,
                "median_s": statistics.median(seconds),
                "max_s": max(seconds),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
