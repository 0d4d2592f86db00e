"""Session statistics over time for Sentry's sessions API (/api/0/organizations/{org}/sessions/): the hourly buckets
of some projects in [start, end), in steps of `interval`, grouped by project, release and/or environment."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from health.distinct import DistinctCounter
from health.models import SessionBucket
from health.summary import HealthTotals

GROUPS = ("project", "release", "environment")


@dataclass
class Group:
    by: dict
    totals: HealthTotals
    series: list[HealthTotals]


def _finish(totals: HealthTotals, sketches: list[DistinctCounter]) -> HealthTotals:
    totals.users, totals.crashed_users = sketches[0].count(), sketches[1].count()
    return totals


def session_stats(
    project_ids: list[int],
    start: datetime,
    end: datetime,
    interval: timedelta,
    group_by: list[str],
    environments: list[str] | None = None,
) -> list[Group]:
    rows = SessionBucket.objects.filter(project_id__in=project_ids, hour__gte=start, hour__lt=end)
    if environments:
        rows = rows.filter(environment__in=environments)
    steps = max(1, int((end - start) / interval))
    totals: dict[tuple, HealthTotals] = {}
    series: dict[tuple, list[HealthTotals]] = {}
    sketches: dict[tuple, list] = defaultdict(lambda: [DistinctCounter(), DistinctCounter()])
    step_sketches: dict[tuple, list] = defaultdict(lambda: [DistinctCounter(), DistinctCounter()])
    columns = ("project_id", "hour", "release", "environment", "started", "errored", "crashed", "abnormal")
    for values in rows.values_list(*columns, "users", "crashed_users").order_by("hour").iterator(chunk_size=2000):
        row = dict(zip(columns, values[:8], strict=True))
        row["project"] = str(row["project_id"])
        key = tuple(row[name] for name in group_by)
        if key not in totals:
            totals[key] = HealthTotals()
            series[key] = [HealthTotals() for _ in range(steps)]
        index = min(int((row["hour"] - start) / interval), steps - 1)
        for target in (totals[key], series[key][index]):
            target.sessions += row["started"]
            target.errored_all += row["errored"]
            target.crashed += row["crashed"]
            target.abnormal += row["abnormal"]
        for target in (sketches[key], step_sketches[(key, index)]):
            target[0].merge(DistinctCounter.load(values[8]))
            target[1].merge(DistinctCounter.load(values[9]))
    groups = []
    for key in sorted(totals, key=lambda k: tuple(str(v) for v in k)):
        groups.append(
            Group(
                by=dict(zip(group_by, key, strict=True)),
                totals=_finish(totals[key], sketches[key]),
                series=[_finish(step, step_sketches[(key, i)]) for i, step in enumerate(series[key])],
            )
        )
    return groups
