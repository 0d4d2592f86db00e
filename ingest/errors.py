class IngestError(Exception):
    """A request we refuse; `status` and the message go back to the client as {"detail": message}."""

    status = 400

    def __init__(self, detail: str):
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


class PayloadTooLarge(IngestError):
    status = 413
