"""Digest cost against the number of a project's releases: the same workload digested into a project with no
earlier releases and into one with RELEASES of them, interleaved, each run in a fresh project of a fresh SQLite
database in a temporary folder (removed afterwards).

    python bench/release_bench.py [--releases 3000] [--events 3000] [--runs 3]

The workload, per run: 20 issues (seen in every release when there are releases), 10 resolved "in the next
release" and 10 resolved in 2.0.0; then EVENTS events through the real digest (raw events stored first, untimed;
then `digest_pending`, timed): half of them of new releases, one every 300 events (the "next release"
materializes, the one after regresses those issues), half of an old release still running (each judged against
the fix, no regression). Semantic versions, the kind whose order must be computed rather than read off a date.
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
    from digest.batch import digest_pending
    from ingest.store import RawEvent, store_raw_event
    from issues.models import Issue
    from issues.state import IssueStateManager
    from projects.models import Project
    from releases.models import Release

    rng = random.Random(7)
    project = Project.objects.create(name=label, slug=label)
    start = datetime.now(UTC) - timedelta(days=365)
    versions = [f"1.{n // 100}.{n % 100}" for n in range(releases)]
    Release.objects.bulk_create(
        Release(project=project, version=v, date_released=start + timedelta(minutes=n)) for n, v in enumerate(versions)
    )

    def store(payloads):
        for payload in payloads:
            data = json.dumps(payload).encode()
            store_raw_event(RawEvent(project.pk, payload["event_id"], time.time(), "127.0.0.1", data))

    store([event(i, "2.0.0", rng) for i in range(20)])
    digest_pending(project.pk, time_budget=3600)
    issues = list(Issue.objects.filter(project=project).order_by("number"))
    if releases and hasattr(Issue, "events_at"):
        # long-lived issues, seen in every release (the list the code before this bench kept per issue)
        Issue.objects.filter(project=project).update(events_at=[*versions, "2.0.0"])
        issues = list(Issue.objects.filter(project=project).order_by("number"))
    for issue in issues[:10]:
        IssueStateManager.resolve_by_next(issue)
        issue.save()
    for issue in issues[10:]:
        IssueStateManager.resolve_in_release(issue, "2.0.0")
        issue.save()
    # half the events: new releases of the fixed issues' code (the next release materializes, the one after
    # regresses them); the other half: an old deploy (1.0.0) still running, each event judged against the fix
    payloads = []
    for n in range(events):
        if n % 2:
            payloads.append(event(rng.randrange(10), f"2.{1 + n // 300}.0", rng))
        else:
            payloads.append(event(10 + rng.randrange(10), "1.0.0" if releases else "0.9.0", rng))
    store(payloads)
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
