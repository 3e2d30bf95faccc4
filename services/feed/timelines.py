"""Home timelines in Redis: one sorted set per member, `hubben:timeline:<member_id>`, whose
members and scores are entry ids (time-ordered snowflakes), capped at `timeline_cap`.

Every timeline carries a sentinel, the member `~`, at rank 0: its score (below every id)
says how far down the timeline can be trusted. READY (-1): it holds every entry that
belongs in it (the member's home feed as fan-out delivers it: repository.timeline_ids).
TRIMMED (-2): its oldest entries were cut away, so it holds every such entry from its
lowest one up; older ones are read from the database, and its floor (below which it does
not answer) is its lowest entry minus one. BUILDING (-3, or -4 once trimmed): it is being
rebuilt from the database; fan-out already extends it, readers do not trust it yet. An
entry older than a trimmed timeline's lowest is never kept: that would claim what it does
not hold.

Fan-out only extends timelines that exist. A missing one (a new member, a flushed Redis)
is rebuilt from the database on its first read; creating a partial one here would hide
what it lacks. Each write is one script call over many keys, one round trip per batch; a
delivery costs three commands per timeline (ZSCORE of the sentinel, ZADD, trim by rank).

Scores are doubles, which hold integers exactly only up to 2**53 and snowflakes are wider;
equal scores are ordered by member, and equal-length decimal strings order as numbers, so
ranks are exact. Scripts therefore compare ids exactly as strings, and reads by score take
an inclusive range and cut it exactly in Python."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redis.exceptions import NoScriptError, ResponseError

from shared.settings import Settings

KEY_PREFIX = "hubben:timeline:"
SENTINEL = "~"
# Timelines per script call: about 10 ms of Redis time, during which it serves no one else.
SCRIPT_KEYS = 1000
READY, TRIMMED, BUILDING, BUILDING_TRIMMED = -1, -2, -3, -4

_PRELUDE = """
local function gt(a, b)  -- a > b for non-negative decimal strings, exactly
  local x, y = tonumber(a), tonumber(b)
  if x ~= y then return x > y end  -- doubles round, but never across each other
  if #a ~= #b then return #a > #b end
  return a > b
end
local function trimmed(state) return state == -2 or state == -4 end
local function trim(key, cap, state)  -- keep the sentinel and the newest cap entries
  if redis.call('ZREMRANGEBYRANK', key, 1, -(cap + 1)) > 0 and not trimmed(state) then
    redis.call('ZADD', key, state - 1, '~')
    return true
  end
  return false
end
"""

# KEYS: timelines; ARGV: cap, entry id. Adds the entry to each timeline that exists.
_INSERT = (
    _PRELUDE
    + """
local cap = tonumber(ARGV[1])
local id = ARGV[2]
local added = 0
for _, key in ipairs(KEYS) do
  local state = redis.call('ZSCORE', key, '~')
  if state then
    state = tonumber(state)
    local new = redis.call('ZADD', key, id, id)
    if redis.call('ZREMRANGEBYRANK', key, 1, -(cap + 1)) > 0 then
      if not trimmed(state) then redis.call('ZADD', key, state - 1, '~') end
    elseif new == 1 and trimmed(state) and redis.call('ZRANK', key, id) == 1 then
      new = redis.call('ZREM', key, id) - 1  -- older than all a trimmed timeline holds
    end
    added = added + new
  end
end
return added
"""
)

# KEYS: one timeline; ARGV: cap, floor, finish, ids... The ids are every entry that belongs
# in the timeline above `floor` (0: all of them), or, with finish '0', above it and within
# some part of it (a followed source, an author). finish '1' completes a rebuild. Entries
# at or below a floor other than 0 are dropped (the timeline then answers only above it),
# the ids added and the timeline trimmed. -1 when it does not exist.
_FILL = (
    _PRELUDE
    + """
