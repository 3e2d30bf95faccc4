"""Fault tests against real PostgreSQL and Redis: nothing is lost when Redis or a worker
goes away for a while. Each test runs its own redis-server (with an append-only file, as a
production Redis keeps its queue), so stopping it disturbs nobody else."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as aioredis
from sqlalchemy import func, insert, select, update

from services.feed.models import Bell, FollowCopy, Notification, SourceStats
from services.feed.timelines import KEY_PREFIX, READY, SENTINEL
from shared.ids import from_global_id
from shared.outbox import FailedJob
from shared.settings import Settings
from tests.conftest import PG_URL, Api, Session, make_settings, poll, require_server, served_app
from tests.redis_process import RedisProcess
from tests.services.feed.test_notifications import SET_BELL, make_hub, make_org, notifications, post
from tests.test_split_mode import HUBBEN, hubben_env

FOLLOW = "mutation($t: ID!) { follow(input: {targetId: $t}) { following userErrors { message } } }"
HOME = "query { homeFeed(first: 20) { nodes { ... on Post { id } } } }"


def raw(global_id: str) -> int:
    return int(from_global_id(global_id)[1])


@asynccontextmanager
async def gateway(settings: Settings) -> AsyncIterator[Api]:
    async with served_app(settings) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hubben.test", timeout=30) as http:
            yield Api(http=http, app=app, backend="postgres")


async def hub_with_author(api: Api) -> tuple[Session, str]:
    author = await api.sign_up()
    hub = await make_hub(author, (await make_org(author))["id"])
    await api.settle()  # the feed knows the author is the hub's admin
    return author, hub["id"]


async def dead_jobs(api: Api) -> list[tuple[str, str]]:
    out = []
    for service_app in (api.app.state.graph_app, api.app.state.feed_app):
        async with service_app.state.sessionmaker() as s:
            out += [(r.job, r.error) for r in (await s.execute(select(FailedJob))).scalars()]
    return out


async def test_posts_made_while_redis_is_down_reach_every_timeline_and_bell_once_it_is_back(tmp_path: Path) -> None:
    require_server("PostgreSQL", "127.0.0.1", 5432)
    server = RedisProcess(tmp_path / "redis")
    server.start()
    settings = make_settings("postgres", tmp_path / "var").model_copy(update={"redis_url": server.url})
    try:
        async with gateway(settings) as api:
            author, hub = await hub_with_author(api)
            followers = [await api.sign_up() for _ in range(4)]
            for f in followers:
                await f.ok(FOLLOW, {"t": hub})
                await f.ok(SET_BELL, {"t": hub, "on": True})
            await api.settle()
            for f in followers:  # reading the home feed builds the member's timeline
                assert (await f.ok(HOME))["homeFeed"]["nodes"] == []
            redis = aioredis.from_url(server.url)
            for f in followers:
                assert await redis.exists(f"{KEY_PREFIX}{raw(f.id)}")

            server.stop()
            posts = [await post(author, f"Inlägg {i} medan Redis är nere", hubId=hub) for i in range(3)]
            # Accepted, stored and readable from the database while Redis is away.
            for f in followers:
                home = [n["id"] for n in (await f.ok(HOME))["homeFeed"]["nodes"]]
                assert home == posts[::-1]
            # Nothing was delivered yet: the relays hold the events in the outbox.
            async with api.app.state.feed_app.state.sessionmaker() as s:
                assert await s.scalar(select(func.count()).select_from(Notification)) == 0

            server.start()

            async def delivered() -> bool:
                for f in followers:
                    held = {int(m) for m in await redis.zrange(f"{KEY_PREFIX}{raw(f.id)}", 0, -1) if m != b"~"}
                    if not {raw(p) for p in posts} <= held:
                        return False
                return True

            await poll(delivered, within=60, interval=0.1)
            await api.settle(within=60)
            for f in followers:
                found = await notifications(f)
                assert sorted(n["kind"] for n in found) == ["HUB_POST"] * 3, found
                held = [int(m) for m in await redis.zrevrange(f"{KEY_PREFIX}{raw(f.id)}", 0, -1) if m != b"~"]
                assert held == [raw(p) for p in posts[::-1]]  # each exactly once, newest first
                assert [n["id"] for n in (await f.ok(HOME))["homeFeed"]["nodes"]] == posts[::-1]
            assert await dead_jobs(api) == []
            await redis.aclose()
    finally:
        server.stop()


FOLLOWERS = 20_000
FAKE_BASE = 10**15  # follower ids of bulk-made members, apart from every real snowflake


async def add_bulk_followers(api: Api, hub_id: int, server: RedisProcess) -> list[int]:
    """FOLLOWERS members who follow the hub with its bell on and have read their home feed
    (an empty ready timeline), made in bulk: going through sign-up 20,000 times would test
    nothing more here."""
    members = [FAKE_BASE + i for i in range(FOLLOWERS)]
    async with api.app.state.feed_app.state.sessionmaker() as s:
        await s.execute(
            insert(FollowCopy),
            [{"follower_id": m, "target_type": "hub", "target_id": hub_id, "follow_id": m} for m in members],
        )
        await s.execute(insert(Bell), [{"member_id": m, "target_type": "hub", "target_id": hub_id} for m in members])
        stats = await s.get(SourceStats, ("hub", hub_id))
        if stats is None:
            s.add(SourceStats(target_type="hub", target_id=hub_id, followers=FOLLOWERS))
        else:
            await s.execute(
                update(SourceStats)
                .where(SourceStats.target_type == "hub", SourceStats.target_id == hub_id)  # type: ignore[arg-type]
                .values(followers=SourceStats.followers + FOLLOWERS)
            )
        await s.commit()
    redis = aioredis.from_url(server.url)
    async with redis.pipeline(transaction=False) as pipe:
        for m in members:
            pipe.zadd(f"{KEY_PREFIX}{m}", {SENTINEL: READY})
        await pipe.execute()
    await redis.aclose()
    return members


async def holding(redis: Any, members: list[int], entry_id: int) -> int:
    async with redis.pipeline(transaction=False) as pipe:
        for m in members:
            pipe.zscore(f"{KEY_PREFIX}{m}", entry_id)
        return sum(score is not None for score in await pipe.execute())


async def bell_notifications(api: Api, entry_id: int) -> tuple[int, int]:
    """(rows, distinct recipients) of hub-post notifications about the entry."""
    async with api.app.state.feed_app.state.sessionmaker() as s:
        stmt = select(func.count(), func.count(func.distinct(Notification.recipient_id))).where(
            Notification.subject_id == entry_id  # type: ignore[arg-type]
        )
        rows, recipients = (await s.execute(stmt)).one()
    return int(rows), int(recipients)


def start_worker(env: dict[str, str], workdir: Path, n: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [HUBBEN, "worker"],
        env=env,
        cwd=workdir,
        stdin=subprocess.DEVNULL,
        stdout=(workdir / f"worker-{n}.log").open("wb"),
        stderr=subprocess.STDOUT,
    )


async def test_a_worker_killed_in_the_middle_of_a_large_fan_out_finishes_it_after_restart(tmp_path: Path) -> None:
    """After the restart every follower holds the post exactly once and has exactly one
    notification of it, however far the killed worker had got."""
    require_server("PostgreSQL", "127.0.0.1", 5432)
    server = RedisProcess(tmp_path / "redis")
    server.start()
    var = tmp_path / "var"
    base = make_settings("postgres", var)
    # Small fan-out batches, so the fan-out is many jobs long; a short job timeout, so the
    # killed worker's jobs are taken up again soon; no source too widely followed to fan out.
    tuning = {"fanout_batch": 250, "job_timeout_seconds": 3, "job_retry_seconds": 0.05, "fanout_max_followers": 10**6}
    # The gateway runs no jobs; `hubben worker` processes do.
    settings = base.model_copy(update={"redis_url": server.url, "run_jobs_in_process": False, **tuning})
    env = hubben_env(
        var_dir=str(var),
        database_url=PG_URL,
        database_schema_prefix=settings.database_schema_prefix,
        redis_url=server.url,
        job_queue=settings.job_queue,
        demo_data="false",
        environment="test",
        **{k: str(v) for k, v in tuning.items()},
    )
    worker: subprocess.Popen[bytes] | None = None
    try:
        async with gateway(settings) as api:  # migrates the schema the worker needs
            worker = start_worker(env, tmp_path, 1)
            author, hub = await hub_with_author(api)
            members = await add_bulk_followers(api, raw(hub), server)
            redis = aioredis.from_url(server.url)

            post_id = raw(await post(author, "Till alla tjugotusen", hubId=hub))

            async def partly() -> int:
                n = await holding(redis, members, post_id)
                return n if 0 < n < FOLLOWERS else 0

            seen = await poll(partly, within=60, interval=0.005)
            os.kill(worker.pid, signal.SIGKILL)  # no chance to finish or clean up
            worker.wait(timeout=15)
            cut_at = await holding(redis, members, post_id)
            assert seen <= cut_at < FOLLOWERS, "the worker was not killed in the middle of the fan-out"

            worker = start_worker(env, tmp_path, 2)

            async def complete() -> bool:
                return await holding(redis, members, post_id) == FOLLOWERS

            await poll(complete, within=120, interval=0.2)
            await poll(lambda: bell_notifications(api, post_id), within=60)

            async def all_notified() -> bool:
                return await bell_notifications(api, post_id) == (FOLLOWERS, FOLLOWERS)

            await poll(all_notified, within=120, interval=0.2)
            await api.settle(within=120)
            # Exactly once: one entry per timeline (sentinel + the post), one row per follower.
            async with redis.pipeline(transaction=False) as pipe:
                for m in members:
                    pipe.zcard(f"{KEY_PREFIX}{m}")
                assert set(await pipe.execute()) == {2}
            assert await bell_notifications(api, post_id) == (FOLLOWERS, FOLLOWERS)
            assert await dead_jobs(api) == []
            await redis.aclose()
            worker.terminate()  # before the schema goes
            worker.wait(timeout=30)
    finally:
        if worker is not None and worker.poll() is None:
            worker.terminate()
            worker.wait(timeout=30)
        server.stop()
