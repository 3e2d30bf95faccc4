"""What the rate limiter decided for one GraphQL request, handed from the schema's
extensions (which compute the query's cost and charge it) to the HTTP view (which turns it
into X-RateLimit-* headers, and HTTP 429 with Retry-After when the budget is spent).

The extension stores it on the request: `request.state.rate_limit`; the view reads it there
after execution. Absent means the request was not charged (refused before costing, or not
a GraphQL operation)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class RateLimitState:
    limit: int  # cost points per window for this caller
    remaining: int  # points left after this request (never negative)
    reset_at: datetime  # when the window's points are back (UTC)
    cost: int  # what this request cost (0 when refused)
    retry_after: int | None = None  # seconds, set when this request was refused for the limit

    @property
    def exceeded(self) -> bool:
        return self.retry_after is not None

    def headers(self) -> dict[str, str]:
        out = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(int(self.reset_at.timestamp())),
        }
        if self.retry_after is not None:
            out["Retry-After"] = str(self.retry_after)
        return out
