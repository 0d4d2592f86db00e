class IngestError(Exception):
    """A request we refuse; `status` and the message go back to the client as {"detail": message}."""

    status = 400

    def __init__(self, detail: str):
        # Details quote client input, which may hold lone surrogates: those cannot be encoded for a log file or a
        # response, so they are escaped here once for every consumer.
        detail = detail.encode("utf-8", "backslashreplace").decode("utf-8")
        super().__init__(detail)
        self.detail = detail


class BadRequest(IngestError):
    status = 400


class Unauthorized(IngestError):
    status = 401


class Forbidden(IngestError):
    status = 403


class NotFound(IngestError):
    status = 404


class UnsupportedMediaType(IngestError):
    status = 415


class PayloadTooLarge(IngestError):
    """Over a size limit; `size` is the body's or event's size in bytes as far as it was read (at least that much),
    for the log line and the project's count of refused events."""

    status = 413

    def __init__(self, detail: str, size: int | None = None):
        super().__init__(detail)
        self.size = size
