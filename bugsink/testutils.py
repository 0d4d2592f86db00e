"""Helpers for tests: building envelopes and events, locating samples, requiring services."""

import json
import os
import uuid
from pathlib import Path

import pytest

SAMPLES_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "event-samples"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_service(available: bool, reason: str) -> None:
    """Outside CI a missing service skips the test with a reason; in CI it fails it."""
    if available:
        return
    if in_ci():
        pytest.fail(f"required service unavailable in CI: {reason}")
    pytest.skip(reason)


def sample_files() -> list[Path]:
    return sorted(SAMPLES_DIR.glob("*/*.json"))


def make_envelope(event: dict, *, event_id: str | None = None, with_length: bool = True, extra_items=()) -> bytes:
    payload = json.dumps(event).encode()
    header = {"event_id": event_id or event.get("event_id") or uuid.uuid4().hex}
    item_header = {"type": "event"}
    if with_length:
        item_header["length"] = len(payload)
    parts = [json.dumps(header).encode(), json.dumps(item_header).encode(), payload]
    for item_type, item_payload in extra_items:
        parts += [json.dumps({"type": item_type, "length": len(item_payload)}).encode(), item_payload]
    return b"\n".join(parts) + b"\n"


def auth_header(project) -> dict:
    return {"HTTP_X_SENTRY_AUTH": f"Sentry sentry_version=7, sentry_client=test/1.0, sentry_key={project.sentry_key}"}


def exception_event(exc_type="ValueError", value="bad value", frames=None, **extra) -> dict:
    frames = frames or [
        {"filename": "app/views.py", "module": "app.views", "function": "handle", "lineno": 10, "in_app": True}
    ]
    return {
        "platform": "python",
        "level": "error",
        "exception": {"values": [{"type": exc_type, "value": value, "stacktrace": {"frames": frames}}]},
        **extra,
    }
