"""Release health as people read it, from the hourly buckets (health.models.SessionBucket).

- sessions: started; healthy = sessions without error, crash or abnormal end; errored = errored but neither crashed
  nor abnormal; crashed; abnormal.
- crash-free sessions = 100 × (1 − crashed / sessions); crash-free users = 100 × (1 − crashed users / users), users
  counted distinct over the whole period (sketches merged, health.distinct).
- adoption = the release's share of its environments' sessions in the period (all releases of the project that
  share those environments), in percent.

Sums over many hours are one aggregate query; only the user counts read the sketches, of the period's rows.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Sum

from health.distinct import DistinctCounter
from health.models import SessionBucket


@dataclass
class HealthTotals:
    sessions: int = 0
    errored_all: int = 0  # errored, crashed or abnormal
    crashed: int = 0
    abnormal: int = 0
    users: int = 0
    crashed_users: int = 0
    adoption: float | None = None

    @property
    def healthy(self) -> int:
        return max(0, self.sessions - self.errored_all)

    @property
    def errored(self) -> int:
        return max(0, self.errored_all - self.crashed - self.abnormal)

    @property
    def crash_free_sessions(self) -> float | None:
        if not self.sessions:
            return None
        return max(0.0, 100.0 * (1 - self.crashed / self.sessions))

    @property
    def crash_free_users(self) -> float | None:
        if not self.users:
            return None
        return max(0.0, 100.0 * (1 - min(self.crashed_users, self.users) / self.users))


SUMS = {
    "sessions": Sum("started"),
    "errored_all": Sum("errored"),
    "crashed": Sum("crashed"),
    "abnormal": Sum("abnormal"),
}


def _sum_into(totals: HealthTotals, row: dict) -> None:
    for name in SUMS:
        setattr(totals, name, getattr(totals, name) + (row[name] or 0))


def totals_by_release(
    project, start: datetime, end: datetime, releases: list[str] | None = None
) -> dict[str, HealthTotals]:
    """Each release's totals in [start, end), with its adoption; releases without sessions are absent."""
    buckets = SessionBucket.objects.filter(project=project, hour__gte=start, hour__lt=end)
    by_release: dict[str, HealthTotals] = defaultdict(HealthTotals)
    env_totals: dict[str, int] = defaultdict(int)
    release_envs: dict[str, set[str]] = defaultdict(set)
    for row in buckets.values("release", "environment").annotate(**SUMS).order_by():
        _sum_into(by_release[row["release"]], row)
        env_totals[row["environment"]] += row["sessions"] or 0
        release_envs[row["release"]].add(row["environment"])
    wanted = set(by_release) if releases is None else set(releases) & set(by_release)
    users: dict[str, list[DistinctCounter]] = {r: [DistinctCounter(), DistinctCounter()] for r in wanted}
    for release, all_users, crashed_users in buckets.filter(release__in=wanted).values_list(
        "release", "users", "crashed_users"
    ):
        users[release][0].merge(DistinctCounter.load(all_users))
        users[release][1].merge(DistinctCounter.load(crashed_users))
    result = {}
    for release in wanted:
        totals = by_release[release]
        totals.users, totals.crashed_users = (sketch.count() for sketch in users[release])
        environment_sessions = sum(env_totals[e] for e in release_envs[release])
        totals.adoption = 100.0 * totals.sessions / environment_sessions if environment_sessions else None
        result[release] = totals
    return result


@dataclass
class ReleaseHealth:
    totals: HealthTotals
    by_environment: dict[str, HealthTotals] = field(default_factory=dict)
    series: list[tuple[datetime, HealthTotals]] = field(default_factory=list)  # per interval, oldest first


def release_health(project, release: str, start: datetime, end: datetime, interval: timedelta) -> ReleaseHealth:
    """One release's health in [start, end): totals, per environment (adoption within each), and a series of
    `interval`-long steps for the chart (user counts per step are left out: the chart shows sessions)."""
    rows = list(
        SessionBucket.objects.filter(project=project, hour__gte=start, hour__lt=end, release=release)
        .values_list("hour", "environment", "started", "errored", "crashed", "abnormal", "users", "crashed_users")
        .order_by("hour")
    )
    env_all = dict(
        SessionBucket.objects.filter(project=project, hour__gte=start, hour__lt=end)
        .values_list("environment")
        .annotate(n=Sum("started"))
        .order_by()
    )
    totals = HealthTotals()
    by_environment: dict[str, HealthTotals] = defaultdict(HealthTotals)
    sketches = defaultdict(lambda: [DistinctCounter(), DistinctCounter()])
    steps = max(1, int((end - start) / interval))
    series = [(start + i * interval, HealthTotals()) for i in range(steps)]
    for hour, environment, started, errored, crashed, abnormal, users, crashed_users in rows:
        row = {"sessions": started, "errored_all": errored, "crashed": crashed, "abnormal": abnormal}
        for target in (totals, by_environment[environment]):
            _sum_into(target, row)
        index = int((hour - start) / interval)
        if 0 <= index < steps:
            _sum_into(series[index][1], row)
        for key in (None, environment):
            sketches[key][0].merge(DistinctCounter.load(users))
            sketches[key][1].merge(DistinctCounter.load(crashed_users))
    totals.users, totals.crashed_users = (s.count() for s in sketches[None])
    all_sessions = sum(env_all.get(e, 0) or 0 for e in by_environment)
    totals.adoption = 100.0 * totals.sessions / all_sessions if all_sessions else None
    for environment, env_totals in by_environment.items():
        env_totals.users, env_totals.crashed_users = (s.count() for s in sketches[environment])
        in_env = env_all.get(environment) or 0
        env_totals.adoption = 100.0 * env_totals.sessions / in_env if in_env else None
    return ReleaseHealth(totals=totals, by_environment=dict(sorted(by_environment.items())), series=series)
