"""The job plumbing itself (shared.jobs, shared.worker), with the same job functions under
both runners: in-process (InProcessQueue + RetryPump, as in the embedded default) and arq
(ArqQueue + a real arq Worker on Redis), each on SQLite and on PostgreSQL.

- retries with backoff: a job that fails twice then succeeds has its effect once;
- dead letters: a job that always fails is parked dead after job_max_tries attempts and
  runs again when replayed;
- at-least-once delivery, exactly-once effect: an outbox row delivered twice;
- Redis down while the relay runs: rows wait in the outbox, and go out when Redis is back;
- order-safe graph copies: a newer event applied first is not undone by an older one;
- under a JobHost on arq: a job that overruns its timeout is retried and parked, and a
  periodic job's dead letter can be replayed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.feed import repository as feed_repo
from services.feed.jobs import GRAPH_TOPICS, apply_graph_event
from services.feed.jobs import JOB as GRAPH_JOB
from services.feed.models import BlockCopy, FollowCopy, HandledEvent, SourceStats
from shared.broker import MemoryBroker
from shared.database import session_scope, utcnow
from shared.errors import BadUserInput, NotFound
from shared.ids import new_id
from shared.jobs import (
    ArqQueue,
    InProcessQueue,
    JobQueue,
    OutboxRelay,
    Registry,
    RetryPump,
    arq_function,
    event_key,
    replay,
)
from shared.outbox import FailedJob, OutboxEvent, record_event
from shared.settings import Settings
from tests.conftest import (
    REDIS_URL,
    SERVICES,
    _drop_schema,
    _migrate,
    empty_service_tables,
    make_settings,
    poll,
    require_server,
)

# The arq tests use their own queue on the test Redis db, apart from any app's workers.
QUEUE = "arq:queue:hubben-test-jobs"
MAX_TRIES = 3
RETRY_SECONDS = 0.05


# --- databases, once per backend ------------------------------------------------------------


@dataclass
class Stores:
    settings: Settings
    engines: dict[str, AsyncEngine]
    makers: dict[str, async_sessionmaker[AsyncSession]]


@pytest.fixture(scope="module")
async def stores(backend: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stores]:
    from shared.cli import _migrations
    from shared.database import make_sessionmaker, prepare_database

    settings = make_settings(backend, tmp_path_factory.mktemp(f"jobs-{backend}"))
    if backend == "postgres":
        await _migrate(settings)
    engines = {s: await prepare_database(settings, s, _migrations(s)) for s in SERVICES}
    yield Stores(settings, engines, {s: make_sessionmaker(e) for s, e in engines.items()})
    for engine in engines.values():
        await engine.dispose()
    if backend == "postgres":
        await _drop_schema(settings)


async def empty_tables(stores: Stores) -> None:
    await empty_service_tables(stores.engines)


# --- the two runners ------------------------------------------------------------------------


def job_ctx(settings: Settings, makers: dict[str, async_sessionmaker[AsyncSession]], redis: Any) -> dict[str, Any]:
    """A job's ctx, as JobHost.start builds it (no graph client: these jobs need none)."""
    return {
        "settings": settings,
        "sessionmakers": makers,
        "feed_sessionmaker": makers["feed"],
        "graph": None,
        "codec": None,
        "broker": MemoryBroker(),
        "redis": redis,
    }


def arq_worker(registry: Registry, pool: Any, ctx: dict[str, Any], settings: Settings, queue: str = QUEUE) -> Any:
    """A burst arq worker over the registry's jobs, configured like JobHost's. It keeps no
    results, so a job id can be enqueued again once its job has run (as after arq's
    result expiry in production)."""
    from arq.worker import Worker, func

    from shared.worker import ARQ_TIMEOUT_GRACE_SECONDS

    timeout = settings.job_timeout_seconds + ARQ_TIMEOUT_GRACE_SECONDS
    return Worker(
        functions=[func(arq_function(n, j), name=n, timeout=timeout) for n, j in registry.tasks.items()],  # type: ignore[arg-type]
        redis_pool=pool,
        queue_name=queue,
        ctx=ctx,
        burst=True,
        poll_delay=0,
        max_tries=1000,
        handle_signals=False,
        keep_result=0,
    )


