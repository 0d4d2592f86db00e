"""Logging filters referenced from settings.LOGGING."""

import logging

# a Host header is attacker-controlled: keep the line short whatever was sent
MAX_MESSAGE = 300


# of the refused request's path, what the line quotes
MAX_PATH = 200


class OneLineWarning(logging.Filter):
    """Turns a record into one WARNING line without its traceback.

    Django logs every SuspiciousOperation (a Host header not in ALLOWED_HOSTS, more query or form fields than
    DATA_UPLOAD_MAX_NUMBER_FIELDS, a body too big, ...) as an ERROR with the exception attached, so every scanner
    that probes the server leaves a full traceback in the log. The request already got its 400; one line saying
    what was refused, for which method and path, is all an operator needs.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        request = getattr(record, "request", None)
        path = getattr(request, "path", None)
        if isinstance(path, str):
            shown = path if len(path) <= MAX_PATH else path[:MAX_PATH] + "…"
            message = f"{message} ({getattr(request, 'method', '') or '-'} {shown})"
        # one line of the log, whatever the client put in the path or the header: no line breaks, no terminal escapes
        message = "".join(c if c.isprintable() else " " if c in "\r\n\t" else "?" for c in message)
        if len(message) > MAX_MESSAGE:
            message = message[:MAX_MESSAGE] + "…"
        record.msg, record.args = message, None
        record.exc_info = record.exc_text = record.stack_info = None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True
