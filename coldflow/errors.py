"""Errors with a stable machine code.

Every failure a caller can cause is a ``CodedError``: the API turns it into the error envelope
(``{"error": {"code", "message", "status", "details"}}``) and activities turn it into a
non-retryable Temporal failure. The ``code`` is part of the public contract: never rename one.
"""

from __future__ import annotations

from typing import Any, ClassVar


class CodedError(Exception):
    """Base of every error that carries a stable code, an HTTP status and details."""

    code: ClassVar[str] = "ERROR"
    status: ClassVar[int] = 400

    def __init__(
        self,
        message: str,
        *,
        details: list[dict[str, Any]] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []
        if code is not None:
            # An instance code lets one class cover a family (CAMPAIGN_NOT_FOUND, LEAD_NOT_FOUND).
            self.code = code  # type: ignore[misc]


class InvalidInput(CodedError):
    """The request is well-formed but a value breaks a rule (422)."""

    code = "VALIDATION_ERROR"
    status = 422

    @classmethod
    def field(cls, field: str, message: str, *, code: str | None = None) -> InvalidInput:
        """One offending field, named the way the caller sent it (dotted path)."""
        return cls(message, details=[{"field": field, "message": message}], code=code)


class NotFound(CodedError):
    """A resource is missing or belongs to another workspace: the two are indistinguishable."""

    code = "NOT_FOUND"
    status = 404

    def __init__(self, resource: str, resource_id: object | None = None) -> None:
        name = resource.replace("_", " ")
        text = (
            f"{name.capitalize()} not found"
            if resource_id is None
            else (f"{name.capitalize()} {resource_id} not found")
        )
        super().__init__(text, code=f"{resource.upper()}_NOT_FOUND")
        self.resource = resource


class Conflict(CodedError):
    """The request contradicts the current state (409), e.g. an invalid status transition."""

    code = "CONFLICT"
    status = 409


class Unauthorized(CodedError):
    """No API key, or one that is unknown or revoked (401)."""

    code = "UNAUTHORIZED"
    status = 401


class Forbidden(CodedError):
    """The key is valid but lacks the scope the endpoint needs (403)."""

    code = "FORBIDDEN"
    status = 403


class PayloadTooLarge(CodedError):
    """A body or a batch is over its documented limit (413)."""

    code = "PAYLOAD_TOO_LARGE"
    status = 413


class RateLimited(CodedError):
    """Too many requests for this key in the current window (429)."""

    code = "RATE_LIMITED"
    status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(CodedError):
    """A dependency (database, Temporal) is down (503)."""

    code = "SERVICE_UNAVAILABLE"
    status = 503
