"""Job plumbing shared by every service: which jobs follow which outbox topics, the relay
that moves committed outbox rows to them, the two ways jobs run (arq workers on Redis, or
in this process), retries with backoff and the dead-letter table.

A job is `async def job(ctx, arg) -> None`, the shape arq calls. For an outbox
subscription `arg` is the event {"id", "source", "topic", "payload"}; a job enqueued by
another job (a fan-out batch, one mail) gets the dict it was given. Jobs are named
`<service>.<action>`, are idempotent (a unique key per effect, so a second run changes
nothing) and are retried with backoff; after `job_max_tries` attempts they are parked in
their service's `failed_job` table, from where an admin can replay them.

Delivery is at least once: the relay marks an outbox row delivered only after every
subscriber's job is enqueued (arq) or has run or been recorded for retry (in-process), in
the same transaction as the mark. A crash in between delivers the row again; the
idempotent jobs make that harmless."""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from shared.database import session_scope, utcnow
from shared.errors import BadUserInput, NotFound
from shared.outbox import FailedJob, OutboxEvent

log = structlog.get_logger("hubben.jobs")

Job = Callable[[dict[str, Any], dict[str, Any]], Awaitable[None]]
# arq keeps an enqueued job this long waiting for a worker (its default is a day).
QUEUE_EXPIRY = timedelta(days=30)
# Joins a failed job's key and the fresh arq job id it is enqueued under when run again.
REPLAY_MARK = ":again:"


@dataclass(frozen=True)
class Subscription:
    name: str  # "<service>.<action>", also the job's name under arq
    topics: frozenset[str]
    job: Job


@dataclass(frozen=True)
class Periodic:
    """A job run on a schedule: every minute, or at minute 0 of every hour."""

    name: str
    job: Job
    hourly: bool = False


@dataclass
class Registry:
    subscriptions: list[Subscription] = field(default_factory=list)
    tasks: dict[str, Job] = field(default_factory=dict)
    periodic: list[Periodic] = field(default_factory=list)

    def add(self, name: str, topics: set[str], job: Job) -> None:
        """Subscribe `job` to outbox events of these topics (from any service)."""
        self.subscriptions.append(Subscription(name, frozenset(topics), job))
        self.tasks[name] = job

    def task(self, name: str, job: Job) -> None:
        """A job other jobs enqueue by name (ctx["jobs"].enqueue)."""
        self.tasks[name] = job

    def every(self, name: str, job: Job, *, hourly: bool = False) -> None:
        self.periodic.append(Periodic(name, job, hourly))
        self.tasks[name] = job

    def for_topic(self, topic: str) -> list[Subscription]:
        return [s for s in self.subscriptions if topic in s.topics]

    def job(self, name: str) -> Job:
        return self.tasks[name]


def event_key(event: dict[str, Any], job: str) -> str:
    """The unique key of one job's effect of one event (also its arq job id)."""
    return f"{job}:{event['source']}:{event['id']}"


def service_of(job: str) -> str:
    return job.split(".", 1)[0]


def retry_delay(base: float, attempt: int) -> float:
    """Seconds before attempt `attempt + 1`: doubling from `base`, at most a minute."""
    return float(min(base * 2 ** (attempt - 1), 60.0))


class JobQueue(Protocol):
    """How jobs reach a runner: `ctx["jobs"]` in every job."""

    async def enqueue(self, name: str, arg: dict[str, Any], key: str) -> None: ...

    async def redeliver(self, service: str, row: FailedJob, session: AsyncSession) -> None:
        """Run or enqueue a failed job again; the caller commits the row's new state."""


