"""What an alert says: the email (subject, text, HTML) and the webhook bodies for Slack, Discord and generic JSON.

Generic webhooks are signed. Each POST carries

    X-Bugsink-Timestamp: <unix seconds>
    X-Bugsink-Signature: sha256=<hex HMAC-SHA256(key=channel secret, msg=timestamp + "." + raw body)>

A receiver verifies it by recomputing the HMAC over the exact bytes it received (before parsing the JSON), comparing
with a constant-time compare (`hmac.compare_digest`), and rejecting timestamps more than a few minutes old (replays).
The body is:

    {"kind": "new_issue" | "regression" | "unmute" | "test",
     "project": {"id": 1, "name": "My App", "slug": "myapp"},
     "issue": {"id": "<uuid>", "short_id": "MYAPP-12", "title": "ValueError: bad value", "culprit": "...",
               "event_count": 3, "first_seen": "<ISO 8601>", "last_seen": "<ISO 8601>", "url": "<absolute link>"}
              (null for a test alert),
     "reason": "5 events in the last hour" (unmute) or null,
     "event_id": "<32 hex>" (regression) or null,
     "sent_at": "<ISO 8601>"}
"""

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from bugsink.bidi import strip_bidi
from issues.models import Issue
from projects.models import Project

HEADLINES = {
    "new_issue": "New issue",
    "regression": "Regression",
    "unmute": "Unmuted",
    "test": "Test alert",
    # people's notifications about one issue (alerts.notify): e-mail only
    "assigned": "Assigned to you",
    "comment": "New comment",
    "mention": "You were mentioned",
}
PEOPLE_KINDS = ("assigned", "comment", "mention")
# Discord embed colours per kind
COLOURS = {"new_issue": 0xE03E2F, "regression": 0xF29D0C, "unmute": 0x3B82F6, "test": 0x22C55E}
MAX_TITLE = 200


@dataclass
class Alert:
    kind: str  # new_issue | regression | unmute | test
    project: Project
    issue: Issue | None = None
    reason: str = ""  # unmute: why, e.g. "5 events in the last hour"
    event_id: str = ""  # regression: the event that brought the issue back
    actor: str = ""  # assigned, comment, mention: who did it
    comment: str = ""  # comment, mention: the comment's text (as typed: e-mail shows it as plain text)
    assignee: str = ""  # assigned: to whom ("#team" for a team)

    @property
    def headline(self) -> str:
        return HEADLINES[self.kind]

    @property
    def title(self) -> str:
        if self.issue is None:
            return ""
        return _one_line(self.issue.title(), MAX_TITLE)

    @property
    def url(self) -> str:
        base = settings.BASE_URL.rstrip("/")
        return base + self.issue.get_absolute_url() if self.issue is not None else base + "/"

    @property
    def subject(self) -> str:
        if self.issue is None:
            return _one_line(f"[{self.project.name}] {self.headline}", 250)
        return _one_line(f"[{self.project.name}] {self.headline} {self.issue.short_id}: {self.title}", 250)

    @property
    def summary(self) -> str:
        """One line for chat notifications and the text part's first line."""
        if self.issue is None:
            text = f"Test alert from {settings.SITE_TITLE} for project {self.project.name}: this channel works."
            return strip_bidi(text)
        return strip_bidi(f"{self.headline} in {self.project.name}: {self.issue.short_id} {self.title}")

    @property
    def why(self) -> str:
        """The e-mail's footer: why this person gets it."""
        return {
            "assigned": "your team was assigned" if self.assignee.startswith("#") else "the issue was assigned to you",
            "comment": "you are subscribed to this issue",
            "mention": "you were mentioned in a comment",
        }.get(self.kind, "")


