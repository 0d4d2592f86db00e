import json
import uuid

import pytest

from testing.utils import auth_header


def envelope(items, event: dict | None = None) -> bytes:
    """An envelope of (item type, payload) pairs; a dict or list payload is sent as JSON."""
    parts = [json.dumps({"event_id": uuid.uuid4().hex}).encode()]
    if event is not None:
        payload = json.dumps(event).encode()
        parts += [json.dumps({"type": "event", "length": len(payload)}).encode(), payload]
    for item_type, payload in items:
        if not isinstance(payload, bytes):
            payload = json.dumps(payload).encode()
        parts += [json.dumps({"type": item_type, "length": len(payload)}).encode(), payload]
    return b"\n".join(parts) + b"\n"


@pytest.fixture
def post_envelope(client, django_capture_on_commit_callbacks):
    """POST an envelope through the real endpoint and run what commits ask for (the digest); the response."""

    def post(project, items, event=None):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/api/{project.pk}/envelope/",
                data=envelope(items, event),
                content_type="application/x-sentry-envelope",
                **auth_header(project),
            )
        assert response.status_code == 200, response.content
        return response

    return post
