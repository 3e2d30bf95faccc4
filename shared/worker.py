"""Event delivery between services: which outboxes feed which jobs, and the worker
process that runs the relays when services live in separate processes.

In one process the gateway runs these relays itself. With services split out, exactly
one `hubben worker` runs them, with access to every service's database (the Redis/arq
dispatcher of the workers issue will let several share the work)."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.jobs import OutboxRelay, Registry, in_process
from shared.settings import Settings

log = structlog.get_logger("hubben.worker")


def graph_relay(
    graph_maker: async_sessionmaker[AsyncSession], feed_maker: async_sessionmaker[AsyncSession]
) -> OutboxRelay:
    """The graph service's outbox, delivered to the feed's jobs."""
    from services.feed.jobs import register as register_feed_jobs

    registry = Registry()
    register_feed_jobs(registry)
    ctx: dict[str, Any] = {"feed_sessionmaker": feed_maker}
    return OutboxRelay("graph", graph_maker, registry, in_process(ctx))


async def run_worker(settings: Settings, stop: asyncio.Event, idle_seconds: float = 0.5) -> None:
    from shared.cli import _migrations
    from shared.database import make_sessionmaker, prepare_database

    graph = await prepare_database(settings, "graph", _migrations("graph"))
    feed = await prepare_database(settings, "feed", _migrations("feed"))
    relay = graph_relay(make_sessionmaker(graph), make_sessionmaker(feed))
    task = asyncio.create_task(relay.run(idle_seconds), name="graph-outbox-relay")
    log.info("worker.started", relays=["graph"])
    try:
        await stop.wait()
    finally:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        await graph.dispose()
        await feed.dispose()
        log.info("worker.stopped")


def main(settings: Settings) -> None:
    async def go() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(settings, stop)

    asyncio.run(go())