@dataclass
class Harness:
    runner: str  # "in-process" or "arq"
    settings: Settings
    makers: dict[str, async_sessionmaker[AsyncSession]]
    registry: Registry
    pool: Any
    ctx: dict[str, Any] = field(default_factory=dict)
    queue: JobQueue | None = None
    relays: dict[str, OutboxRelay] = field(default_factory=dict)
    pumps: dict[str, RetryPump] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ctx = job_ctx(self.settings, self.makers, self.pool)
        self.queue = ArqQueue(self.pool) if self.pool is not None else InProcessQueue(self.ctx, self.registry)
        self.ctx["jobs"] = self.queue
        for service, maker in self.makers.items():
            self.relays[service] = OutboxRelay(service, maker, self.registry, self.queue)
            self.pumps[service] = RetryPump(service, maker, self.queue)

    @property
    def arq(self) -> bool:
        return self.runner == "arq"

    async def settle(self) -> None:
        """One round of everything due: deliver the outboxes, run failed jobs that are due,
        and under arq run a burst worker until its queue (deferred retries included) is empty."""
        for relay in self.relays.values():
            await relay.drain()
        for pump in self.pumps.values():
            await pump.drain()
        if self.arq:
            await arq_worker(self.registry, self.pool, self.ctx, self.settings).run_check()

    async def until(self, condition: Callable[[], Awaitable[Any]], within: float = 20.0) -> Any:
        async def settled() -> Any:
            await self.settle()
            return await condition()

        return await poll(settled, within=within)

    async def enqueue(self, name: str, event: dict[str, Any]) -> None:
        assert self.queue is not None
        await self.queue.enqueue(name, event, event_key(event, name))

    async def failed(self, service: str = "feed") -> list[FailedJob]:
        async with self.makers[service]() as s:
            return list((await s.execute(select(FailedJob).order_by(FailedJob.id))).scalars())


@pytest.fixture(params=["in-process", "arq"])
async def harness(request: pytest.FixtureRequest, stores: Stores) -> AsyncIterator[Harness]:
    await empty_tables(stores)
    settings = stores.settings.model_copy(
        update={"job_max_tries": MAX_TRIES, "job_retry_seconds": RETRY_SECONDS, "redis_url": ""}
    )
    pool = None
    if request.param == "arq":
        from arq.connections import RedisSettings, create_pool

        require_server("Redis", "127.0.0.1", 6379)
        pool = await create_pool(RedisSettings.from_dsn(REDIS_URL), default_queue_name=QUEUE)
        await pool.delete(QUEUE)
    try:
        yield Harness(request.param, settings, stores.makers, Registry(), pool)
    finally:
        if pool is not None:
            await pool.delete(QUEUE)
            await pool.aclose()


async def record(maker: async_sessionmaker[AsyncSession], topic: str, payload: dict[str, Any]) -> int:
    """An outbox event, committed as a service's unit of work commits it."""
    async with session_scope(maker) as s:
        row = record_event(s, topic, payload)
    return row.id


async def count(maker: async_sessionmaker[AsyncSession], model: Any, *where: Any) -> int:
    async with maker() as s:
        return int((await s.execute(select(func.count()).select_from(model).where(*where))).scalar_one())


async def followers(maker: async_sessionmaker[AsyncSession], target_type: str, target_id: int) -> int:
    async with maker() as s:
        row = await s.get(SourceStats, (target_type, target_id))
        return row.followers if row else 0


async def record_effect(ctx: dict[str, Any], key: str, hub_id: int) -> None:
    """A test job's effect, once per key: one more follower of a hub."""
    async with session_scope(ctx["feed_sessionmaker"]) as s:
        if await feed_repo.already_handled(s, key):
            return
        s.add(HandledEvent(key=key))
        await feed_repo.bump_followers(s, "hub", hub_id, 1)


# --- retries and dead letters ---------------------------------------------------------------


