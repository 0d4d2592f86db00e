"""The issue's case with the real Python sentry-sdk against the live server: an error raised from a 300-deep
recursion with a 10 MB string among one frame's locals. The SDK sends it whole (and would log "event dropped" on a
413); it is stored, trimmed under MAX_EVENT_SIZE, with its title, exception and crash frame, and the page says what
was removed."""

import pytest
from django.conf import settings
from django.urls import reverse

from digest.trim import MARKER
from ingest.tests.test_real_sdks import run_python_client
from issues.models import Issue
from projects.models import Project, ProjectMembership

pytestmark = [pytest.mark.live]


@pytest.fixture
def sdk_project(transactional_db):
    return Project.objects.create(name="Deep recursion")


def test_python_sdk_deep_recursion_with_a_10_mb_local(sdk_project, live_server_url, client, django_user_model):
    [event], result = run_python_client(sdk_project, live_server_url, "deep_recursion_big_local")
    assert "dropped" not in result["output"].lower(), result["output"]

    assert len(event.data_json) <= settings.MAX_EVENT_SIZE
    issue = Issue.objects.get(project=sdk_project)
    assert issue.title() == "ValueError: bottom of a deep recursion"
    data = event.data
    [exception] = data["exception"]["values"]
    assert (exception["type"], exception["value"]) == ("ValueError", "bottom of a deep recursion")
    frames = exception["stacktrace"]["frames"]
    crash = frames[-1]
    assert crash["function"] == "descend" and crash["vars"]["depth"] == "0"  # the crash frame, locals and all
    marker = data[MARKER]
    assert marker["original_size"] > 10 * 1024 * 1024 and marker["frame_variables_cut"] == 1
    # the big local was cut, its length noted
    cut = [f["vars"]["blob"] for f in frames if "characters, cut to" in str(f.get("vars", {}).get("blob"))]
    assert len(cut) == 1 and "10,485,7" in cut[0]

    user = django_user_model.objects.create_user("viewer")
    ProjectMembership.objects.create(project=sdk_project, user=user)
    client.force_login(user)
    page = client.get(reverse("issue:event", args=[issue.pk, event.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "data-trim-note" in text and "1 frame variable cut to 16 KB" in text
