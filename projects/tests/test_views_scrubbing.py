"""The project's data scrubbing settings: shown and saved on the settings page (admins only) and in the admin, and
each one changes what is stored for events sent through the real endpoint afterwards."""

import json
import re
import uuid

from django.urls import reverse

from events.models import Event
from events.scrub import FILTERED, MARKER_KEY
from projects.models import Project

SETTINGS_FORM = {"name": "My App", "team": ""}


def save_settings(client, project, **fields):
    data = {**SETTINGS_FORM, **fields}
    return client.post(reverse("projects:settings", args=[project.pk]), data)


def stored(project, send_event, event: dict, **kwargs) -> dict:
    response = send_event(project, event, **kwargs)
    assert response.status_code == 200, response.content
    return json.loads(Event.objects.get(project=project, event_id=response.json()["id"]).data_json)


def test_scrubbing_is_on_by_default_and_shown_on_the_settings_page(client_for, owner, project):
    assert project.scrub_defaults and not project.scrub_ip_addresses
    page = client_for(owner).get(reverse("projects:settings", args=[project.pk])).content.decode()
    assert "Data scrubbing" in page
    assert re.search(r'<input type="checkbox" name="scrub_defaults"[^>]* checked', page)
    assert 'name="scrub_sensitive_fields"' in page and 'name="scrub_safe_fields"' in page
    assert 'name="scrub_ip_addresses"' in page and "Don&#x27;t store IP addresses" in page


