"""Digest cost against the number of a project's releases: the same workload digested into a project with no
earlier releases and into one with RELEASES of them, interleaved, each run in a fresh project of a fresh SQLite
database in a temporary folder (removed afterwards).

    python bench/release_bench.py [--releases 3000] [--events 3000] [--runs 3]

The workload, per run: 20 issues resolved "in the next release", then EVENTS events through the real digest (raw
events stored first, untimed; then `digest_pending`, timed), a new release every 300 events (so the "next
release" materializes, and the events of the release after regress the issues), other events judged against the
fix. Semantic versions, the kind whose order must be computed rather than read off a date.
"""

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django(data_dir: str):
    os.environ["BUGSINK_DATA_DIR"] = data_dir
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bugsink.settings"
    os.environ["RETENTION_MAX_EVENTS"] = "0"
    os.environ["RETENTION_MAX_AGE_DAYS"] = "0"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def event(issue: int, release: str, rng: random.Random) -> dict:
    return {
        "event_id": uuid.uuid4().hex,
        "platform": "python",
        "level": "error",
        "release": release,
        "environment": rng.choice(["production", "staging"]),
        "tags": {"customer": f"c{rng.randint(1, 50)}"},
        "exception": {
            "values": [
                {
                    "type": f"BenchError{issue}",
                    "value": "it broke",
                    "stacktrace": {
                        "frames": [
                            {"filename": "app/views.py", "function": f"handle{issue}", "lineno": 10, "in_app": True}
                        ]
                    },
                }
            ]
        },
    }


def run(releases: int, events: int, label: str) -> float:
    from ingest.digest import digest_pending
    from ingest.store import RawEvent, store_raw_event
    from issues.models import Issue
    from issues.state import IssueStateManager
    from projects.models import Project
    from releases.models import Release

    rng = random.Random(7)
    project = Project.objects.create(name=label, slug=label)
    start = datetime.now(UTC) - timedelta(days=365)
    Release.objects.bulk_create(
        Release(project=project, version=f"1.{n // 100}.{n % 100}", date_released=start + timedelta(minutes=n))
        for n in range(releases)
    )

    def store(payloads):
        for payload in payloads:
            data = json.dumps(payload).encode()
            store_raw_event(RawEvent(project.pk, payload["event_id"], time.time(), "127.0.0.1", data))

    store([event(i, "2.0.0", rng) for i in range(20)])
    digest_pending(project.pk, time_budget=3600)
    for issue in Issue.objects.filter(project=project):
        IssueStateManager.resolve_by_next(issue)
        issue.save()
    store([event(rng.randrange(20), f"2.{1 + n // 300}.0", rng) for n in range(events)])
    began = time.perf_counter()
    digested = digest_pending(project.pk, time_budget=3600)
    elapsed = time.perf_counter() - began
    assert digested == events, (digested, events)
    return elapsed / events


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--releases", type=int, default=3000)
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="release-bench-") as data_dir:
        setup_django(data_dir)
        run(args.releases, args.events // 3, "warm-up")  # imports, caches, the first tag values: not measured
        results: dict[int, list[float]] = {0: [], args.releases: []}
        for n in range(args.runs):
            for releases in (0, args.releases):
                per_event = run(releases, args.events, f"r{releases}-{n}")
                results[releases].append(per_event)
                print(f"  {releases} releases: {per_event * 1e6:.0f} µs/event", file=sys.stderr)
    none, many = (statistics.median(results[k]) for k in (0, args.releases))
    print(
        json.dumps(
            {
                "events_per_run": args.events,
                "runs": args.runs,
                "us_per_event": {str(k): [round(v * 1e6) for v in vs] for k, vs in results.items()},
                "median_us_per_event": {"0": round(none * 1e6), str(args.releases): round(many * 1e6)},
                "slowdown_percent": round((many / none - 1) * 100, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
