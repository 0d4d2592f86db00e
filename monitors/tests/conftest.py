import json
import uuid

import pytest

from testing.utils import auth_header


def checkin_envelope(*checkins: dict) -> bytes:
    parts = [json.dumps({"event_id": uuid.uuid4().hex}).encode()]
    for checkin in checkins:
        payload = checkin if isinstance(checkin, bytes) else json.dumps(checkin).encode()
        parts += [json.dumps({"type": "check_in", "length": len(payload)}).encode(), payload]
    return b"\n".join(parts) + b"\n"


@pytest.fixture
def send_checkins(client, project, django_capture_on_commit_callbacks):
    """POST check-ins (dicts, or raw bytes) in one envelope through the real endpoint; digest runs in the request
    (DIGEST_IMMEDIATELY in the test settings), its after-commit work (alerts) at once."""

    def send(*checkins, to=None):
        target = to or project
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/api/{target.pk}/envelope/",
                data=checkin_envelope(*checkins),
                content_type="application/x-sentry-envelope",
                **auth_header(target),
            )
        assert response.status_code == 200, response.content
        return response

    return send


HOURLY = {"schedule": {"type": "crontab", "value": "0 * * * *"}, "checkin_margin": 5, "max_runtime": 10}