def _describe(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()[:2000]


async def park(
    ctx: dict[str, Any], name: str, arg: dict[str, Any], key: str, exc: BaseException, attempts: int, *, dead: bool
) -> None:
    """Record a failure in the job's service: due again after a backoff, or dead."""
    settings = ctx["settings"]
    now = utcnow()
    async with session_scope(ctx["sessionmakers"][service_of(name)]) as s:
        s.add(
            FailedJob(
                job=name,
                key=key,
                arg=arg,
                attempts=attempts,
                error=_describe(exc),
                failed_at=now,
                next_attempt_at=None
                if dead
                else now + timedelta(seconds=retry_delay(settings.job_retry_seconds, attempts)),
                dead_at=now if dead else None,
            )
        )
    log.warning("job.failed", job=name, key=key, attempts=attempts, dead=dead, error=_describe(exc))


class InProcessQueue:
    """Runs a job at once in this process. A failure is recorded in `failed_job` for a
    later attempt (the retry pump), so the caller goes on; if even that record cannot be
    written, the error propagates and the caller's own delivery is retried."""

    def __init__(self, ctx: dict[str, Any], registry: Registry) -> None:
        self.ctx = ctx
        self.registry = registry

    async def enqueue(self, name: str, arg: dict[str, Any], key: str) -> None:
        try:
            await self.registry.job(name)(self.ctx, arg)
        except Exception as exc:
            dead = self.ctx["settings"].job_max_tries <= 1
            await park(self.ctx, name, arg, key, exc, 1, dead=dead)

    async def redeliver(self, service: str, row: FailedJob, session: AsyncSession) -> None:
        settings = self.ctx["settings"]
        try:
            await self.registry.job(row.job)(self.ctx, row.arg)
        except Exception as exc:
            row.attempts += 1
            row.error = _describe(exc)
            row.failed_at = utcnow()
            if row.attempts >= settings.job_max_tries:
                row.next_attempt_at, row.dead_at = None, utcnow()
            else:
                row.next_attempt_at = utcnow() + timedelta(
                    seconds=retry_delay(settings.job_retry_seconds, row.attempts)
                )
            log.warning("job.failed", job=row.job, key=row.key, attempts=row.attempts, dead=row.dead_at is not None)
            return
        await session.delete(row)


class ArqQueue:
    """Enqueues on Redis for `hubben worker` (arq). The job id is the effect's key, so an
    event delivered twice is enqueued once while arq remembers the first."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool

    async def enqueue(self, name: str, arg: dict[str, Any], key: str) -> None:
        await self.pool.enqueue_job(name, arg, _job_id=key, _expires=QUEUE_EXPIRY)

    async def redeliver(self, service: str, row: FailedJob, session: AsyncSession) -> None:
        row.replays += 1
        await self.pool.enqueue_job(
            row.job, row.arg, _job_id=f"{row.key}{REPLAY_MARK}{row.id}:{row.replays}", _expires=QUEUE_EXPIRY
        )
        await session.delete(row)


def arq_function(name: str, job: Job) -> Callable[..., Awaitable[None]]:
    """Wrap a job for arq: transient failures retry with backoff (arq retries only on
    `Retry`); after the last try the job is parked as a dead letter. If even parking
    fails (its database is down), arq is asked to try again later rather than drop it."""
    from arq import Retry

    async def run(ctx: dict[str, Any], arg: dict[str, Any]) -> None:
        settings = ctx["settings"]
        try:
            # Our own limit, inside arq's (which is a little longer): a job that overruns
            # is retried and parked like any failure; arq would drop it for good.
            async with asyncio.timeout(settings.job_timeout_seconds):
                await job(ctx, arg)
        except Exception as exc:
            attempt = int(ctx.get("job_try", 1))
            if attempt < settings.job_max_tries:
                raise Retry(defer=retry_delay(settings.job_retry_seconds, attempt)) from exc
            # A replayed job runs under a fresh arq id (ArqQueue.redeliver); park it under
            # the effect's own key, so keys do not grow with every replay.
            key = str(ctx.get("job_id") or name).split(REPLAY_MARK, 1)[0]
            try:
                await park(ctx, name, arg, key, exc, attempt, dead=True)
            except Exception as park_exc:
                log.error("job.park_failed", job=name, error=_describe(park_exc))
                raise Retry(defer=30) from park_exc

    run.__qualname__ = name
    return run


class OutboxRelay:
    """Moves one service's committed outbox rows, in id order, to their subscribers."""

    def __init__(
        self,
        source: str,
        maker: async_sessionmaker[AsyncSession],
        registry: Registry,
        queue: JobQueue,
        batch: int = 200,
    ) -> None:
        self.source = source
        self.maker = maker
        self.registry = registry
        self.queue = queue
        self.batch = batch
        self.wake = asyncio.Event()
        # SKIP LOCKED keeps processes apart on PostgreSQL; within one process (and on SQLite,
        # which has no row locks) the loop and a drain() must not pump the same rows twice.
        self.lock = asyncio.Lock()

    async def pump(self) -> int:
        """Deliver one batch; returns how many rows were delivered. A delivery that fails
        (Redis down, say) stops the batch at its row, keeping order, and raises after the
        commit of what went before."""
        async with self.lock:
            return await self._pump()

    async def _pump(self) -> int:
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
                        await self.queue.enqueue(sub.name, event, event_key(event, sub.name))
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

    async def run(self, idle_seconds: float = 0.2) -> None:
        """Deliver until cancelled: promptly when woken after a commit, else every idle_seconds."""
        await _loop(self.drain, self.wake, idle_seconds, f"{self.source}-outbox")


class RetryPump:
    """Runs (in-process) or re-enqueues (arq) one service's failed jobs when they are due,
    including dead letters an admin asked to replay."""

    def __init__(self, service: str, maker: async_sessionmaker[AsyncSession], queue: JobQueue, batch: int = 100):
        self.service = service
        self.maker = maker
        self.queue = queue
        self.batch = batch
        self.wake = asyncio.Event()
        self.lock = asyncio.Lock()  # as OutboxRelay's: one pump at a time in this process

    async def pump(self) -> int:
        async with self.lock:
            return await self._pump()

    async def _pump(self) -> int:
        async with session_scope(self.maker) as session:
            stmt = (
                select(FailedJob)
                .where(col(FailedJob.dead_at).is_(None), col(FailedJob.next_attempt_at) <= utcnow())
                .order_by(col(FailedJob.next_attempt_at))
                .limit(self.batch)
                .with_for_update(skip_locked=True)
            )
            rows = list((await session.execute(stmt)).scalars())
            for row in rows:
                await self.queue.redeliver(self.service, row, session)
        return len(rows)

    async def drain(self) -> int:
        total = 0
        while n := await self.pump():
            total += n
            if n < self.batch:
                break
        return total

    async def run(self, idle_seconds: float = 0.5) -> None:
        await _loop(self.drain, self.wake, idle_seconds, f"{self.service}-retries")


async def _loop(work: Callable[[], Awaitable[int]], wake: asyncio.Event, idle_seconds: float, name: str) -> None:
    backoff = 0.1
    while True:
        try:
            await work()
            backoff = 0.1
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a server is away: wait and try again, ever more slowly
            log.warning("jobs.loop_failed", loop=name, error=repr(exc), retry_in=backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)
            continue
        # Not asyncio.wait_for: on Python 3.11 it swallows a cancellation that arrives as
        # the wake-up does, and the loop would never stop (JobHost.stop hung on it).
        try:
            async with asyncio.timeout(idle_seconds):
                await wake.wait()
        except TimeoutError:
            pass
        wake.clear()


async def replay(maker: async_sessionmaker[AsyncSession], failed_job_id: int) -> FailedJob:
    """Make a dead letter due again; its service's retry pump runs it. Raises NotFound for
    an unknown id and BadUserInput for a job that is still being retried."""
    async with session_scope(maker) as s:
        row = await s.get(FailedJob, failed_job_id, with_for_update=True)
        if row is None:
            raise NotFound("no such failed job", field="id")
        if row.dead_at is None:
            raise BadUserInput("this job is still being retried; only dead jobs can be replayed", field="id")
        row.dead_at = None
        row.attempts = 0
        row.next_attempt_at = utcnow()
        return row