async def test_a_job_that_fails_twice_then_succeeds_has_its_effect_once_after_backoff(
    harness: Harness, stores: Stores
) -> None:
    tries: list[float] = []

    async def flaky(ctx: dict[str, Any], event: dict[str, Any]) -> None:
        tries.append(time.monotonic())
        if len(tries) <= 2:
            raise ConnectionError(f"try {len(tries)}: the search index is away")
        await record_effect(ctx, event_key(event, "feed.test_flaky"), event["payload"]["hub_id"])

    harness.registry.add("feed.test_flaky", {"test.flaky"}, flaky)
    event_id = await record(stores.makers["graph"], "test.flaky", {"hub_id": 11})

    async def succeeded() -> bool:
        return await followers(stores.makers["feed"], "hub", 11) > 0 and not await harness.failed()

    await harness.until(succeeded)
    await harness.settle()  # nothing more is due: no further attempt
    assert len(tries) == 3
    # Backoff doubles from job_retry_seconds: 0.05 s, then 0.1 s.
    assert tries[1] - tries[0] >= RETRY_SECONDS * 0.9
    assert tries[2] - tries[1] >= 2 * RETRY_SECONDS * 0.9
    assert await followers(stores.makers["feed"], "hub", 11) == 1
    assert await count(stores.makers["feed"], HandledEvent) == 1
    async with stores.makers["graph"]() as s:
        assert (await s.get(OutboxEvent, event_id)).dispatched_at is not None  # type: ignore[union-attr]


async def test_a_job_that_always_fails_is_dead_after_max_tries_and_runs_again_when_replayed(
    harness: Harness, stores: Stores
) -> None:
    broken = True
    runs: list[int] = []

    async def sender(ctx: dict[str, Any], event: dict[str, Any]) -> None:
        runs.append(event["id"])
        if broken:
            raise RuntimeError("SMTP 554: transaction failed")
        await record_effect(ctx, event_key(event, "feed.test_sender"), event["payload"]["hub_id"])

    harness.registry.add("feed.test_sender", {"test.mail"}, sender)
    event_id = await record(stores.makers["graph"], "test.mail", {"hub_id": 12})

    async def dead() -> FailedJob | None:
        rows = await harness.failed()
        return rows[0] if rows and rows[0].dead_at is not None else None

    row = await harness.until(dead)
    event = {"id": event_id, "source": "graph", "topic": "test.mail", "payload": {"hub_id": 12}}
    assert runs == [event_id] * MAX_TRIES
    assert row.job == "feed.test_sender" and row.key == event_key(event, "feed.test_sender")
    assert row.arg == event and row.attempts == MAX_TRIES and row.next_attempt_at is None
    assert "RuntimeError: SMTP 554: transaction failed" in row.error
    assert len(await harness.failed()) == 1 and not await harness.failed("graph")

    # A dead job stays parked: nothing runs it until an admin replays it.
    await harness.settle()
    await harness.settle()
    assert len(runs) == MAX_TRIES

    # Only dead jobs are replayed, and only ones that exist.
    with pytest.raises(NotFound):
        await replay(stores.makers["feed"], new_id())
    async with session_scope(stores.makers["feed"]) as s:
        waiting = FailedJob(job="feed.test_sender", key="k", arg={}, next_attempt_at=utcnow().replace(year=2999))
        s.add(waiting)
    with pytest.raises(BadUserInput):
        await replay(stores.makers["feed"], waiting.id)
    async with session_scope(stores.makers["feed"]) as s:
        await s.delete(await s.get(FailedJob, waiting.id))

    broken = False
    replayed = await replay(stores.makers["feed"], row.id)
    assert replayed.dead_at is None and replayed.attempts == 0 and replayed.next_attempt_at is not None

    async def done() -> bool:
        return await followers(stores.makers["feed"], "hub", 12) == 1 and not await harness.failed()

    await harness.until(done)
    assert runs == [event_id] * (MAX_TRIES + 1)


# --- delivery -------------------------------------------------------------------------------


def counting_graph_job(runs: list[int]) -> Callable[[dict[str, Any], dict[str, Any]], Awaitable[None]]:
    async def job(ctx: dict[str, Any], event: dict[str, Any]) -> None:
        runs.append(event["id"])
        await apply_graph_event(ctx, event)

    return job


async def undeliver(stores: Stores, event_id: int) -> None:
    """As if the relay crashed after enqueueing and before its mark was committed."""
    async with session_scope(stores.makers["graph"]) as s:
        await s.execute(update(OutboxEvent).where(OutboxEvent.id == event_id).values(dispatched_at=None))


