"""Domain errors carry their GraphQL/HTTP code; the gateway and the services map them in one place."""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    code: ClassVar[str] = "INTERNAL"
    status: ClassVar[int] = 500

    def __init__(self, message: str, field: str | None = None, *, keep_changes: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        # A refusal that is itself a change to keep (e.g. ending a session family on token reuse).
        self.keep_changes = keep_changes

    def to_dict(self) -> dict[str, str | int | None]:
        return {"code": self.code, "message": self.message, "field": self.field}


class BadUserInput(DomainError):
    code = "BAD_USER_INPUT"
    status = 422


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"
    status = 401


class Forbidden(DomainError):
    code = "FORBIDDEN"
    status = 403


class NotFound(DomainError):
    code = "NOT_FOUND"
    status = 404


class Conflict(DomainError):
    # A uniqueness clash is the user's to fix, so it surfaces as bad input.
    code = "BAD_USER_INPUT"
    status = 409


class RateLimited(DomainError):
    code = "RATE_LIMITED"
    status = 429

    def __init__(
        self, message: str, field: str | None = None, *, retry_after: int | None = None, keep_changes: bool = False
    ) -> None:
        super().__init__(message, field, keep_changes=keep_changes)
        # Seconds until a try may succeed, when known (GraphQL extensions.retryAfter).
        self.retry_after = retry_after

    def to_dict(self) -> dict[str, str | int | None]:
        return {**super().to_dict(), "retry_after": self.retry_after}


ERRORS_BY_CODE: dict[str, type[DomainError]] = {
    "BAD_USER_INPUT": BadUserInput,
    "UNAUTHENTICATED": Unauthenticated,
    "FORBIDDEN": Forbidden,
    "NOT_FOUND": NotFound,
    "RATE_LIMITED": RateLimited,
}


def error_from_payload(payload: dict[str, object], status: int) -> DomainError:
    code = str(payload.get("code") or "INTERNAL")
    message = str(payload.get("message") or "internal error")
    field = payload.get("field")
    if status == 409:
        return Conflict(message, field=str(field) if field else None)
    if code == RateLimited.code:
        retry_after = payload.get("retry_after")
        return RateLimited(
            message, str(field) if field else None, retry_after=retry_after if isinstance(retry_after, int) else None
        )
    cls = ERRORS_BY_CODE.get(code, DomainError)
    return cls(message, field=str(field) if field else None)