local key = KEYS[1]
local cap = tonumber(ARGV[1])
local floor = ARGV[2]
local finish = ARGV[3] == '1'
local state = redis.call('ZSCORE', key, '~')
if not state then return -1 end
state = tonumber(state)
local cut = trimmed(state)
local limit = nil
if finish then
  cut = false
elseif cut then
  limit = redis.call('ZRANGE', key, 1, 1)[1]
  if not limit then return 0 end
end
if floor ~= '0' then
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', key, 0, floor)) do
    if not gt(m, floor) then redis.call('ZREM', key, m) end
  end
  cut = true
end
local added = 0
for i = 4, #ARGV do
  local id = ARGV[i]
  if gt(id, floor) and (limit == nil or not gt(limit, id)) then
    added = added + redis.call('ZADD', key, id, id)
  end
end
local ready = finish or state == -1 or state == -2
state = ready and -1 or -3
if cut then state = state - 1 end
redis.call('ZADD', key, state, '~')
trim(key, cap, state)
return added
"""
)

# KEYS: one timeline. Marks a missing timeline (or a trimmed one left empty) as being rebuilt.
_BEGIN = (
    _PRELUDE
    + """
local state = redis.call('ZSCORE', KEYS[1], '~')
if state and (tonumber(state) ~= -2 or redis.call('ZCARD', KEYS[1]) > 1) then return tonumber(state) end
redis.call('DEL', KEYS[1])
redis.call('ZADD', KEYS[1], -3, '~')
return -3
"""
)


def for_settings(redis: Any, settings: Settings) -> Timelines:
    return Timelines(redis, settings.timeline_cap, settings.fanout_max_followers)


def timeline_key(member_id: int) -> str:
    return f"{KEY_PREFIX}{member_id}"


_KEY_PREFIX = KEY_PREFIX.encode()


def _bulk(value: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(value), value)


def _evalsha(sha: str, keys: list[bytes], args: list[bytes]) -> bytes:
    """EVALSHA in the Redis protocol (RESP)."""
    parts = [b"EVALSHA", sha.encode(), b"%d" % len(keys), *keys, *args]
    return b"*%d\r\n" % len(parts) + b"".join([_bulk(p) for p in parts])


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _floor(head: Sequence[Any]) -> int | None:
    """The floor of a ready timeline from ZRANGE 0 1 WITHSCORES (the sentinel and the lowest
    entry); None when there is none, it is being rebuilt, or it was trimmed and emptied."""
    if not head or _text(head[0][0]) != SENTINEL:
        return None
    state = int(head[0][1])
    if state == READY:
        return 0
    if state == TRIMMED and len(head) > 1:
        return int(head[1][0]) - 1
    return None


class Timelines:
    """The timeline store over one redis.asyncio client (bytes or str responses): timelines
    hold `cap` entries; sources with more than `max_followers` followers are not fanned out
    but merged in when a home feed is read."""

    def __init__(self, redis: Any, cap: int, max_followers: int) -> None:
        self.redis = redis
        self.cap = cap
        self.max_followers = max_followers
        self._insert = redis.register_script(_INSERT)
        self._fill = redis.register_script(_FILL)
        self._begin = redis.register_script(_BEGIN)

    # --- writes ---------------------------------------------------------------------------

    async def insert(self, member_ids: Sequence[int], entry_id: int) -> int:
        """Add one entry to the existing timelines of these members; how many gained it.
        One round trip: pipelined script calls of at most SCRIPT_KEYS timelines each (Redis
        serves other clients between them), packed here: redis-py's general-purpose packer
        costs more per key than Redis spends on it."""
        if not member_ids:
            return 0
        args = [str(self.cap).encode(), str(entry_id).encode()]
        calls = [
            [_KEY_PREFIX + b"%d" % m for m in member_ids[i : i + SCRIPT_KEYS]]
            for i in range(0, len(member_ids), SCRIPT_KEYS)
        ]
        try:
            replies = await self._send([_evalsha(self._insert.sha, keys, args) for keys in calls])
        except NoScriptError:  # a Redis that restarted, or was flushed of scripts
            await self.redis.script_load(_INSERT)
            replies = await self._send([_evalsha(self._insert.sha, keys, args) for keys in calls])
        return sum(int(n) for n in replies)

    async def _send(self, commands: list[bytes]) -> list[Any]:
        """Send packed commands on one pooled connection and read every reply."""
        pool = self.redis.connection_pool
        connection = await pool.get_connection()
        replies: list[Any] = []
        try:
            await connection.send_packed_command(b"".join(commands))
            for _ in commands:
                try:
                    replies.append(await connection.read_response())
                except ResponseError as exc:  # read, so the connection stays in step
                    replies.append(exc)
        except BaseException:
            await connection.disconnect()  # in an unknown state
            raise
        finally:
            await pool.release(connection)
        for reply in replies:
            if isinstance(reply, ResponseError):
                raise reply
        return replies

    async def remove(self, member_ids: Sequence[int], entry_id: int) -> None:
        """Take one entry out of these members' timelines (one round trip)."""
        if not member_ids:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for m in member_ids:
                pipe.zrem(timeline_key(m), entry_id)
            await pipe.execute()

    async def discard(self, member_id: int, entry_ids: Sequence[int]) -> None:
        if entry_ids:
            await self.redis.zrem(timeline_key(member_id), *entry_ids)

    async def fill(self, member_id: int, entry_ids: Sequence[int], floor: int = 0, *, finish: bool = False) -> bool:
        """Add what belongs in the timeline above `floor` (all of it with `finish`, which
        completes a rebuild; else some part of it). False if the timeline is gone."""
        args: list[Any] = [self.cap, floor, "1" if finish else "0", *entry_ids]
        return int(await self._fill(keys=[timeline_key(member_id)], args=args)) >= 0

    async def begin_rebuild(self, member_id: int) -> int | None:
        """Create a missing timeline as 'being rebuilt' (fan-out extends it from now on);
        the floor if it turns out to exist and be ready."""
        await self._begin(keys=[timeline_key(member_id)])
        return await self.floor(member_id)

    async def drop(self, member_id: int) -> None:
        await self.redis.delete(timeline_key(member_id))

    # --- reads ----------------------------------------------------------------------------

    async def floor(self, member_id: int) -> int | None:
        """The floor of the member's timeline; None when it must be rebuilt first."""
        return _floor(await self.redis.zrange(timeline_key(member_id), 0, 1, withscores=True))

    async def exists(self, member_id: int) -> bool:
        return bool(await self.redis.exists(timeline_key(member_id)))

    async def span(
        self, member_id: int, *, lo: int | None, hi: int | None, count: int, descending: bool
    ) -> tuple[list[int], bool]:
        """Up to `count` ids with lo < id < hi, nearest the starting end first, and whether
        the timeline may hold more beyond them."""
        key = timeline_key(member_id)
        # Inclusive score bounds cover every id in range (rounding is monotonic); the exact
        # cut is made here. Score 0 leaves out the sentinel.
        low: Any = lo if lo is not None else 0
        high: Any = hi if hi is not None else "+inf"
        if descending:
            raw = await self.redis.zrevrangebyscore(key, high, low, start=0, num=count)
        else:
            raw = await self.redis.zrangebyscore(key, low, high, start=0, num=count)
        ids = [int(m) for m in raw]
        more = len(ids) == count
        return [i for i in ids if (lo is None or i > lo) and (hi is None or i < hi)], more

    async def snapshot(self, member_id: int) -> tuple[int | None, list[int]]:
        """The floor and every id the timeline holds (at most cap), for reconciling."""
        key = timeline_key(member_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zrange(key, 0, 1, withscores=True)
            pipe.zrangebyscore(key, 0, "+inf")
            head, raw = await pipe.execute()
        return _floor(head), [int(m) for m in raw]

    async def ids(self, member_id: int) -> list[int]:
        """Every entry id in the timeline, newest first (tests and the benchmark)."""
        return [int(m) for m in await self.redis.zrevrangebyscore(timeline_key(member_id), "+inf", 0)]
