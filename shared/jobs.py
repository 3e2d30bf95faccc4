"""Job plumbing shared by every service: subscriptions of jobs to outbox topics, and the
relay that moves committed outbox rows to those jobs.

A job is `async def job(ctx, event) -> None`, the shape arq calls, with `event` =
{"id", "source", "topic", "payload"}. Jobs are idempotent: each records the event's key
in its own service's transaction, so a redelivery changes nothing. The in-process
dispatcher here runs them straight away, in order, retrying on the next pump when one
fails; the workers issue adds the arq dispatcher that enqueues them on Redis instead."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from shared.database import session_scope, utcnow
from shared.outbox import OutboxEvent

log = structlog.get_logger("hubben.jobs")

Job = Callable[[dict[str, Any], dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    name: str  # "<service>.<action>", also the job's name under arq
    topics: frozenset[str]
    job: Job


@dataclass
class Registry:
    subscriptions: list[Subscription] = field(default_factory=list)

    def add(self, name: str, topics: set[str], job: Job) -> None:
        self.subscriptions.append(Subscription(name, frozenset(topics), job))

    def for_topic(self, topic: str) -> list[Subscription]:
        return [s for s in self.subscriptions if topic in s.topics]


def event_key(event: dict[str, Any], job: str) -> str:
    """The unique key of one job's effect of one event."""
    return f"{job}:{event['source']}:{event['id']}"


Dispatch = Callable[[Subscription, dict[str, Any]], Awaitable[None]]


class OutboxRelay:
    """Moves one service's committed outbox rows, in id order, to their subscribers."""

    def __init__(
        self,
        source: str,
        maker: async_sessionmaker[AsyncSession],
        registry: Registry,
        dispatch: Dispatch,
        batch: int = 200,
    ) -> None:
        self.source = source
        self.maker = maker
        self.registry = registry
        self.dispatch = dispatch
        self.batch = batch
        self.wake = asyncio.Event()

    async def pump(self) -> int:
        """Deliver one batch; returns how many rows were delivered. A failing job stops the
        batch at its row (later rows wait, keeping order) and raises after the commit."""
        delivered = 0
        failure: BaseException | None = None
        async with session_scope(self.maker) as session:
            stmt = (
                select(OutboxEvent)
                .where(col(OutboxEvent.dispatched_at).is_(None))
                .order_by(col(OutboxEvent.id))
                .limit(self.batch)
                .with_for_update(skip_locked=True)
            )
            for row in (await session.execute(stmt)).scalars():
                event = {"id": row.id, "source": self.source, "topic": row.topic, "payload": row.payload}
                try:
                    for sub in self.registry.for_topic(row.topic):
                        await self.dispatch(sub, event)
                except Exception as exc:  # the row stays undelivered and is retried
                    row.attempts += 1
                    failure = exc
                    log.warning(
                        "outbox.delivery_failed",
                        source=self.source,
                        topic=row.topic,
                        id=row.id,
                        attempts=row.attempts,
                        error=repr(exc),
                    )
                    break
                row.dispatched_at = utcnow()
                delivered += 1
        if failure is not None:
            raise failure
        return delivered

    async def drain(self) -> int:
        total = 0
        while n := await self.pump():
            total += n
        return total

    async def run(self, idle_seconds: float = 1.0) -> None:
        """Deliver until cancelled: promptly when woken after a commit, else every idle_seconds."""
        backoff = 0.1
        while True:
            try:
                await self.drain()
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception:  # logged in pump; wait and try again
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=idle_seconds)
            except TimeoutError:
                pass
            self.wake.clear()


def in_process(ctx: dict[str, Any]) -> Dispatch:
    """Run the job now, in this process, with the given context."""

    async def dispatch(sub: Subscription, event: dict[str, Any]) -> None:
        await sub.job(ctx, event)

    return dispatch