async def test_relay_delivers_at_least_once_and_the_effect_happens_exactly_once(
    harness: Harness, stores: Stores
) -> None:
    runs: list[int] = []
    harness.registry.add(GRAPH_JOB, GRAPH_TOPICS, counting_graph_job(runs))
    follow = {"follow_id": new_id(), "follower_id": 501, "target_type": "hub", "target_id": 77}
    event_id = await record(stores.makers["graph"], "follow.created", follow)
    relay = harness.relays["graph"]

    assert await relay.pump() == 1
    await undeliver(stores, event_id)
    assert await relay.pump() == 1  # delivered a second time
    await harness.settle()
    if harness.arq:
        assert runs == [event_id]  # the second enqueue had the same job id while the first waited
        await undeliver(stores, event_id)
        assert await relay.pump() == 1  # a third time, after arq has forgotten the job
        await harness.settle()
    assert runs == [event_id, event_id]

    feed = stores.makers["feed"]
    assert await count(feed, FollowCopy) == 1
    assert await followers(feed, "hub", 77) == 1
    assert await count(feed, HandledEvent, HandledEvent.key == f"{GRAPH_JOB}:graph:{event_id}") == 1
    assert not await harness.failed()


async def test_outbox_rows_wait_while_redis_is_down_and_go_out_when_it_is_back(stores: Stores, tmp_path: Path) -> None:
    from arq.connections import RedisSettings, create_pool

    from tests.redis_process import RedisProcess

    await empty_tables(stores)
    settings = stores.settings.model_copy(update={"job_max_tries": MAX_TRIES, "job_retry_seconds": RETRY_SECONDS})
    server = RedisProcess(tmp_path / "redis")
    server.start()
    pool = await create_pool(RedisSettings.from_dsn(server.url), default_queue_name=QUEUE)
    registry = Registry()
    runs: list[int] = []
    registry.add(GRAPH_JOB, GRAPH_TOPICS, counting_graph_job(runs))
    ctx = job_ctx(settings, stores.makers, pool)
    ctx["jobs"] = queue = ArqQueue(pool)
    relay = OutboxRelay("graph", stores.makers["graph"], registry, queue)
    relaying = asyncio.create_task(relay.run(idle_seconds=0.05))
    graph = stores.makers["graph"]
    try:
        server.stop()
        ids = [
            await record(
                graph, "follow.created", {"follow_id": new_id(), "follower_id": f, "target_type": "hub", "target_id": 9}
            )
            for f in (601, 602)
        ]
        relay.wake.set()

        async def rows() -> list[OutboxEvent]:
            async with graph() as s:
                return list((await s.execute(select(OutboxEvent).order_by(OutboxEvent.id))).scalars())

        async def tried() -> bool:
            return (await rows())[0].attempts >= 2

        await poll(tried, within=15)  # the relay keeps trying, and fails, while Redis is away
        assert all(r.dispatched_at is None for r in await rows())

        server.start()  # same port; the queue it held comes back with it

        async def delivered() -> bool:
            return all(r.dispatched_at is not None for r in await rows())

        await poll(delivered, within=30)
        await arq_worker(registry, pool, ctx, settings).run_check()
        # Both jobs ran (one may have run twice: two first follows of a source race to
        # insert its follower count, and the loser is retried); the effect is exact.
        assert set(runs) == set(ids)
        feed = stores.makers["feed"]
        assert await count(feed, FollowCopy, FollowCopy.target_id == 9) == 2
        assert await followers(feed, "hub", 9) == 2
    finally:
        relaying.cancel()
        await asyncio.gather(relaying, return_exceptions=True)
        await pool.aclose()
        server.stop()


# --- order-safe graph copies ----------------------------------------------------------------


