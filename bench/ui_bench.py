"""Page timings on a big installation: builds (once) a database with ISSUES issues and EVENTS events, then times
the issue list and the issue page in-process with Django's test client (no network, no browser: the server-side
time a page costs).

    python bench/ui_bench.py --issues 10000 --events 100000 [--rebuild] [--repeat 5]
    python bench/ui_bench.py --issues 100000 --events 1000000 --digested 200000 [--database-url postgres://...]

How it is built: DIGESTED events (all of them by default) of SEED_ISSUES issues (all of them by default) go through
the real digest code, in batches, so tags, counters and history are what production would have. Then, inserted in
bulk with what digest would write: the other issues, each a copy of a digested one under its own title and
grouping key, with its first event (Issue, Grouping, Event, FIRST_SEEN turning point, EventTag and IssueTag rows);
then the other events, each a copy of its issue's first event (a new event id, later moments, the same tags): the
Event row, its EventTag rows, and the issue's event count, last seen and per-tag counts (IssueTag). Only the
issues' hourly/daily counters (the volume conditions of mutes) do not see the copies.

Timed: the issue list (first and an older page, by events, 250 rows, a broad tag search in the All and the Open
tab, a narrow tag search, free text), /issues/, and the biggest and a typical issue's pages. On PostgreSQL the
tables are first VACUUM ANALYZEd (autovacuum's job after a bulk load, which outruns it).

The data folder is /tmp/bugsink-ui-bench (set BENCH_DATA_DIR to change); SQLite unless --database-url. Nothing
is checked in as data; --rebuild starts over (for another database, drop it yourself).
"""

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("BENCH_DATA_DIR", "/tmp/bugsink-ui-bench"))


def setup_django(database_url: str | None):
    os.environ["BUGSINK_DATA_DIR"] = str(DATA_DIR)
    os.environ.pop("DATABASE_URL", None)
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ["INGEST_FSYNC"] = "false"  # building, not measuring ingest: the raw files are gone within seconds
    os.environ["DJANGO_SETTINGS_MODULE"] = "bugsink.settings"
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1")
    os.environ["DIGEST_BATCH_SIZE"] = "500"
    os.environ["RETENTION_MAX_EVENTS"] = "0"  # keep all of them: the point is a big database
    os.environ["RETENTION_MAX_AGE_DAYS"] = "0"
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    import django

    django.setup()


def event_for(issue: int, n: int, rng: random.Random) -> dict:
    from loadgen import make_event

    event = make_event(issue, 2048, rng)
    event["release"] = f"shop@1.{issue % 7}.{n % 3}"
    event["environment"] = rng.choice(["production", "staging"])
    event["level"] = rng.choice(["error", "error", "error", "warning", "fatal"])
    event["user"] = {"id": str(rng.randint(1, 5000)), "email": f"user{rng.randint(1, 5000)}@example.com"}
    event["contexts"] = {
        "browser": {"name": rng.choice(["Chrome", "Firefox", "Safari"]), "version": "120"},
        "os": {"name": rng.choice(["Linux", "Windows", "macOS"])},
    }
    event["breadcrumbs"] = {
        "values": [{"category": "http", "message": f"GET /api/{i}", "timestamp": time.time()} for i in range(10)]
    }
    return event


