"""The quarantine is visible to admins: a count on the project list, a page listing what is there and why, the raw
event to download, and a retry that hands it back to digest. Nobody else sees any of it."""

import json
import time
import uuid

import pytest
from django.contrib.auth import get_user_model

from events.models import Event
from ingest import store
from ingest.store import RawEvent, store_raw_event
from testing.utils import exception_event


@pytest.fixture(autouse=True, params=["file", "database"])
def ingest_store(request, settings):
    """Both stores keep a quarantine with the same pages."""
    settings.INGEST_STORE = request.param


@pytest.fixture
def quarantined(project):
    key = store_raw_event(
        RawEvent(
            project_id=project.pk,
            event_id=uuid.uuid4().hex,
            received_at=time.time(),
            remote_addr="127.0.0.1",
            payload=json.dumps(exception_event("Stuck", "in quarantine")).encode(),
        )
    )
    store.quarantine_raw_event(key, reason="digest failed 3 times: OperationalError('packet too big')\nmore")
    return key


@pytest.fixture
def admin_client(client, db):
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin)
    return client


def test_admins_see_the_count_and_the_list(admin_client, quarantined, project):
    listing = admin_client.get("/projects/").content.decode()
    assert "1 accepted event could not be stored" in listing
    page = admin_client.get("/admin/quarantine/").content.decode()
    assert "1 event in quarantine" in page
    assert quarantined.rpartition("-")[2] in page and project.name in page
    assert "OperationalError(&#x27;packet too big&#x27;)" in page


def test_no_banner_when_the_quarantine_is_empty(admin_client, project):
    assert "data-quarantine-banner" not in admin_client.get("/projects/").content.decode()
    assert "0 events in quarantine" in admin_client.get("/admin/quarantine/").content.decode()


def test_download_and_retry(admin_client, quarantined, project):
    project_id, name = quarantined.split("/")
    download = admin_client.get(f"/admin/quarantine/{project_id}/{name}/download")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert b"in quarantine" in b"".join(download.streaming_content)

    response = admin_client.post(f"/admin/quarantine/{project_id}/{name}/retry")
    assert response.status_code == 302
    assert Event.objects.filter(project=project, calculated_value="in quarantine").exists()
    assert store.quarantine_count() == 0
    assert admin_client.get(f"/admin/quarantine/{project_id}/{name}/download").status_code == 404


def test_members_see_nothing_of_it(client, quarantined, project):
    member = get_user_model().objects.create_user("member", "m@example.com", "pw")
    client.force_login(member)
    assert "data-quarantine-banner" not in client.get("/projects/").content.decode()
    assert client.get("/admin/quarantine/").status_code == 302  # to the admin login
    project_id, name = quarantined.split("/")
    assert client.post(f"/admin/quarantine/{project_id}/{name}/retry").status_code == 302
    assert store.quarantine_count() == 1


def test_keys_that_are_not_keys(admin_client):
    assert admin_client.get("/admin/quarantine/1/..%2F..%2Fsecret_key/download").status_code == 404
    assert admin_client.get("/admin/quarantine/1/.hidden/download").status_code == 404
