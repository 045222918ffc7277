"""Errors a user can cause. Each names the field and the rule; the API maps them to 4xx JSON,
the CLI to one line and a non-zero exit."""
from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, field: str | None = None, rule: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.rule = rule

    def to_dict(self) -> dict:
        body = {"status": self.status, "code": self.code, "message": self.message, "field": self.field}
        if self.rule:
            body["rule"] = self.rule
        return body

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        return f"{where}{self.message}"


class ValidationError(DomainError):
    status = 422
    code = "validation_error"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class TooLarge(DomainError):
    """A request, file or archive beyond a bounded-work limit (ccer.infra.config.Limits)."""
    status = 413
    code = "payload_too_large"
