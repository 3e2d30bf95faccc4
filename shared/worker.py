"""Where jobs run. A `JobHost` holds what jobs need (their `ctx`), relays every local
service's outbox to the subscribed jobs, retries failed jobs when due and runs the
periodic ones.

- Embedded default (no Redis): `hubben serve` hosts everything in its own process and
  jobs run in-process.
- With Redis (`HUBBEN_REDIS_URL`): relays enqueue arq jobs on Redis, and arq workers run
  them: inside `hubben serve` by default, or in `hubben worker` processes when
  `HUBBEN_RUN_JOBS_IN_PROCESS=false` (several may run; relays share outbox rows with
  SKIP LOCKED and arq hands each job to one worker)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.broker import Broker, MemoryBroker, RedisBroker
from shared.database import utcnow
from shared.jobs import ArqQueue, InProcessQueue, JobQueue, OutboxRelay, Periodic, Registry, RetryPump, arq_function
from shared.settings import Settings

log = structlog.get_logger("hubben.worker")
# How much longer than job_timeout_seconds arq waits before it cancels a job itself.
ARQ_TIMEOUT_GRACE_SECONDS = 5


def build_registry() -> Registry:
    """Every service's jobs."""
    from services.feed.jobs import register as register_feed_jobs
    from services.search.jobs import register as register_search_jobs

    registry = Registry()
    register_feed_jobs(registry)
    register_search_jobs(registry)
    return registry


def _next_run(now: datetime, hourly: bool) -> datetime:
    if hourly:
        return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return now.replace(second=0, microsecond=0) + timedelta(minutes=1)