def test_an_admin_saves_the_settings_cleaned(client_for, owner, project):
    response = save_settings(
        client_for(owner),
        project,
        scrub_defaults="on",
        scrub_sensitive_fields="ssn\n  sk_live_ , SSN\n\n",
        scrub_safe_fields="author_token",
        scrub_ip_addresses="on",
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.scrub_sensitive_fields == "ssn\nsk_live_"
    assert project.scrub_safe_fields == "author_token"
    assert project.scrub_defaults and project.scrub_ip_addresses


def test_too_many_or_too_long_field_names_are_refused_with_the_reason(client_for, owner, project):
    client = client_for(owner)
    response = save_settings(client, project, scrub_defaults="on", scrub_sensitive_fields="x" * 101)
    assert response.status_code == 200 and "at most 100 characters" in response.content.decode()
    many = "\n".join(f"field{i}" for i in range(101))
    response = save_settings(client, project, scrub_defaults="on", scrub_safe_fields=many)
    assert response.status_code == 200 and "at most 100 field names" in response.content.decode()
    project.refresh_from_db()
    assert project.scrub_sensitive_fields == "" and project.scrub_safe_fields == ""


def test_a_member_cannot_change_them(client_for, member, project):
    response = save_settings(client_for(member), project, scrub_sensitive_fields="ssn")
    assert response.status_code == 403
    project.refresh_from_db()
    assert project.scrub_defaults and project.scrub_sensitive_fields == ""


def test_the_admin_site_shows_and_edits_them(admin_client, project):
    url = reverse("admin:projects_project_change", args=[project.pk])
    page = admin_client.get(url).content.decode()
    for name in ("scrub_defaults", "scrub_sensitive_fields", "scrub_safe_fields", "scrub_ip_addresses"):
        assert f'name="{name}"' in page


# --- what each setting changes in what is stored -----------------------------------------------------------------


def test_by_default_secrets_are_filtered_before_storing(project, send_event):
    data = stored(project, send_event, {"message": "boom", "extra": {"db_password": "pw-1", "customer_ssn": "1"}})
    assert data["extra"] == {"db_password": FILTERED, "customer_ssn": "1"}
    assert data[MARKER_KEY] == {"filtered": 1, "removed": 0, "paths": ["extra.db_password"]}


def test_an_extra_sensitive_field_is_filtered_too(project, send_event):
    Project.objects.filter(pk=project.pk).update(scrub_sensitive_fields="ssn")
    data = stored(project, send_event, {"message": "boom", "extra": {"db_password": "pw-1", "customer_ssn": "1"}})
    assert data["extra"] == {"db_password": FILTERED, "customer_ssn": FILTERED}


def test_a_safe_field_is_kept(project, send_event):
    Project.objects.filter(pk=project.pk).update(scrub_safe_fields="db_password")
    data = stored(project, send_event, {"message": "boom", "extra": {"db_password": "pw-1", "api_token": "t"}})
    assert data["extra"] == {"db_password": "pw-1", "api_token": FILTERED}


def test_default_scrubbers_off_store_what_was_sent(project, send_event):
    Project.objects.filter(pk=project.pk).update(scrub_defaults=False)
    data = stored(project, send_event, {"message": "boom", "extra": {"db_password": "pw-1"}})
    assert data["extra"] == {"db_password": "pw-1"} and MARKER_KEY not in data


def test_ip_addresses_are_kept_by_default_and_removed_when_asked(project, send_event, settings, tmp_path):
    event = {
        "message": "boom",
        "user": {"id": "u1", "ip_address": "{{auto}}"},
        "request": {"url": "https://shop.example/", "headers": {"X-Forwarded-For": "198.51.100.7"}},
    }
    data = stored(project, send_event, event, REMOTE_ADDR="192.0.2.44")
    assert data["user"]["ip_address"] == "192.0.2.44"
    assert data["request"]["headers"]["X-Forwarded-For"] == "198.51.100.7"

    project.scrub_ip_addresses = True
    project.save()
    data = stored(project, send_event, {**event, "event_id": uuid.uuid4().hex}, REMOTE_ADDR="192.0.2.44")
    assert data["user"] == {"id": "u1"}
    assert data["request"]["headers"] == {}
    assert data[MARKER_KEY]["removed"] == 1  # the header; the address the SDK asked us to fill in was never known
    text = json.dumps(data)
    assert "192.0.2.44" not in text and "198.51.100.7" not in text


def test_with_ip_addresses_off_ingest_does_not_record_the_senders_address(project, client, monkeypatch):
    """The raw event on disk (until digest) does not carry it either. Digest is held up here (the database "does
    not answer" it) so that the raw event stays to be read."""
    import digest.batch as digest_module
    from ingest import store
    from testing.utils import auth_header, make_envelope

    def database_gone(project_id, prepared):
        raise RuntimeError("connection lost")

    monkeypatch.setattr(digest_module, "_digest_batch", database_gone)
    monkeypatch.setattr(digest_module, "database_answers", lambda: False)

    def send() -> str:
        response = client.post(
            f"/api/{project.pk}/envelope/",
            data=make_envelope({"message": "boom", "event_id": uuid.uuid4().hex}),
            content_type="application/x-sentry-envelope",
            REMOTE_ADDR="192.0.2.44",
            **auth_header(project),
        )
        assert response.status_code == 200
        (key,) = [k for k in store.pending_keys(project.pk) if k.endswith(response.json()["id"])]
        return store.load_raw_event(key).remote_addr

    assert send() == "192.0.2.44"
    project.scrub_ip_addresses = True
    project.save()  # as the settings page does: the ingest side's copy of the project goes with it
    assert send() == ""


def test_dropping_ip_addresses_goes_by_one_name_from_the_setting_to_the_scrubber(project):
    """The project setting, the ingest side's copy of the project, the scrub policy and the scrubber's step all say
    `scrub_ip_addresses`, and `sender_address` is the one rule for the sender's address (ingest and digest)."""
    import dataclasses

    from events.scrub import ScrubPolicy, _Scrubber, policy_for, sender_address
    from ingest import project_cache

    assert Project._meta.get_field("scrub_ip_addresses").verbose_name == "Don't store IP addresses"
    assert "scrub_ip_addresses" in project_cache.FIELDS
    assert [f.name for f in dataclasses.fields(ScrubPolicy)][-1] == "scrub_ip_addresses"
    assert callable(_Scrubber.scrub_ip_addresses)
    assert not policy_for(project).scrub_ip_addresses
    project.scrub_ip_addresses = True
    assert policy_for(project).scrub_ip_addresses and policy_for(project).active
    assert sender_address("192.0.2.44", scrub_ip_addresses=False) == "192.0.2.44"
    assert sender_address("192.0.2.44", scrub_ip_addresses=True) == ""
