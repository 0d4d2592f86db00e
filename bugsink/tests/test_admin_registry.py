"""Every model of ours is in the admin; the ones whose rules live in the app's own code are there to look at only;
the admin carries the product's name (SITE_TITLE)."""

from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from accounts.models import UserPreferences
from bugsink.tests.test_layering import our_apps
from projects.models import Invitation, Team, TeamMembership
from tags.models import EventTag
from testing.utils import exception_event

OUR_APPS = [app for app in our_apps() if app != "bugsink"]  # from INSTALLED_APPS
NEWLY_REGISTERED = [Team, TeamMembership, Invitation, UserPreferences, EventTag]


@pytest.fixture
def admin_client_with_people(admin_client, admin_user, project, send_event):
    send_event(project, exception_event(release="1.0.0", environment="prod"))
    team = Team.objects.create(name="Backend")
    TeamMembership.objects.create(team=team, user=admin_user, role="admin")
    Invitation.objects.create(
        project=project, email="new@example.com", token_hash="0" * 64, expires_at=timezone.now() + timedelta(days=7)
    )
    UserPreferences.objects.create(user=admin_user, theme="dark")
    return admin_client


def test_every_model_of_ours_is_registered():
    missing = [
        model.__name__
        for label in OUR_APPS
        for model in apps.get_app_config(label).get_models()
        if not admin.site.is_registered(model)
    ]
    assert missing == []


@pytest.mark.parametrize("model", NEWLY_REGISTERED, ids=lambda m: m.__name__)
def test_changelist_and_object_page_answer_for_a_superuser(admin_client_with_people, model):
    opts = model._meta
    changelist = admin_client_with_people.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert changelist.status_code == 200 and changelist.context["cl"].result_count >= 1
    assert admin_client_with_people.get(changelist.request["PATH_INFO"], {"q": "a"}).status_code == 200
    change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[model.objects.first().pk])
    assert admin_client_with_people.get(change).status_code == 200


@pytest.mark.parametrize("model", [TeamMembership, Invitation, EventTag], ids=lambda m: m.__name__)
def test_rule_keeping_models_cannot_be_added_or_edited_in_the_admin(admin_client_with_people, model):
    opts = model._meta
    obj = model.objects.first()
    assert admin_client_with_people.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add")).status_code == 403
    change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    assert admin_client_with_people.post(change, {}).status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()


def test_a_team_membership_and_an_event_tag_cannot_be_deleted_in_the_admin(admin_client_with_people):
    for model in (TeamMembership, EventTag):
        opts = model._meta
        obj = model.objects.first()
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_delete", args=[obj.pk])
        assert admin_client_with_people.post(url, {"post": "yes"}).status_code == 403
        assert model.objects.filter(pk=obj.pk).exists()


def test_the_admin_carries_the_site_title(admin_client, settings):
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert "Culvert administration" in page and "Culvert admin</title>" in page and "Django" not in page
    settings.SITE_TITLE = "Acme Errors"
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert "Acme Errors administration" in page and "Culvert" not in page


@pytest.mark.parametrize(
    "label", ["ingest.RefusedEvents", "ingest.RawRecord", "artifacts.DebugIdArtifact", "api.ApiToken"]
)
def test_look_only_models_list_and_cannot_be_added(admin_client, label):
    opts = apps.get_model(label)._meta
    assert admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")).status_code == 200
    assert admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add")).status_code == 403


def test_every_admin_page_links_the_apps_icon(admin_client):
    """Issue 23: the admin linked no favicon (a 404 for the browser's /favicon.ico on every admin page)."""
    for name in ("admin:index", "admin:issues_issue_changelist", "admin:auth_user_changelist"):
        page = admin_client.get(reverse(name)).content.decode()
        assert '<link rel="icon" href="/static/img/favicon.svg' in page, name
    assert admin_client.get(reverse("admin:index")).content.decode().count('rel="icon"') == 1
