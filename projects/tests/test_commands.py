from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from projects.models import Project


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_createproject_prints_the_dsn(db, settings):
    settings.BASE_URL = "https://errors.example.com/sub"
    dsn = run("createproject", "Web Shop").strip()
    project = Project.objects.get(name="Web Shop")
    assert dsn == f"https://{project.sentry_key}@errors.example.com/sub/{project.pk}"
    assert project.slug == "web-shop"


def test_createproject_refuses_a_duplicate_name(db):
    run("createproject", "Once")
    with pytest.raises(CommandError, match="exists already"):
        run("createproject", "Once")


def test_bootstrap_makes_an_admin_and_a_project_once(db, settings, tmp_path):
    from django.contrib.auth import get_user_model

    settings.DATA_DIR = tmp_path
    first = run("bootstrap")
    second = run("bootstrap")
    User = get_user_model()
    admin = User.objects.get(is_superuser=True)
    password = (tmp_path / "initial-admin-password").read_text()
    assert admin.check_password(password)
    assert f"admin / {password}" in first and f"admin / {password}" in second
    project = Project.objects.get()
    assert project.dsn in first and project.dsn in second


def test_bootstrap_shows_the_initial_password_only_until_it_is_changed(db, settings, tmp_path):
    from django.contrib.auth import get_user_model

    settings.DATA_DIR = tmp_path
    first = run("bootstrap")
    password_file = tmp_path / "initial-admin-password"
    password = password_file.read_text()
    assert f"Login    admin / {password}\n" in first
    assert oct(password_file.stat().st_mode & 0o777) == "0o600"

    admin = get_user_model().objects.get(username="admin")
    admin.set_password("a password of my own")
    admin.save()
    after = run("bootstrap")
    assert password not in after and "a password of my own" not in after
    assert ".venv/bin/python manage.py changepassword admin" in after
    assert not password_file.exists()  # useless now, and no plaintext left behind
    assert ".venv/bin/python manage.py changepassword admin" in run("bootstrap")


def test_bootstrap_with_a_set_password_prints_it_until_changed(db, settings, tmp_path, monkeypatch):
    from django.contrib.auth import get_user_model

    settings.DATA_DIR = tmp_path
    monkeypatch.setenv("ADMIN_PASSWORD", "given by the operator")
    assert "admin / given by the operator" in run("bootstrap")
    admin = get_user_model().objects.get(username="admin")
    admin.set_password("changed")
    admin.save()
    assert "given by the operator" not in run("bootstrap")


def test_bootstrap_makes_the_first_admin_an_admin_member_of_the_first_project_once(db, settings, tmp_path):
    from django.contrib.auth import get_user_model

    from projects.models import ProjectMembership

    settings.DATA_DIR = tmp_path
    run("bootstrap")
    admin = get_user_model().objects.get(is_superuser=True)
    membership = ProjectMembership.objects.get()
    assert (membership.user, membership.project, membership.role) == (admin, Project.objects.get(), "admin")

    membership.send_email_alerts = False
    membership.save()
    run("bootstrap")
    assert list(ProjectMembership.objects.values_list("user", "role", "send_email_alerts")) == [
        (admin.pk, "admin", False)
    ]


def test_bootstrap_leaves_a_project_that_has_members_alone(db, settings, tmp_path, django_user_model):
    from projects.models import ProjectMembership

    settings.DATA_DIR = tmp_path
    project = Project.objects.create(name="Existing")
    someone = django_user_model.objects.create_user("someone")
    ProjectMembership.objects.create(project=project, user=someone, role="admin")
    run("bootstrap")
    assert list(ProjectMembership.objects.values_list("user__username", flat=True)) == ["someone"]


def test_after_bootstrap_the_admins_preferences_offer_the_first_projects_email_alerts(db, settings, tmp_path, client):
    from django.contrib.auth import get_user_model

    settings.DATA_DIR = tmp_path
    run("bootstrap")
    client.force_login(get_user_model().objects.get(is_superuser=True))
    page = client.get("/accounts/preferences/").content.decode()
    assert "not a member of any project" not in page
    assert 'name="project"' in page and "My first project" in page