@dataclass
class JobHost:
    settings: Settings
    sessionmakers: dict[str, async_sessionmaker[AsyncSession]]
    graph: Any  # services.graph.client.GraphClient
    codec: Any  # shared.auth.TokenCodec
    feed: Any = None  # services.feed.client.FeedClient
    search_index: Any = None  # services.search.engine.SearchEngine
    broker: Broker | None = None
    registry: Registry = field(default_factory=build_registry)
    run_jobs: bool = True  # run the jobs here (arq worker or in-process), not only relay them
    ctx: dict[str, Any] = field(default_factory=dict)
    relays: dict[str, OutboxRelay] = field(default_factory=dict)
    pumps: dict[str, RetryPump] = field(default_factory=dict)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    redis: Any = None
    queue: JobQueue | None = None
    arq_worker: Any = None

    async def start(self) -> None:
        from services.search.service import Sources

        settings = self.settings
        if settings.redis_url:
            from arq.connections import ArqRedis

            # Connects lazily: a Redis that is down now only delays delivery.
            from redis.asyncio import ConnectionPool

            self.redis = ArqRedis(
                connection_pool=ConnectionPool.from_url(settings.redis_url), default_queue_name=settings.job_queue
            )
            self.queue = ArqQueue(self.redis)
        if self.broker is None:
            self.broker = RedisBroker(self.redis) if self.redis is not None else MemoryBroker()
        self.ctx.update(
            settings=settings,
            sessionmakers=self.sessionmakers,
            feed_sessionmaker=self.sessionmakers.get("feed"),
            graph=self.graph,
            codec=self.codec,
            broker=self.broker,
            redis=self.redis,
            search_index=self.search_index,
            search_sources=Sources(graph=self.graph, feed=self.feed),
        )
        if self.queue is None:
            self.queue = InProcessQueue(self.ctx, self.registry)
        self.ctx["jobs"] = self.queue
        for service, maker in self.sessionmakers.items():
            self.relays[service] = OutboxRelay(service, maker, self.registry, self.queue)
            self.pumps[service] = RetryPump(service, maker, self.queue)
            self._spawn(self.relays[service].run(), f"{service}-outbox-relay")
            self._spawn(self.pumps[service].run(), f"{service}-retry-pump")
        if self.run_jobs:
            if self.redis is not None:
                self._start_arq()
            else:
                for periodic in self.registry.periodic:
                    self._spawn(self._every(periodic), f"periodic-{periodic.name}")
        log.info(
            "jobs.started",
            services=list(self.sessionmakers),
            runner="arq" if self.redis is not None else "in-process",
            runs_jobs=self.run_jobs,
        )

    def _spawn(self, coro: Any, name: str) -> None:
        self.tasks.append(asyncio.create_task(coro, name=name))

    def _start_arq(self) -> None:
        from arq import cron
        from arq.worker import Worker, func

        settings = self.settings
        # arq_function enforces job_timeout_seconds itself, so an overrun is retried and
        # parked; arq's own limit (which drops a job for good) only backs it up.
        timeout = settings.job_timeout_seconds + ARQ_TIMEOUT_GRACE_SECONDS
        functions = [
            func(arq_function(name, job), name=name, timeout=timeout)  # type: ignore[arg-type]
            for name, job in self.registry.tasks.items()
        ]
        cron_jobs = [
            cron(
                self._cron_entry(p),  # type: ignore[arg-type]
                name=p.name,
                minute={0} if p.hourly else None,
                second=0,
                timeout=timeout,
            )
            for p in self.registry.periodic
        ]
        self.arq_worker = Worker(
            functions=functions,
            cron_jobs=cron_jobs,
            redis_pool=self.redis,
            queue_name=settings.job_queue,
            ctx=self.ctx,
            handle_signals=False,
            # Retries are ours (arq_function): a high ceiling keeps arq from dropping a job
            # whose dead letter could not yet be written.
            max_tries=1000,
            job_timeout=timeout,
            poll_delay=0.05,
            max_jobs=20,
            keep_result=3600,
        )
        self._spawn(self._supervise_arq(), "arq-worker")

    def _cron_entry(self, periodic: Periodic) -> Any:
        run = arq_function(periodic.name, periodic.job)

        # arq registers a cron job under the function's name, so a replayed dead letter of
        # a periodic job (enqueued by name with its argument) lands here too.
        async def entry(ctx: dict[str, Any], arg: dict[str, Any] | None = None) -> None:
            await run(ctx, arg if arg is not None else {"at": utcnow().isoformat()})

        entry.__qualname__ = periodic.name
        return entry

    async def _supervise_arq(self) -> None:
        """arq's worker loop ends when Redis goes away; start it again when Redis is back."""
        backoff = 0.2
        while True:
            try:
                await self.arq_worker.main()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("arq.worker_stopped", error=repr(exc), retry_in=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
            else:
                return

    async def _every(self, periodic: Periodic) -> None:
        assert self.queue is not None
        while True:
            at = _next_run(utcnow(), periodic.hourly)
            await asyncio.sleep(max(0.0, (at - utcnow()).total_seconds()))
            try:
                await self.queue.enqueue(periodic.name, {"at": at.isoformat()}, f"{periodic.name}:{at.isoformat()}")
            except Exception as exc:  # logged; the next run comes regardless
                log.warning("periodic.failed", job=periodic.name, error=repr(exc))

    def wake(self, service: str) -> None:
        relay = self.relays.get(service)
        if relay is not None:
            relay.wake.set()

    async def drain(self) -> None:
        """Deliver everything pending now (tests and start-up seeding use it)."""
        for relay in self.relays.values():
            await relay.drain()

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.tasks.clear()
        if self.arq_worker is not None:
            # Jobs cut short here run again (arq re-queues them). arq's close() awaits its job
            # tasks and would re-raise their cancellation into whoever stops us: end them first.
            running = list(self.arq_worker.tasks.values())
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            self.arq_worker.tasks.clear()
            with contextlib.suppress(Exception):
                await self.arq_worker.close()
        if self.broker is not None:
            await self.broker.close()
        if self.redis is not None:
            with contextlib.suppress(Exception):
                await self.redis.aclose()
        log.info("jobs.stopped")


async def run_worker(settings: Settings, stop: asyncio.Event) -> None:
    """`hubben worker`: relays and jobs for every service, beside services running elsewhere."""
    from services.feed.client import FeedClient
    from services.graph.client import GraphClient
    from services.search.backends import open_engine
    from shared.auth import TokenCodec, load_key_pair
    from shared.cli import SERVICES, _migrations
    from shared.database import make_sessionmaker, prepare_database

    engines: dict[str, AsyncEngine] = {}
    for service in SERVICES:
        engines[service] = await prepare_database(settings, service, _migrations(service))
    codec = TokenCodec(settings, load_key_pair(settings))
    async with contextlib.AsyncExitStack() as stack:
        graph, _ = await GraphClient.for_settings(settings, codec, stack)
        feed, _ = await FeedClient.for_settings(settings, codec, stack, graph)
        search_index = open_engine(settings)
        stack.push_async_callback(search_index.close)
        host = JobHost(
            settings,
            {name: make_sessionmaker(engine) for name, engine in engines.items()},
            graph=graph,
            codec=codec,
            feed=feed,
            search_index=search_index,
        )
        await host.start()
        try:
            await stop.wait()
        finally:
            await host.stop()
            for engine in engines.values():
                await engine.dispose()


def main(settings: Settings) -> None:
    async def go() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(settings, stop)

    asyncio.run(go())
