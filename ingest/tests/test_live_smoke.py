import http.client
import json
from urllib.parse import urlsplit

import pytest

from issues.models import Issue
from projects.models import Project
from testing.utils import exception_event, make_envelope


@pytest.mark.live
def test_chunked_envelope_without_content_length(transactional_db, live_server_url):
    """@sentry/node sends every request with Transfer-Encoding: chunked and no Content-Length."""
    project = Project.objects.create(name="Chunky")
    body = make_envelope(exception_event(), with_length=False)
    parts = urlsplit(live_server_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.putrequest("POST", f"/api/{project.pk}/envelope/?sentry_key={project.sentry_key}&sentry_version=7")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.endheaders()
    for start in range(0, len(body), 50):
        chunk = body[start : start + 50]
        connection.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
    connection.send(b"0\r\n\r\n")
    response = connection.getresponse()
    assert response.status == 200, response.read()
    assert len(json.loads(response.read())["id"]) == 32
    assert Issue.objects.get(project=project).title() == "ValueError: bad value"
