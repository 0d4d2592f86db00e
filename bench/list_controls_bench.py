"""The issue list's environment and release controls at 100,000 issues: builds (in bulk, no digest) a project with
ISSUES issues spread over 3 environments and RELEASES releases (each issue tagged with one of each, as IssueTag
rows, with first/last release set), then times the list page without a filter, with an environment and with a
release chosen, and counts each page's queries.

    python bench/list_controls_bench.py [--issues 100000] [--releases 300] [--repeat 5] [--database-url ...]

The data folder is /tmp/culvert-list-controls-bench (BENCH_DATA_DIR to change); SQLite unless --database-url. It
is rebuilt on every run.
"""

import argparse
import os
import shutil
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("BENCH_DATA_DIR", "/tmp/culvert-list-controls-bench"))


def setup_django(database_url: str | None):
    shutil.rmtree(DATA_DIR, ignore_errors=True)
    DATA_DIR.mkdir(parents=True)
    os.environ["BUGSINK_DATA_DIR"] = str(DATA_DIR)
    os.environ.pop("DATABASE_URL", None)
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bugsink.settings"
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build(issues: int, releases: int):
    from django.contrib.auth import get_user_model

    from issues.models import Issue
    from projects.models import Project, ProjectMembership
    from releases.models import Release
    from tags.models import IssueTag, TagValue

    project = Project.objects.create(name="Bench", slug="bench")
    member = get_user_model().objects.create_user("bench")
    ProjectMembership.objects.create(project=project, user=member)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    versions = [f"shop@1.{n // 10}.{n % 10}" for n in range(releases)]
    Release.objects.bulk_create(
        Release(project=project, version=v, date_released=start + timedelta(hours=n)) for n, v in enumerate(versions)
    )
    environments = ["production", "staging", "development"]
    values = {
        ("environment", e): TagValue.objects.create(project=project, key="environment", value=e) for e in environments
    }
    for v in versions:
        values[("release", v)] = TagValue.objects.create(project=project, key="release", value=v)
    chunk = 5000
    for first in range(0, issues, chunk):
        rows = []
        tags = []
        for n in range(first, min(first + chunk, issues)):
            moment = start + timedelta(seconds=n * 30)
            version = versions[n % releases]
            issue = Issue(
                id=uuid.uuid4(),
                project=project,
                number=n + 1,
                calculated_type=f"BenchError{n % 500}",
                calculated_value=f"issue {n}",
                first_seen=moment,
                last_seen=moment,
                event_count=1 + n % 50,
                first_release=versions[(n // 3) % releases],
                last_release=version,
                is_resolved=n % 5 == 0,
                is_muted=n % 11 == 0 and n % 5 != 0,
            )
            rows.append(issue)
            tags.append(IssueTag(issue=issue, value=values[("environment", environments[n % 3])], count=1))
            tags.append(IssueTag(issue=issue, value=values[("release", version)], count=1))
        Issue.objects.bulk_create(rows)
        IssueTag.objects.bulk_create(tags)
    Project.objects.filter(pk=project.pk).update(issue_counter=issues)
    return project, member


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--releases", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    setup_django(args.database_url)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    began = time.perf_counter()
    project, member = build(args.issues, args.releases)
    print(f"built {args.issues} issues, {args.releases} releases in {time.perf_counter() - began:.0f} s")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    client = Client()
    client.force_login(member)
    url = f"/projects/{project.pk}/issues/"
    pages = [
        ("unfiltered", url),
        ("environment chosen", f"{url}?q=environment:staging"),
        ("release chosen", f"{url}?q=release:shop@1.7.3"),
        ("both, All tab", f"{url}?q=environment:staging+release:shop@1.7.3&tab=all"),
    ]
    client.get(url)  # warm: the session's first request
    for name, page in pages:
        durations = []
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as queries:
                start = time.perf_counter()
                response = client.get(page)
                durations.append(time.perf_counter() - start)
            assert response.status_code == 200 and b"data-issue-row" in response.content, page
        print(
            f"| {name} | {statistics.median(durations) * 1000:.1f} ms | {max(durations) * 1000:.1f} ms "
            f"| {len(queries.captured_queries)} |"
        )


if __name__ == "__main__":
    main()
