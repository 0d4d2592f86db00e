"""How long merging two big issues and unmerging them again takes, and how long each batch holds the writer.

Builds a fresh SQLite database per run with two issues of EVENTS events each (bulk-inserted, 3 tags per event,
small bodies: the point is row counts), then times issues.merge.merge_issues (the child into the parent) and
issues.merge.unmerge_grouping (the child's grouping back out), with the length of the longest transaction each
holds (the time digest of the same project may have to wait). Runs alternate merge-then-unmerge RUNS times.

    python bench/merge_bench.py [--events 20000] [--runs 3] [--batch 1000]
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django(data_dir: Path) -> None:
    os.environ.update({"BUGSINK_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "bugsink.settings"})
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("CELERY_BROKER_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def build(events: int):
    from django.core.management import call_command
    from django.db import transaction

    from digest.period_counter import PeriodCounter
    from events.models import Event
    from issues.models import Grouping, Issue
    from projects.models import Project
    from tags.models import EventTag, IssueTag, TagValue

    call_command("migrate", verbosity=0)
    suffix = uuid.uuid4().hex[:6]
    project = Project.objects.create(name=f"Merge bench {suffix}", slug=f"merge-{suffix}")
    now = datetime.now(UTC)
    issues = []
    with transaction.atomic():
        values = [
            TagValue.objects.create(project=project, key=k, value=f"{k}-{n}")
            for k in ("os", "browser")
            for n in range(3)
        ]
        for number, exc_type in enumerate(("KeyError", "ValueError"), start=1):
            counter = PeriodCounter()
            for n in range(min(events, 5000)):
                counter.inc(now - timedelta(minutes=n))
            issue = Issue.objects.create(
                project=project,
                number=number,
                calculated_type=exc_type,
                calculated_value="bench",
                first_seen=now - timedelta(days=1),
                last_seen=now,
                event_count=events,
                period_counts=counter.to_dict(),
            )
            grouping = Grouping.objects.create(
                project=project, grouping_key=f"exception\ntype:{exc_type}", grouping_key_hash=exc_type, issue=issue
            )
            rows = [
                Event(
                    project=project,
                    issue=issue,
                    grouping=grouping,
                    event_id=uuid.uuid4(),
                    timestamp=now,
                    ingested_at=now - timedelta(seconds=n),
                    digested_at=now,
                    digest_order=n + 1,
                    data_json='{"exception": {}}',
                    calculated_type=exc_type,
                )
                for n in range(events)
            ]
            Event.objects.bulk_create(rows, batch_size=2000)
            tags = [
                EventTag(event=event, issue=issue, value=values[(i + k) % len(values)])
                for i, event in enumerate(rows)
                for k in range(3)
            ]
            EventTag.objects.bulk_create(tags, batch_size=5000)
            IssueTag.objects.bulk_create([IssueTag(issue=issue, value=v, count=events // 2) for v in values])
            issues.append(issue)
    Project.objects.filter(pk=project.pk).update(issue_counter=2)
    return project, issues


class LongestTransaction:
    """The longest time between BEGIN and COMMIT of the outermost transactions while active."""

    def __init__(self):
        self.longest = 0.0

    def __enter__(self):
        from django.db import transaction

        self.original = transaction.Atomic.__enter__, transaction.Atomic.__exit__
        bench = self
        enter, exit_ = self.original

        def timed_enter(atomic):
            from django.db import connection

            if not connection.in_atomic_block:
                atomic._bench_start = time.perf_counter()
            return enter(atomic)

        def timed_exit(atomic, *exc):
            result = exit_(atomic, *exc)
            start = getattr(atomic, "_bench_start", None)
            if start is not None:
                bench.longest = max(bench.longest, time.perf_counter() - start)
                atomic._bench_start = None
            return result

        transaction.Atomic.__enter__, transaction.Atomic.__exit__ = timed_enter, timed_exit
        return self

    def __exit__(self, *exc):
        from django.db import transaction

        transaction.Atomic.__enter__, transaction.Atomic.__exit__ = self.original


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=1000, help="the merge's batches")
    parser.add_argument("--numbered-batch", type=int, default=200, help="the unmerge's batches")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="merge-bench-"))
    setup_django(data_dir)
    from issues.merge import merge_issues, unmerge_grouping
    from issues.models import Grouping, Issue

    results = {"merge": [], "unmerge": [], "merge_longest": [], "unmerge_longest": []}
    try:
        for run in range(args.runs):
            project, (parent, child) = build(args.events)
            with LongestTransaction() as longest:
                start = time.perf_counter()
                merge_issues(project.pk, parent.pk, [child.pk], batch_size=args.batch)
                results["merge"].append(time.perf_counter() - start)
            results["merge_longest"].append(longest.longest)
            assert Issue.objects.get(pk=parent.pk).event_count == 2 * args.events
            grouping = Grouping.objects.get(project=project, grouping_key_hash="ValueError")
            with LongestTransaction() as longest:
                start = time.perf_counter()
                unmerge_grouping(project.pk, grouping.pk, batch_size=args.numbered_batch)
                results["unmerge"].append(time.perf_counter() - start)
            results["unmerge_longest"].append(longest.longest)
            assert Issue.objects.get(pk=parent.pk).event_count == args.events
            print(f"run {run + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in results.items()), flush=True)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    print(f"{args.events} events per issue, batches {args.batch}/{args.numbered_batch}, {args.runs} runs (median):")
    for key, values in results.items():
        print(f"  {key}: {statistics.median(values):.3f} s")


if __name__ == "__main__":
    main()