async def test_graph_copies_are_not_undone_by_older_events_arriving_late(harness: Harness, stores: Stores) -> None:
    harness.registry.add(GRAPH_JOB, GRAPH_TOPICS, apply_graph_event)

    def event(topic: str, payload: dict[str, Any]) -> dict[str, Any]:
        return {"id": new_id(), "source": "graph", "topic": topic, "payload": payload}

    async def apply(*events: dict[str, Any]) -> None:
        for e in events:  # one at a time, in the order given
            await harness.enqueue(GRAPH_JOB, e)
            await harness.settle()

    def follow(follower: int, follow_id: int) -> dict[str, Any]:
        return {"follow_id": follow_id, "follower_id": follower, "target_type": "organisation", "target_id": 5}

    # Unfollowed after following, but the unfollow (newer id) arrives first.
    created, deleted = event("follow.created", follow(701, 1)), event("follow.deleted", follow(701, 1))
    assert created["id"] < deleted["id"]
    await apply(deleted, created)
    # In order, for comparison; and a follow that stands.
    await apply(event("follow.created", follow(702, 2)), event("follow.deleted", follow(702, 2)))
    await apply(event("follow.created", follow(703, 3)))
    # Followed again after an unfollow, delivered backwards: the newest (a follow) wins.
    refollow = [event("follow.created", follow(704, 4)), event("follow.deleted", follow(704, 4))]
    refollow.append(event("follow.created", follow(704, 5)))
    await apply(*reversed(refollow))

    feed = stores.makers["feed"]
    async with feed() as s:
        copies = {(c.follower_id, c.follow_id) for c in (await s.execute(select(FollowCopy))).scalars()}
    assert copies == {(703, 3), (704, 5)}
    assert await followers(feed, "organisation", 5) == 2

    # The same for blocks.
    unblock = event("block.deleted", {"blocker_id": 801, "blocked_id": 802})
    block = event("block.created", {"blocker_id": 801, "blocked_id": 802})
    block["id"], unblock["id"] = sorted((block["id"], unblock["id"]))
    await apply(unblock, block)
    assert await count(feed, BlockCopy) == 0
    assert not await harness.failed()


# --- a JobHost on arq ------------------------------------------------------------------------


async def test_job_host_on_arq_parks_a_job_that_overruns_and_replays_a_periodic_job(
    stores: Stores, tmp_path: Path
) -> None:
    from shared.worker import JobHost
    from tests.redis_process import RedisProcess

    await empty_tables(stores)
    server = RedisProcess(tmp_path / "redis")
    server.start()
    settings = stores.settings.model_copy(
        update={
            "redis_url": server.url,
            "job_max_tries": 2,
            "job_retry_seconds": RETRY_SECONDS,
            "job_timeout_seconds": 1,
        }
    )
    slow_runs: list[int] = []
    ticks: list[dict[str, Any]] = []

    async def slow(ctx: dict[str, Any], event: dict[str, Any]) -> None:
        slow_runs.append(event["id"])
        await asyncio.sleep(30)  # a hung call: the job's timeout ends it

    async def tick(ctx: dict[str, Any], arg: dict[str, Any]) -> None:
        ticks.append(arg)

    registry = Registry()
    registry.add("feed.test_slow", {"test.slow"}, slow)
    registry.every("feed.test_tick", tick)
    host = JobHost(settings, dict(stores.makers), graph=None, codec=None, registry=registry)
    await host.start()
    feed = stores.makers["feed"]
    try:
        event_id = await record(feed, "test.slow", {})
        host.wake("feed")

        async def parked() -> FailedJob | None:
            async with feed() as s:
                return (await s.execute(select(FailedJob).where(FailedJob.job == "feed.test_slow"))).scalar()

        row = await poll(parked, within=30)
        assert slow_runs == [event_id, event_id]
        assert row.dead_at is not None and row.attempts == 2 and "TimeoutError" in row.error
        assert row.key == f"feed.test_slow:feed:{event_id}"

        # A periodic job's dead letter, replayed: arq runs the cron job with its argument.
        at = "2026-11-01T07:00:00+00:00"
        async with session_scope(feed) as s:
            dead_tick = FailedJob(
                job="feed.test_tick", key=f"cron:feed.test_tick:{new_id()}", arg={"at": at}, dead_at=utcnow()
            )
            s.add(dead_tick)
        await replay(feed, dead_tick.id)
        await poll(lambda: {"at": at} in ticks, within=15)

        async def tick_gone() -> bool:
            return await count(feed, FailedJob, FailedJob.job == "feed.test_tick") == 0

        await poll(tick_gone, within=10)
    finally:
        await host.stop()
        server.stop()
