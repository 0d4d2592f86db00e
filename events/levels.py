"""The event levels Sentry's protocol knows, most severe first: what digest normalizes an event's level to
(digest.normalize) and what pages show (events.rendering)."""

LEVELS = ("fatal", "error", "warning", "info", "debug")
