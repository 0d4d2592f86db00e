from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.core.management import CommandError, call_command

from ingest.management.commands.send_json import envelope_url_and_key
from issues.models import Issue
from projects.models import Project
from testing.utils import sample_files


def test_envelope_url_from_dsn():
    assert envelope_url_and_key("https://abc@errors.example.com/sub/42") == (
        "https://errors.example.com/sub/api/42/envelope/",
        "abc",
    )
    assert envelope_url_and_key("http://k@[::1]:9000/7") == ("http://[::1]:9000/api/7/envelope/", "k")
    with pytest.raises(CommandError):
        envelope_url_and_key("http://nokey.example.com/1")


@pytest.mark.live
def test_send_json_sends_samples_through_the_http_api(transactional_db, live_server_url):
    project = Project.objects.create(name="Samples")
    port = urlsplit(live_server_url).port
    dsn = f"http://{project.sentry_key}@127.0.0.1:{port}/{project.pk}"
    files = [str(p) for p in sample_files()[:5]]
    out = StringIO()
    call_command("send_json", *files, "--dsn", dsn, stdout=out)
    assert out.getvalue().count(": 200 ") == 5
    assert sum(Issue.objects.filter(project=project).values_list("event_count", flat=True)) == 5


@pytest.mark.live
def test_send_json_reports_refusals(transactional_db, live_server_url, tmp_path):
    project = Project.objects.create(name="Refusals")
    port = urlsplit(live_server_url).port
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    with pytest.raises(CommandError, match="1 of 1 files were not accepted"):
        call_command(
            "send_json",
            str(bad),
            "--dsn",
            f"http://wrongkey@127.0.0.1:{port}/{project.pk}",
            stdout=StringIO(),
            stderr=StringIO(),
        )
