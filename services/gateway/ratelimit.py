"""Rate limits: cost points per caller per window, charged before an operation runs.

A caller is a personal access token, a signed-in member (a session's access token) or, for
anonymous use, a client address; each has its own budget of points per window
(HUBBEN_RATE_LIMIT_*). A window opens with the caller's first charged request and lasts
HUBBEN_RATE_LIMIT_WINDOW_SECONDS; then the whole budget is back. A request that would
overspend the budget is refused and charged nothing.

With Redis (HUBBEN_REDIS_URL) the budgets are shared by every gateway process: one Lua
script reads, checks and charges a caller's counter atomically, and Redis expires it when
the window ends. The embedded default keeps them in this process. Should Redis fail, the
process falls back to its own counters rather than refusing the API."""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import structlog
from redis.exceptions import RedisError

from services.gateway.rate_state import RateLimitState
from shared.settings import Settings

log = structlog.get_logger("hubben.gateway.ratelimit")

KEY_PREFIX = "ratelimit:"
# Counters kept in-process before expired ones are swept out.
MEMORY_SWEEP_AT = 10_000

# KEYS[1] the caller's counter; ARGV cost, limit, window (ms).
# Returns {charged (1/0), points used after the call, milliseconds until the window ends}.
CHARGE_SCRIPT = """
local cost = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local ttl = redis.call('PTTL', KEYS[1])
local used = 0
if ttl > 0 then
  used = tonumber(redis.call('GET', KEYS[1]) or '0')
else
  ttl = window
end
if used + cost > limit then
  return {0, used, ttl}
end
if used == 0 then
  redis.call('SET', KEYS[1], cost, 'PX', ttl)
else
  redis.call('INCRBY', KEYS[1], cost)
end
return {1, used + cost, ttl}
"""


@dataclass(frozen=True)
class Caller:
    """Whose budget a request spends: `kind` is token, member or anonymous."""

    kind: str
    key: str

    @classmethod
    def token(cls, secret: str) -> Caller:
        # The token's hash identifies it as its database row does, without keeping the secret.
        return cls("token", "token:" + hashlib.sha256(secret.encode()).hexdigest()[:32])

    @classmethod
    def member(cls, member_id: int) -> Caller:
        return cls("member", f"member:{member_id}")

    @classmethod
    def anonymous(cls, address: str | None) -> Caller:
        return cls("anonymous", f"ip:{address or 'unknown'}")


def budget(settings: Settings, caller: Caller) -> int:
    return {
        "token": settings.rate_limit_token_points,
        "member": settings.rate_limit_member_points,
    }.get(caller.kind, settings.rate_limit_anonymous_points)


def _state(limit: int, used: int, ms_left: int, cost: int, charged: bool) -> RateLimitState:
    seconds = max(1, math.ceil(ms_left / 1000))
    return RateLimitState(
        limit=limit,
        remaining=max(0, limit - used),
        reset_at=datetime.now(UTC) + timedelta(milliseconds=ms_left),
        cost=cost if charged else 0,
        retry_after=None if charged else seconds,
    )


class RateLimiter(Protocol):
    async def charge(self, caller: Caller, cost: int, limit: int) -> RateLimitState:
        """Spend `cost` points of the caller's `limit`, or refuse (retry_after set) and spend none."""


class MemoryRateLimiter:
    """Budgets in this process: the embedded default, and the fallback when Redis fails."""

    def __init__(self, window_seconds: int) -> None:
        self.window = window_seconds
        self._used: dict[str, tuple[int, float]] = {}  # key -> (points used, monotonic end of window)

    async def charge(self, caller: Caller, cost: int, limit: int) -> RateLimitState:
        now = time.monotonic()
        if len(self._used) >= MEMORY_SWEEP_AT:
            self._used = {k: v for k, v in self._used.items() if v[1] > now}
        used, ends = self._used.get(caller.key, (0, 0.0))
        if ends <= now:
            used, ends = 0, now + self.window
        ms_left = int((ends - now) * 1000)
        if used + cost > limit:
            return _state(limit, used, ms_left, cost, charged=False)
        self._used[caller.key] = (used + cost, ends)
        return _state(limit, used + cost, ms_left, cost, charged=True)

    def clear(self) -> None:
        self._used.clear()


class RedisRateLimiter:
    """Budgets in Redis, shared by every gateway process that uses it."""

    def __init__(self, redis: Any, window_seconds: int) -> None:
        self.window = window_seconds
        self._script = redis.register_script(CHARGE_SCRIPT)
        self._fallback = MemoryRateLimiter(window_seconds)

    async def charge(self, caller: Caller, cost: int, limit: int) -> RateLimitState:
        try:
            charged, used, ms_left = await self._script(
                keys=[KEY_PREFIX + caller.key], args=[cost, limit, self.window * 1000]
            )
        except (RedisError, OSError) as exc:
            log.warning("ratelimit.redis_unavailable", error=repr(exc))
            return await self._fallback.charge(caller, cost, limit)
        return _state(limit, int(used), int(ms_left), cost, charged=bool(charged))


def rate_limiter_of(app_state: Any) -> RateLimiter:
    """The app's limiter, made on first use from its settings and Redis client (both set up
    by the lifespan before any request)."""
    limiter: RateLimiter | None = getattr(app_state, "rate_limiter", None)
    if limiter is None:
        settings: Settings = app_state.settings
        redis = getattr(app_state, "redis", None)
        window = settings.rate_limit_window_seconds
        limiter = RedisRateLimiter(redis, window) if redis is not None else MemoryRateLimiter(window)
        app_state.rate_limiter = limiter
    return limiter
