"""Sentry's sessions API over release health: fields, groupBy, periods and intervals; bad parameters are a 400 with a
`detail`; a caller sees the projects it may see, nothing else."""

import pytest
from django.contrib.auth import get_user_model

from api.models import ApiToken, Scope
from health.tests.test_sessions import session
from projects.models import Project, ProjectMembership


@pytest.fixture
def get(client, project):
    user = get_user_model().objects.create_user("alice")
    ProjectMembership.objects.create(project=project, user=user)
    token = ApiToken.create_for(user, "read", scope=Scope.READ)[1]

    def get(**params):
        return client.get("/api/0/organizations/culvert/sessions/", params, HTTP_AUTHORIZATION=f"Bearer {token}")

    return get


@pytest.fixture
def sessions(project, post_envelope):
    post_envelope(project, [session("a", init=True, status="exited", did="u1")])
    post_envelope(project, [session("b", init=True, status="crashed", errors=1, did="u2")])
    post_envelope(project, [session("c", init=True, status="exited", release="0.9", did="u3")])
    other = Project.objects.create(name="Someone else's")
    post_envelope(other, [session("z", init=True, status="crashed", release="1.0")])


def test_sums_and_rates_per_release(get, sessions, settings):
    settings.ORGANIZATION_SLUG = "culvert"
    fields = ["sum(session)", "count_unique(user)", "crash_free_rate(session)", "crash_free_rate(user)"]
    body = get(field=fields, groupBy="release", statsPeriod="24h", interval="1h").json()
    assert len(body["intervals"]) == 24
    groups = {g["by"]["release"]: g for g in body["groups"]}
    assert groups["1.0"]["totals"] == {
        "sum(session)": 2,
        "count_unique(user)": 2,
        "crash_free_rate(session)": 0.5,
        "crash_free_rate(user)": 0.5,
    }
    assert sum(groups["1.0"]["series"]["sum(session)"]) == 2
    assert groups["0.9"]["totals"]["crash_free_rate(session)"] == 1.0


def test_grouped_by_status(get, sessions, settings):
    settings.ORGANIZATION_SLUG = "culvert"
    body = get(field="sum(session)", groupBy=["environment", "session.status"], statsPeriod="1d", interval="1d").json()
    by_status = {g["by"]["session.status"]: g["totals"]["sum(session)"] for g in body["groups"]}
    assert by_status == {"healthy": 2, "errored": 0, "crashed": 1, "abnormal": 0}
    assert {g["by"]["environment"] for g in body["groups"]} == {"production"}


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"field": "sum(nonsense)"},
        {"field": "sum(session)", "groupBy": "user"},
        {"field": "sum(session)", "interval": "30m"},
        {"field": "sum(session)", "statsPeriod": "forever"},
        {"field": "sum(session)", "statsPeriod": "400d"},
        {"field": "sum(session)", "start": "yesterday", "end": "today"},
        {"field": "count_unique(user)", "groupBy": "session.status"},
    ],
)
def test_bad_parameters_are_a_400_with_a_detail(get, sessions, settings, params):
    settings.ORGANIZATION_SLUG = "culvert"
    response = get(**params)
    assert response.status_code == 400 and "detail" in response.json()
