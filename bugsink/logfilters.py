"""Logging filters referenced from settings.LOGGING."""

import logging

# a Host header is attacker-controlled: keep the line short whatever was sent
MAX_MESSAGE = 300


class OneLineWarning(logging.Filter):
    """Turns a record into one WARNING line without its traceback.

    Django logs a request with a Host header not in ALLOWED_HOSTS (DisallowedHost) as an ERROR with the exception
    attached, so every scanner on the internet that probes the server by IP leaves a full traceback in the log.
    The request already got its 400; one line saying which host was refused is all an operator needs.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage().replace("\n", " ")
        if len(message) > MAX_MESSAGE:
            message = message[:MAX_MESSAGE] + "…"
        record.msg, record.args = message, None
        record.exc_info = record.exc_text = record.stack_info = None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True
