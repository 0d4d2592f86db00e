"""The Django admin shows every model, with its list columns, filters and search working."""

import pytest
from django.urls import reverse

from events.models import Event
from issues.models import Grouping, Issue, TurningPoint
from projects.models import Project
from releases.models import Release
from testing.utils import exception_event

MODELS = [Project, Release, Issue, Grouping, TurningPoint, Event]


@pytest.fixture
def admin_client_with_data(admin_client, project, send_event):
    send_event(project, exception_event(release="1.0.0", environment="prod"))
    send_event(project, exception_event("KeyError", "k", release="1.0.0"))
    return admin_client


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelist_search_filter_and_change_page(admin_client_with_data, model):
    opts = model._meta
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    response = admin_client_with_data.get(changelist)
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1
    assert admin_client_with_data.get(changelist, {"q": "Error"}).status_code == 200
    obj = model.objects.first()
    change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    assert admin_client_with_data.get(change).status_code == 200


def test_issue_list_shows_short_id_title_and_state(admin_client_with_data):
    response = admin_client_with_data.get(reverse("admin:issues_issue_changelist"), {"is_resolved__exact": "0"})
    content = response.content.decode()
    assert "MYAPP-1" in content and "ValueError: bad value" in content and "open" in content


def test_admin_requires_login(client):
    response = client.get(reverse("admin:issues_issue_changelist"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_admin_actions_change_state_through_the_state_manager(admin_client_with_data):
    issues = list(Issue.objects.order_by("number"))
    url = reverse("admin:issues_issue_changelist")
    response = admin_client_with_data.post(
        url, {"action": "action_resolve", "_selected_action": [i.pk for i in issues]}, follow=True
    )
    assert response.status_code == 200
    assert all(i.is_resolved for i in Issue.objects.all())
    assert TurningPoint.objects.filter(kind="resolved").count() == 2
    response = admin_client_with_data.post(
        url, {"action": "action_mute", "_selected_action": [issues[0].pk]}, follow=True
    )
    assert "skipped: A resolved issue cannot be muted" in response.content.decode()
    admin_client_with_data.post(url, {"action": "action_reopen", "_selected_action": [issues[0].pk]})
    admin_client_with_data.post(url, {"action": "action_mute", "_selected_action": [issues[0].pk]})
    assert Issue.objects.get(pk=issues[0].pk).is_muted
