import json
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError


def envelope_url_and_key(dsn: str) -> tuple[str, str]:
    parts = urlsplit(dsn)
    if not parts.username or not parts.hostname:
        raise CommandError(f"not a DSN: {dsn!r}")
    prefix, _, project_id = parts.path.rstrip("/").rpartition("/")
    if not project_id.isdigit():
        raise CommandError(f"the DSN does not end in a project id: {dsn!r}")
    netloc = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    if ":" in parts.hostname:
        netloc = f"[{parts.hostname}]" + (f":{parts.port}" if parts.port else "")
    return f"{parts.scheme}://{netloc}{prefix}/api/{project_id}/envelope/", parts.username


class Command(BaseCommand):
    help = "Send event JSON files to a server through its HTTP API, as an SDK would (an envelope each)."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+")
        parser.add_argument("--dsn", required=True)
        parser.add_argument("--keep-id", action="store_true", help="send the file's event_id instead of a fresh one")
        parser.add_argument("--fresh-timestamp", action="store_true", help="set the timestamp to now")

    def handle(self, *args, files, dsn, keep_id, fresh_timestamp, **options):
        url, key = envelope_url_and_key(dsn)
        failures = 0
        for name in files:
            try:
                event = json.loads(Path(name).read_text())
            except (OSError, ValueError) as e:
                self.stderr.write(f"{name}: cannot read: {e}")
                failures += 1
                continue
            if not keep_id or not event.get("event_id"):
                event["event_id"] = uuid.uuid4().hex
            if fresh_timestamp:
                event["timestamp"] = time.time()
            payload = json.dumps(event).encode()
            body = b"\n".join(
                [
                    json.dumps({"event_id": event["event_id"], "dsn": dsn}).encode(),
                    json.dumps({"type": "event", "length": len(payload)}).encode(),
                    payload,
                ]
            )
            request = urllib.request.Request(
                url,
                data=body,
                method="POST",
                headers={
                    "Content-Type": "application/x-sentry-envelope",
                    "X-Sentry-Auth": f"Sentry sentry_version=7, sentry_client=bugsink-send-json/1.0, sentry_key={key}",
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    self.stdout.write(f"{name}: {response.status} {response.read().decode()}")
            except urllib.error.HTTPError as e:
                self.stderr.write(f"{name}: {e.code} {e.read().decode(errors='replace')}")
                failures += 1
            except urllib.error.URLError as e:
                raise CommandError(f"cannot reach {url}: {e.reason}") from e
        if failures:
            raise CommandError(f"{failures} of {len(files)} files were not accepted")
