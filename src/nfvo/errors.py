"""Domain errors shared by services; the API maps each to an RFC 7807 ProblemDetails."""

from __future__ import annotations

from typing import Any


class NfvoError(Exception):
    """Base of errors a caller can act on; ``status`` is the HTTP status the API uses."""

    status = 500
    title = "Internal error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(NfvoError):
    """The addressed resource does not exist (or is not visible to the caller)."""

    status = 404
    title = "Not Found"


class Forbidden(NfvoError):
    """The caller is known but may not do this (role, or another tenant's resource)."""

    status = 403
    title = "Forbidden"


class Conflict(NfvoError):
    """The request conflicts with the current state of the resource."""

    status = 409
    title = "Conflict"


class PreconditionFailed(NfvoError):
    """An ``If-Match`` / ``If-Unmodified-Since`` precondition did not hold."""

    status = 412
    title = "Precondition Failed"


class BadRequest(NfvoError):
    """The request is malformed; ``extra['field']`` names the culprit when known."""

    status = 400
    title = "Bad Request"


class UnprocessableEntity(NfvoError):
    """The content is well-formed but semantically invalid (e.g. a broken package)."""

    status = 422
    title = "Unprocessable Content"


class QuotaExceeded(UnprocessableEntity):
    """An operation would take a tenant or an NS over a quota; ``extra`` names the quota
    (``quota``: tenant | ns), the dimension (``dimension``: vcpus | ram_mib | instances),
    the limit, what is in use and what the operation asks for."""


class PayloadTooLarge(NfvoError):
    """The uploaded content exceeds the configured limit."""

    status = 413
    title = "Content Too Large"


class NotAcceptable(NfvoError):
    """No representation matches the ``Accept`` header."""

    status = 406
    title = "Not Acceptable"


class RangeNotSatisfiable(NfvoError):
    """The ``Range`` header does not fit the content."""

    status = 416
    title = "Range Not Satisfiable"