def build(issues: int, events: int, digested: int, seed_issues: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from digest.batch import digest_pending
    from ingest.store import RawEvent, store_raw_event
    from projects.models import Project

    call_command("migrate", verbosity=0)
    project = Project.objects.create(name="Big shop", slug="shop")
    get_user_model().objects.create_superuser("bench", "bench@example.com", "bench")
    rng = random.Random(42)
    # a skewed distribution, as in real life: a few issues get most events, every issue gets at least one
    weights = [1 / (i + 1) ** 0.8 for i in range(issues)]
    seeds = min(seed_issues, issues)
    plan = list(range(seeds)) + rng.choices(range(seeds), weights=weights[:seeds], k=max(digested, seeds) - seeds)
    rng.shuffle(plan)
    start = time.perf_counter()
    chunk = 2000
    for offset in range(0, len(plan), chunk):
        for n, issue in enumerate(plan[offset : offset + chunk]):
            event = event_for(issue, offset + n, rng)
            store_raw_event(
                RawEvent(project.pk, event["event_id"], time.time(), "127.0.0.1", json.dumps(event).encode())
            )
        digest_pending(project.pk, time_budget=3600)
        done = offset + chunk
        print(f"  {min(done, len(plan))} events digested ({(time.perf_counter() - start):.0f} s)", file=sys.stderr)
    timings = {"digested": len(plan), "digest_seconds": round(time.perf_counter() - start)}
    if issues > seeds:
        began = time.perf_counter()
        copy_issues(project, seeds, issues)
        timings.update(copied_issues=issues - seeds, copy_issues_seconds=round(time.perf_counter() - began))
    copied = events - len(plan) - (issues - seeds)
    if copied > 0:
        began = time.perf_counter()
        copy_events(project, copied, weights, rng)
        timings.update(copied_events=copied, copy_events_seconds=round(time.perf_counter() - began))
    return timings


def copy_issues(project, seeds: int, issues: int, chunk: int = 5000):
    """Issues `seeds` .. `issues`-1, each a copy of a digested one (BenchError{n % seeds}) under its own title and
    grouping key, with what digest writes for an issue's first event: the Issue, its Grouping, the Event, its
    FIRST_SEEN turning point, the EventTag and IssueTag rows."""
    from django.db import connection, transaction
    from django.db.models import F

    from events.models import Event
    from issues.models import Grouping, Issue, TurningPoint
    from projects.models import Project
    from tags.models import EventTag, IssueTag

    originals = {}
    for issue in Issue.objects.filter(project=project):
        originals[int(issue.calculated_type.removeprefix("BenchError"))] = issue
    first_events = {e.issue_id: e for e in Event.objects.filter(project=project, digest_order=1)}
    groupings = {g.issue_id: g for g in Grouping.objects.filter(project=project)}
    tags: dict = {}
    for event_id, value_id in EventTag.objects.filter(event_id__in=[e.pk for e in first_events.values()]).values_list(
        "event_id", "value_id"
    ):
        tags.setdefault(event_id, []).append(value_id)
    number = Project.objects.values_list("issue_counter", flat=True).get(pk=project.pk)
    insert_tags = f"INSERT INTO {EventTag._meta.db_table} (event_id, issue_id, value_id) VALUES (%s, %s, %s)"
    start = time.perf_counter()
    for offset in range(seeds, issues, chunk):
        when = datetime.now(UTC)
        new_issues, new_groupings, new_events = [], [], []
        for n in range(offset, min(offset + chunk, issues)):
            original = originals[n % seeds]
            event = first_events[original.pk]
            number += 1
            issue = Issue(
                project=project,
                number=number,
                calculated_type=f"BenchError{n}",
                calculated_value=original.calculated_value,
                culprit=original.culprit,
                transaction=original.transaction,
                level=original.level,
                platform=original.platform,
                first_seen=when,
                last_seen=when,
                event_count=1,
                first_release=original.first_release,
                last_release=original.last_release,
                period_counts=original.period_counts,
            )
            grouping = Grouping(
                project=project,
                grouping_key=f"{groupings[original.pk].grouping_key} copy {n}",
                grouping_key_hash=uuid.uuid4().hex + uuid.uuid4().hex,
                issue=issue,
            )
            event_id = uuid.uuid4()
            data_json = event.data_json.replace(event.event_id.hex, event_id.hex)
            new_issues.append(issue)
            new_groupings.append(grouping)
            new_events.append(
                Event(
                    project=project,
                    issue=issue,
                    grouping=grouping,
                    event_id=event_id,
                    timestamp=when,
                    ingested_at=when,
                    digested_at=when,
                    digest_order=1,
                    data_json=data_json.replace(f'"{original.calculated_type}"', f'"BenchError{n}"'),
                    calculated_type=f"BenchError{n}",
                    calculated_value=event.calculated_value,
                    level=event.level,
                    platform=event.platform,
                    release=event.release,
                    environment=event.environment,
                    transaction=event.transaction,
                )
            )
        with transaction.atomic():
            Issue.objects.bulk_create(new_issues, batch_size=1000)
            Grouping.objects.bulk_create(new_groupings, batch_size=1000)
            Event.objects.bulk_create(new_events, batch_size=1000)
            TurningPoint.objects.bulk_create(
                [
                    TurningPoint(issue=e.issue, kind=TurningPoint.Kind.FIRST_SEEN, timestamp=when, triggering_event=e)
                    for e in new_events
                ],
                batch_size=1000,
            )
            rows, issue_tags = [], []
            for n, event in zip(range(offset, issues), new_events, strict=False):
                values = tags.get(first_events[originals[n % seeds].pk].pk, [])
                issue_column = Issue._meta.pk.get_db_prep_value(event.issue_id, connection)
                rows += [(event.pk, issue_column, value_id) for value_id in values]
                issue_tags += [IssueTag(issue_id=event.issue_id, value_id=value_id, count=1) for value_id in values]
            with connection.cursor() as cursor:
                for part in range(0, len(rows), 10_000):
                    cursor.executemany(insert_tags, rows[part : part + 10_000])
            IssueTag.objects.bulk_create(issue_tags, batch_size=2000)
            Project.objects.filter(pk=project.pk).update(
                issue_counter=number, digested_event_count=F("digested_event_count") + len(new_events)
            )
        done = min(offset + chunk, issues)
        print(f"  {done} issues ({(time.perf_counter() - start):.0f} s)", file=sys.stderr)


def copy_events(project, count: int, weights: list[float], rng: random.Random, chunk: int = 20_000):
    """`count` more events, each a copy of its issue's first event, with everything digest writes for an event;
    chunk by chunk, each in one transaction, so that the database is whole whenever the build stops."""
    from collections import Counter

    from django.db import connection, transaction
    from django.db.models import F

    from events.models import Event
    from issues.models import Issue
    from projects.models import Project
    from tags.models import EventTag, IssueTag

    issue_ids = list(Issue.objects.filter(project=project).order_by("number").values_list("pk", flat=True))
    counts = dict(Issue.objects.filter(project=project).values_list("pk", "event_count"))
    plan = rng.choices(range(len(issue_ids)), weights=weights[: len(issue_ids)], k=count)
    start = time.perf_counter()
    moment = time.time()
    insert_tags = f"INSERT INTO {EventTag._meta.db_table} (event_id, issue_id, value_id) VALUES (%s, %s, %s)"
    update_issue = f"UPDATE {Issue._meta.db_table} SET event_count = %s, last_seen = %s WHERE id = %s"
    update_tag = f"UPDATE {IssueTag._meta.db_table} SET count = count + %s WHERE issue_id = %s AND value_id = %s"
    for offset in range(0, count, chunk):
        wanted = [issue_ids[i] for i in plan[offset : offset + chunk]]
        templates = {}
        distinct = list(set(wanted))
        for part in range(0, len(distinct), 500):
            for template in Event.objects.filter(issue_id__in=distinct[part : part + 500], digest_order=1):
                templates[template.issue_id] = template
        tags: dict = {}
        for event_id, value_id in EventTag.objects.filter(event_id__in=[t.pk for t in templates.values()]).values_list(
            "event_id", "value_id"
        ):
            tags.setdefault(event_id, []).append(value_id)
        new_events = []
        last_seen: dict = {}
        for issue_id in wanted:
            template = templates[issue_id]
            counts[issue_id] += 1
            moment += 0.01
            when = datetime.fromtimestamp(moment, UTC)
            new_id = uuid.uuid4()
            new_events.append(
                Event(
                    project_id=project.pk,
                    issue_id=issue_id,
                    grouping_id=template.grouping_id,
                    event_id=new_id,
                    timestamp=when,
                    ingested_at=when,
                    digested_at=when,
                    digest_order=counts[issue_id],
                    data_json=template.data_json.replace(template.event_id.hex, new_id.hex),
                    calculated_type=template.calculated_type,
                    calculated_value=template.calculated_value,
                    level=template.level,
                    platform=template.platform,
                    release=template.release,
                    environment=template.environment,
                    transaction=template.transaction,
                )
            )
            last_seen[issue_id] = when
        column = {i: Issue._meta.pk.get_db_prep_value(i, connection) for i in distinct}
        with transaction.atomic():
            Event.objects.bulk_create(new_events, batch_size=1000)
            rows = []
            tag_counts: Counter = Counter()
            for event in new_events:
                for value_id in tags.get(templates[event.issue_id].pk, []):
                    rows.append((event.pk, column[event.issue_id], value_id))
                    tag_counts[(event.issue_id, value_id)] += 1
            moments = {
                i: Event._meta.get_field("ingested_at").get_db_prep_value(w, connection) for i, w in last_seen.items()
            }
            with connection.cursor() as cursor:
                for part in range(0, len(rows), 10_000):
                    cursor.executemany(insert_tags, rows[part : part + 10_000])
                cursor.executemany(update_issue, [(counts[i], moments[i], column[i]) for i in last_seen])
                cursor.executemany(update_tag, [(n, column[i], v) for (i, v), n in tag_counts.items()])
            Project.objects.filter(pk=project.pk).update(digested_event_count=F("digested_event_count") + len(wanted))
        done = min(offset + chunk, count)
        print(f"  {done} events copied ({(time.perf_counter() - start):.0f} s)", file=sys.stderr)


def timed(client, url: str, repeat: int) -> dict:
    durations = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(url)
        durations.append(time.perf_counter() - start)
        assert response.status_code == 200, (url, response.status_code)
    return {
        "url": url,
        "median_ms": round(statistics.median(durations) * 1000, 1),
        "max_ms": round(max(durations) * 1000, 1),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--issues", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--digested", type=int, default=None, help="how many go through digest (default: all)")
    parser.add_argument("--seed-issues", type=int, default=None, help="issues made by digest (default: all)")
    parser.add_argument("--database-url", default=None, help="PostgreSQL or MySQL instead of SQLite")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--continue-build", action="store_true", help="copy the events a stopped build lacks")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if args.rebuild:
        shutil.rmtree(DATA_DIR, ignore_errors=True)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    setup_django(args.database_url)
    from django.core.management import call_command

    from projects.models import Project

    call_command("migrate", verbosity=0)
    fresh = not Project.objects.filter(slug="shop").exists()
    digested = args.events if args.digested is None else args.digested
    seeds = args.issues if args.seed_issues is None else args.seed_issues
    build_seconds = build(args.issues, args.events, digested, seeds) if fresh else None
    if not fresh and args.continue_build:
        # a build that stopped (or was stopped) after its issues: the events still missing, copied as above
        from events.models import Event

        missing = args.events - Event.objects.count()
        if missing > 0:
            began = time.perf_counter()
            weights = [1 / (i + 1) ** 0.8 for i in range(args.issues)]
            copy_events(Project.objects.get(slug="shop"), missing, weights, random.Random(missing))
            build_seconds = {"copied_events": missing, "copy_events_seconds": round(time.perf_counter() - began)}

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from events.models import Event
    from issues.models import Issue

    project = Project.objects.get(slug="shop")
    if connection.vendor == "postgresql":
        # what autovacuum does after a bulk load (since PostgreSQL 13 inserts trigger it too): the statistics the
        # planner chooses by, and the visibility map that index-only scans need; a bulk load outruns it
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    client = Client()
    client.force_login(get_user_model().objects.get(username="bench"))
    biggest = Issue.objects.filter(project=project).order_by("-event_count").first()
    typical = Issue.objects.filter(project=project).order_by("number")[args.issues // 2]
    middle_event = biggest.events.order_by("digest_order")[biggest.event_count // 2]
    list_url = f"/projects/{project.pk}/issues/"
    import html
    import re

    older_links = re.findall(r'href="([^"]*[?&]after=[^"]*)"', client.get(list_url).content.decode())
    older = html.unescape(older_links[0]) if older_links else None
    from django.db.models import Count

    from tags.models import TagValue

    # a narrow tag term: the user value the fewest issues have
    rare = (
        TagValue.objects.filter(project=project, key="user")
        .annotate(n=Count("issuetag"))
        .order_by("n", "pk")
        .values_list("value", flat=True)
        .first()
    )
    urls = [
        list_url,
        f"{list_url}?tab=all&sort=event_count",
        f"{list_url}?tab=all&per_page=250",
        f"{list_url}?tab=all&q=level:fatal+environment:production",
        f"{list_url}?q=level:fatal+environment:production",
        f"{list_url}?q=environment:staging",
        f"{list_url}?tab=all&q=release:shop@1.3.1",
        f"{list_url}?tab=all&q=user:{rare}",
        f"{list_url}?tab=all&q=BenchError17",
        "/issues/",
        f"/issues/{biggest.pk}/",
        f"/issues/{biggest.pk}/events/{middle_event.pk}/",
        f"/issues/{biggest.pk}/details/",
        f"/issues/{biggest.pk}/events/",
        f"/issues/{biggest.pk}/tags/",
        f"/issues/{biggest.pk}/history/",
        f"/issues/{typical.pk}/",
    ]
    if older:
        urls.insert(1, older)
    timings = [timed(client, url, args.repeat) for url in urls]
    print(
        json.dumps(
            {
                "issues": Issue.objects.filter(project=project).count(),
                "events": Event.objects.filter(project=project).count(),
                "biggest_issue_events": biggest.event_count,
                "database": connection.vendor,
                "build": build_seconds or "reused",
                "repeat": args.repeat,
                "pages": timings,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
