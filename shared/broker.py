"""Live messages between processes: jobs publish, GraphQL subscriptions listen.

With Redis configured, messages travel over Redis pub/sub, so a notification made by a
worker reaches a websocket held by any gateway process; one pub/sub connection per
process carries every channel that process listens to. Without Redis (the embedded
default, one process) they travel through memory. Live messages are a convenience on top
of what is stored: a message published while nobody listens is simply not heard."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any, Protocol

import structlog

log = structlog.get_logger("hubben.broker")

QUEUE_SIZE = 256  # messages held for one slow listener before the oldest are dropped


def notifications_channel(member_id: int) -> str:
    return f"hubben:notifications:{member_id}"


def hub_channel(hub_id: int) -> str:
    return f"hubben:hub:{hub_id}"


class Broker(Protocol):
    async def publish(self, channel: str, message: dict[str, Any]) -> None: ...

    def listen(self, channel: str) -> contextlib.AbstractAsyncContextManager[AsyncIterator[dict[str, Any]]]:
        """`async with broker.listen(ch) as messages: async for m in messages: ...`"""

    async def close(self) -> None: ...


def _offer(queue: asyncio.Queue[dict[str, Any]], message: dict[str, Any]) -> None:
    if queue.full():  # a listener that does not keep up loses the oldest, never blocks others
        queue.get_nowait()
    queue.put_nowait(message)


async def _drain(queue: asyncio.Queue[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    while True:
        yield await queue.get()


class MemoryBroker:
    def __init__(self) -> None:
        self.listeners: dict[str, set[asyncio.Queue[dict[str, Any]]]] = {}

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        for queue in list(self.listeners.get(channel, ())):
            _offer(queue, message)

    @contextlib.asynccontextmanager
    async def listen(self, channel: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self.listeners.setdefault(channel, set()).add(queue)
        try:
            yield _drain(queue)
        finally:
            self.listeners[channel].discard(queue)
            if not self.listeners[channel]:
                del self.listeners[channel]

    async def close(self) -> None:
        self.listeners.clear()


class RedisBroker:
    """One Redis pub/sub connection per process, fanned out to local listeners."""

    def __init__(self, redis: Any) -> None:
        self.redis = redis
        self.listeners: dict[str, set[asyncio.Queue[dict[str, Any]]]] = {}
        self.pubsub: Any = None
        self.reader: asyncio.Task[None] | None = None
        self.lock = asyncio.Lock()

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        await self.redis.publish(channel, json.dumps(message, separators=(",", ":")))

    async def _read(self) -> None:
        assert self.pubsub is not None
        while True:
            try:
                msg = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis went away: resubscribe when it is back
                log.warning("broker.read_failed", error=repr(exc))
                await asyncio.sleep(1.0)
                with contextlib.suppress(Exception):
                    channels = list(self.listeners)
                    if channels:
                        await self.pubsub.subscribe(*channels)
                continue
            if msg is None:
                continue
            channel = msg["channel"].decode() if isinstance(msg["channel"], bytes) else msg["channel"]
            try:
                data = json.loads(msg["data"])
            except (TypeError, ValueError):
                continue
            for queue in list(self.listeners.get(channel, ())):
                _offer(queue, data)

    @contextlib.asynccontextmanager
    async def listen(self, channel: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        async with self.lock:
            if self.pubsub is None:
                self.pubsub = self.redis.pubsub()
            first = channel not in self.listeners
            self.listeners.setdefault(channel, set()).add(queue)
            if first:
                await self.pubsub.subscribe(channel)
            if self.reader is None or self.reader.done():
                self.reader = asyncio.create_task(self._read(), name="broker-reader")
        try:
            yield _drain(queue)
        finally:
            async with self.lock:
                self.listeners[channel].discard(queue)
                if not self.listeners[channel]:
                    del self.listeners[channel]
                    with contextlib.suppress(Exception):
                        await self.pubsub.unsubscribe(channel)

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.reader
        if self.pubsub is not None:
            with contextlib.suppress(Exception):
                await self.pubsub.aclose()
        self.listeners.clear()