def _one_line(text: str, limit: int) -> str:
    # headers must not contain newlines (Django refuses them), and chat titles have length limits; nor direction
    # controls: a subject or a chat title has no markup to isolate them in, so an override would reverse the text
    # after it (bugsink.bidi)
    text = " ".join(strip_bidi(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else ""


# --- email --------------------------------------------------------------------------------------------------------


def email_context(alert: Alert) -> dict:
    issue = alert.issue
    return {
        "alert": alert,
        "site_title": settings.SITE_TITLE,  # rendered without a request, so no context processor
        "project": alert.project,
        # the text part has no markup to isolate client text in: without direction controls (bugsink.bidi)
        "project_name": strip_bidi(alert.project.name),
        "culprit": strip_bidi(issue.culprit) if issue else "",
        "issue": issue,
        "headline": alert.headline,
        "title": alert.title,
        "url": alert.url,
        "reason": strip_bidi(alert.reason),
        "event_id": alert.event_id,
        "first_seen": _when(issue.first_seen) if issue else "",
        "last_seen": _when(issue.last_seen) if issue else "",
        "actor": strip_bidi(alert.actor),
        "comment": strip_bidi(alert.comment),
        "assignee": strip_bidi(alert.assignee),
        "why": alert.why,
    }


def build_email(alert: Alert, to: str) -> EmailMultiAlternatives:
    context = email_context(alert)
    template = "alerts/people_email" if alert.kind in PEOPLE_KINDS else "alerts/alert_email"
    message = EmailMultiAlternatives(
        subject=alert.subject,
        body=render_to_string(f"{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    return message


# --- webhooks -----------------------------------------------------------------------------------------------------


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(alert: Alert) -> dict:
    if alert.issue is None:
        return {
            "text": alert.summary,
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": alert.summary}}],
        }
    issue = alert.issue
    link = f"<{alert.url}|{_slack_escape(issue.short_id)}: {_slack_escape(alert.title)}>"
    lines = [f"*{alert.headline}* in *{_slack_escape(strip_bidi(alert.project.name))}*", link]
    if alert.reason:
        lines.append(f"Unmuted because: {_slack_escape(alert.reason)}")
    if alert.event_id:
        lines.append(f"Event: `{alert.event_id}`")
    facts = [f"{issue.event_count} events", f"first seen {_when(issue.first_seen)}", f"last {_when(issue.last_seen)}"]
    if issue.culprit:
        facts.insert(0, _slack_escape(_one_line(issue.culprit, 200)))
    return {
        "text": _slack_escape(alert.summary),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": fact} for fact in facts]},
        ],
    }


def discord_payload(alert: Alert) -> dict:
    # error messages are user data: never let one @everyone a server
    payload = {"allowed_mentions": {"parse": []}}
    if alert.issue is None:
        return {**payload, "content": alert.summary}
    issue = alert.issue
    fields = [
        {"name": "Events", "value": str(issue.event_count), "inline": True},
        {"name": "First seen", "value": _when(issue.first_seen), "inline": True},
        {"name": "Last seen", "value": _when(issue.last_seen), "inline": True},
    ]
    if alert.reason:
        fields.append({"name": "Unmuted because", "value": _one_line(alert.reason, 1024), "inline": False})
    if alert.event_id:
        fields.append({"name": "Event", "value": alert.event_id, "inline": False})
    embed = {
        "title": _one_line(f"{issue.short_id}: {alert.title}", 256),
        "url": alert.url,
        "color": COLOURS[alert.kind],
        "fields": fields,
        "timestamp": issue.last_seen.isoformat(),
    }
    if issue.culprit:
        embed["description"] = _one_line(issue.culprit, 4096)
    return {**payload, "content": _one_line(f"**{alert.headline}** in {alert.project.name}", 2000), "embeds": [embed]}


def generic_payload(alert: Alert) -> dict:
    issue = alert.issue
    return {
        "kind": alert.kind,
        "project": {"id": alert.project.pk, "name": alert.project.name, "slug": alert.project.slug},
        "issue": None
        if issue is None
        else {
            "id": str(issue.pk),
            "short_id": issue.short_id,
            "title": issue.title(),
            "culprit": issue.culprit,
            "event_count": issue.event_count,
            "first_seen": issue.first_seen.isoformat(),
            "last_seen": issue.last_seen.isoformat(),
            "url": alert.url,
        },
        "reason": alert.reason or None,
        "event_id": alert.event_id or None,
        "sent_at": timezone.now().isoformat(),
    }


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def webhook_request(channel_kind: str, secret: str, alert: Alert) -> tuple[bytes, dict[str, str]]:
    """The body and extra headers to POST for this alert to a channel of this kind."""
    builders = {"slack": slack_payload, "discord": discord_payload, "webhook": generic_payload}
    body = json.dumps(builders[channel_kind](alert), separators=(",", ":")).encode()
    headers: dict[str, str] = {}
    if channel_kind == "webhook":
        timestamp = str(int(time.time()))
        headers = {"X-Bugsink-Timestamp": timestamp, "X-Bugsink-Signature": sign(secret, timestamp, body)}
    return body, headers
