"""Release health on the releases list and on a release's page (with its chart), and what was not kept on the
project's setup page."""

import re

import pytest

from health.models import SessionBucket
from health.tests.test_sessions import session


@pytest.fixture
def member_client(client, project, django_user_model):
    user = django_user_model.objects.create_user(username="admin", password="pw", is_superuser=True)
    client.force_login(user)
    return client


@pytest.fixture
def half_crashed(project, post_envelope):
    post_envelope(project, [session("a", init=True, status="exited", did="u1")])
    post_envelope(project, [session("b", init=True, status="crashed", errors=1, did="u2")])
    post_envelope(project, [session("c", init=True, status="exited", release="0.9", environment="production")])


def cell(html: str, name: str, within: str = "") -> str:
    match = re.search(rf"{within}.*?data-{name}[^>]*>([^<]*)<", html, re.S)
    assert match, name
    return match.group(1).strip()


def test_the_releases_list_shows_crash_free_rates_and_adoption(member_client, project, half_crashed):
    html = member_client.get(f"/projects/{project.pk}/releases/").content.decode()
    row = 'data-release="1.0"'
    assert cell(html, "sessions", row) == "2"
    assert cell(html, "crash-free-sessions", row) == "50%"
    assert cell(html, "crash-free-users", row) == "50%"
    assert cell(html, "adoption", row) == "66.67%"


def test_a_release_page_shows_its_health_and_a_chart(member_client, project, half_crashed):
    for period in ("24h", "7d", "14d", "90d", "bogus"):
        response = member_client.get(f"/projects/{project.pk}/releases/1.0/", {"period": period})
        assert response.status_code == 200
        html = response.content.decode()
        assert cell(html, "crash-free-sessions") == "50%"
        assert cell(html, "crashed") == "1" and cell(html, "healthy") == "1"
        assert re.search(r'<rect class="health-crashed" x="[\d.]+" y="[\d.]+" width="[\d.]+" height="[\d.]+"', html)
        assert "style=" not in html.split("data-release-health")[1].split("</section>")[0]


def test_a_release_without_sessions_says_so(member_client, project, half_crashed):
    SessionBucket.objects.filter(release="0.9").delete()
    html = member_client.get(f"/projects/{project.pk}/releases/0.9/").content.decode()
    assert "data-no-sessions" in html


def test_the_setup_page_shows_what_was_not_kept(member_client, project, post_envelope):
    report = {"discarded_events": [{"reason": "queue_overflow", "category": "error", "quantity": 4}]}
    post_envelope(project, [("client_report", report), ("transaction", {}), ("replay_event", {})])
    html = member_client.get(f"/projects/{project.pk}/setup/").content.decode()
    sdk = html.split("data-dropped-by-sdk")[1].split("</table>")[0]
    assert 'data-category="error" data-reason="queue_overflow"' in sdk and ">4<" in sdk
    not_kept = html.split("data-not-kept")[1].split("</table>")[0]
    assert 'data-reason="transaction"' in not_kept and 'data-reason="replay_event"' in not_kept
