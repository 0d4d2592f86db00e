"""Page timings on a big installation: builds (once) a fresh SQLite database with ISSUES issues and EVENTS events,
digested through the real digest code (so tags, counters and history are what production would have), then
times the issue list and the issue page in-process with Django's test client (no network, no browser: the
server-side time a page costs).

    python bench/ui_bench.py --issues 10000 --events 100000 [--rebuild] [--repeat 5]

The database lives in /tmp/bugsink-ui-bench (set BENCH_DATA_DIR to change). Nothing is checked in as data.
"""

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("BENCH_DATA_DIR", "/tmp/bugsink-ui-bench"))


def setup_django():
    os.environ["BUGSINK_DATA_DIR"] = str(DATA_DIR)
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("CELERY_BROKER_URL", None)
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


def build(issues: int, events: int):
    from django.core.management import call_command

    from ingest.digest import digest
    from ingest.store import RawEvent, store_raw_event
    from projects.models import Project

    call_command("migrate", verbosity=0)
    project = Project.objects.create(name="Big shop", slug="shop")
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("bench", "bench@example.com", "bench")
    rng = random.Random(42)
    # a skewed distribution, as in real life: a few issues get most events, every issue gets at least one
    weights = [1 / (i + 1) ** 0.8 for i in range(issues)]
    plan = list(range(issues)) + rng.choices(range(issues), weights=weights, k=events - issues)
    rng.shuffle(plan)
    start = time.perf_counter()
    chunk = 2000
    for offset in range(0, len(plan), chunk):
        keys = []
        for n, issue in enumerate(plan[offset : offset + chunk]):
            event = event_for(issue, offset + n, rng)
            keys.append(
                store_raw_event(
                    RawEvent(project.pk, event["event_id"], time.time(), "127.0.0.1", json.dumps(event).encode())
                )
            )
        for key in keys:
            digest(key)
        done = offset + chunk
        print(f"  {min(done, len(plan))} events digested ({(time.perf_counter() - start):.0f} s)", file=sys.stderr)
    return time.perf_counter() - start


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
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if args.rebuild:
        shutil.rmtree(DATA_DIR, ignore_errors=True)
    fresh = not (DATA_DIR / "db.sqlite3").exists()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    setup_django()
    build_seconds = build(args.issues, args.events) if fresh else None

    from django.contrib.auth import get_user_model
    from django.test import Client

    from events.models import Event
    from issues.models import Issue
    from projects.models import Project

    project = Project.objects.get(slug="shop")
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
    urls = [
        list_url,
        f"{list_url}?tab=all&sort=event_count",
        f"{list_url}?tab=all&per_page=250",
        f"{list_url}?tab=all&q=level:fatal+environment:production",
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
                "build_seconds": round(build_seconds, 1) if build_seconds else "reused",
                "repeat": args.repeat,
                "pages": timings,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
