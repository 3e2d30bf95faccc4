"""Fan-out benchmark: one hub post to the home timelines of 100,000 followers.

    python -m bench.fanout [--followers 100000] [--runs 5] [--batch N] [--cap 50]

What it does, in one run of the script:
- a fresh PostgreSQL schema per service, built by the migrations, and a private
  redis-server (so nothing else shares its queue or memory);
- a hub and its owner made through the real services; 100,000 followers of the hub, plus
  1,000 more who muted the author, blocked them or were blocked by them (fan-out must
  leave those out), and unrelated blocks and mutes, inserted in bulk into the feed's copies
  (follow_copy, source_stats, block_copy, mute_copy) with COPY;
- every follower's timeline made beforehand and filled to the cap, so each delivery also
  trims, as in steady state;
- one `hubben worker` subprocess (one arq worker: max_jobs 20, poll_delay 0.05) that runs
  the real jobs; this process plays `hubben serve`: it creates the post through the feed
  service function, commits, and relays the outbox at once as serve does on commit;
- per run: the time from the commit until the last timeline insert job finished (arq's
  own finish time), then a check, outside the timing, that exactly the 100,000 followers'
  timelines hold the post and none of the 1,000 left out do;
- in the same run, the floors: `redis-benchmark -P 1000 -n 100000 -t zadd` (the Redis
  server's pipelined ZADD rate) and a bare redis-py pipeline of ZADD plus trim to 100,000
  keys (also without the trim).

Results: bench/results/fanout.json and bench/results/fanout.md. The private Redis keeps
sorted sets as skiplists at any size (zset-max-listpack-entries 0), the shape production
timelines of 800 entries have, while the benchmark's cap (50) keeps memory modest."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as aioredis
from sqlalchemy import text

from tests.redis_process import RedisProcess

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PG_URL = os.environ.get("HUBBEN_BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
EXCLUDED = 1_000  # followers fan-out must leave out: muted, blocked or blocked by the author
NOISE = 50_000  # unrelated blocks and mutes between followers
SKIPLIST = "0"  # zset-max-listpack-entries: skiplists at any size, as 800-entry timelines are


# --- the machine and what runs on it -----------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": mem_gib,
        "os": platform.platform(),
        # Whatever else runs here shares the cores with Redis, PostgreSQL and the worker.
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("redis", "arq", "sqlalchemy", "asyncpg", "fastapi"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


# --- set-up --------------------------------------------------------------------------------------


@dataclass
class Bench:
    """Everything a phase needs: the settings both processes share, this process's gateway
    app (graph and feed services in-process, jobs not run here), and what was made."""

    settings: Any
    app: Any
    redis: Any  # redis.asyncio client of the private server
    arq: Any  # arq pool on it, for relaying like `hubben serve`
    owner_id: int = 0
    hub_id: int = 0
    delivered: list[int] = field(default_factory=list)  # followers who get the post
    left_out: list[int] = field(default_factory=list)  # followers fan-out must leave out


async def gql(http: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str | None = None) -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    body = (await http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)).json()
    if body.get("errors"):
        raise RuntimeError(body["errors"])
    return body["data"]


async def make_hub(bench: Bench) -> None:
    """The hub's owner, organisation and hub, through the gateway like any client."""
    from shared.ids import from_global_id

    handle = f"bench{uuid.uuid4().hex[:8]}"
    transport = httpx.ASGITransport(app=bench.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hubben.bench") as http:
        data = await gql(
            http,
            """mutation($i: SignUpInput!) { signUp(input: $i) { session { accessToken member { id } } } }""",
            {
                "i": {
                    "email": f"{handle}@example.se",
                    "password": "correct horse battery",
                    "handle": handle,
                    "displayName": "Bench",
                }
            },
        )
        token = data["signUp"]["session"]["accessToken"]
        bench.owner_id = from_global_id(data["signUp"]["session"]["member"]["id"])[1]
        org = await gql(
            http,
            """mutation($i: CreateOrganisationInput!) { createOrganisation(input: $i) { organisation { id } } }""",
            {"i": {"slug": f"org-{handle}", "name": "AI Sweden", "kind": "OTHER"}},
            token,
        )
        hub = await gql(
            http,
            """mutation($i: CreateHubInput!) { createHub(input: $i) { hub { id } } }""",
            {
                "i": {
                    "slug": f"hub-{handle}",
                    "name": "Kraftsamlingen",
                    "organisationId": org["createOrganisation"]["organisation"]["id"],
                }
            },
            token,
        )
        bench.hub_id = from_global_id(hub["createHub"]["hub"]["id"])[1]


async def bulk_graph_copies(bench: Bench, followers: int) -> None:
    """The feed's copies of who follows, blocks and mutes whom, in bulk with COPY."""
    from shared.database import schema_name

    base = 10**15
    ids = [base + i for i in range(followers + EXCLUDED)]
    bench.delivered = ids[:followers]
    bench.left_out = ids[followers:]
    author = bench.owner_id
    third = EXCLUDED // 3
    mutes = [(m, author) for m in bench.left_out[:third]]
    blocks = [(m, author) for m in bench.left_out[third : 2 * third]]
    blocks += [(author, m) for m in bench.left_out[2 * third :]]
    # Unrelated blocks and mutes between followers: the filter must not be free because the tables are empty.
    mutes += [(ids[i % followers], ids[(i * 7 + 1) % followers]) for i in range(NOISE)]
    blocks += [(ids[i % followers], ids[(i * 13 + 5) % followers]) for i in range(NOISE)]
    engine = bench.app.state.feed_app.state.engine
    schema = schema_name(bench.settings, "feed")
    async with engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None
        await raw.copy_records_to_table(
            "follow_copy",
            records=[(m, "hub", bench.hub_id, m) for m in ids],
            columns=["follower_id", "target_type", "target_id", "follow_id"],
            schema_name=schema,
        )
        await raw.copy_records_to_table(
            "mute_copy", records=sorted(set(mutes)), columns=["muter_id", "muted_id"], schema_name=schema
        )
        await raw.copy_records_to_table(
            "block_copy", records=sorted(set(blocks)), columns=["blocker_id", "blocked_id"], schema_name=schema
        )
        await conn.execute(
            text(
                "INSERT INTO source_stats (target_type, target_id, followers) VALUES ('hub', :hub, :n) "
                "ON CONFLICT (target_type, target_id) DO UPDATE SET followers = EXCLUDED.followers"
            ),
            {"hub": bench.hub_id, "n": len(ids)},
        )
        await conn.commit()
    # As autovacuum leaves them: statistics, and a visibility map for index-only scans.
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        for table in ("follow_copy", "mute_copy", "block_copy", "source_stats"):
            await conn.execute(text(f"VACUUM ANALYZE {table}"))


# Made in Redis by a script: a sentinel and `cap` old entries per timeline (ids below any
# real one), so each delivery trims one, as timelines at their cap do.
_PREFILL = """
local cap = tonumber(ARGV[1])
local args = {-1, '~'}
for i = 1, cap do
  args[#args + 1] = i
  args[#args + 1] = tostring(i)
end
for i = 2, #ARGV do
  redis.call('DEL', 'hubben:timeline:' .. ARGV[i])
  redis.call('ZADD', 'hubben:timeline:' .. ARGV[i], unpack(args))
end
return #ARGV - 1
"""


async def prefill(redis: Any, members: list[int], cap: int, prefix: str = "hubben:timeline:") -> None:
    script = redis.register_script(_PREFILL.replace("hubben:timeline:", prefix))
    for i in range(0, len(members), 5_000):
        await script(keys=[], args=[cap, *members[i : i + 5_000]])


# --- one run ---------------------------------------------------------------------------------------


async def post_and_relay(bench: Bench, n: int) -> tuple[int, int, float]:
    """Create a hub post through the feed service function, commit, and relay the outbox
    as `hubben serve` does on commit. Returns the entry id, its outbox event id, and the
    wall-clock time of the commit."""
    from sqlalchemy import select
    from sqlmodel import col

    from services.feed import contracts as c
    from services.feed.service import posts
    from shared.auth import Principal
    from shared.jobs import ArqQueue, OutboxRelay
    from shared.outbox import OutboxEvent
    from shared.worker import build_registry

    feed = bench.app.state.feed_app
    actor = Principal(member_id=bench.owner_id)
    async with feed.state.sessionmaker() as s:
        post = await posts.create_post(
            s, bench.app.state.graph, actor, c.PostIn(body=f"Nyheter från hubben, nummer {n}", hub_id=bench.hub_id)
        )
        newest = select(col(OutboxEvent.id)).where(col(OutboxEvent.topic) == "post.created")
        event_id = (await s.execute(newest.order_by(col(OutboxEvent.id).desc()).limit(1))).scalar_one()
        await s.commit()
    committed = time.time()
    relay = OutboxRelay("feed", feed.state.sessionmaker, build_registry(), ArqQueue(bench.arq))
    await relay.drain()
    return post.id, int(event_id), committed


async def wait_done(bench: Bench, event_id: int, within: float = 120.0) -> None:
    """Until the fan-out job has finished and arq's queue is empty (arq keeps a job in its
    queue until it ends, and fan-out enqueues every batch before it ends)."""
    deadline = time.monotonic() + within
    fanout_result = f"arq:result:feed.fanout:feed:{event_id}"
    while time.monotonic() < deadline:
        if await bench.redis.exists(fanout_result) and not await bench.redis.zcard(bench.settings.job_queue):
            return
        await asyncio.sleep(0.02)  # a cheap probe every 20 ms; the timing comes from arq's records
    raise RuntimeError("fan-out did not finish in time")


async def insert_jobs(bench: Bench, entry_id: int) -> list[Any]:
    from arq.jobs import Job

    prefix = "arq:result:"
    keys = [k async for k in bench.redis.scan_iter(f"{prefix}feed.timeline_insert:{entry_id}:*", count=1000)]
    infos = [await Job(k.decode()[len(prefix) :], bench.redis).result_info() for k in keys]
    return [i for i in infos if i is not None]


async def count_holding(redis: Any, members: list[int], entry_id: int) -> int:
    held = 0
    for i in range(0, len(members), 10_000):
        async with redis.pipeline(transaction=False) as pipe:
            for m in members[i : i + 10_000]:
                pipe.zscore(f"hubben:timeline:{m}", entry_id)
            held += sum(1 for score in await pipe.execute() if score is not None)
    return held


async def run_once(bench: Bench, n: int) -> dict[str, Any]:
    from arq.jobs import Job

    entry_id, event_id, committed = await post_and_relay(bench, n)
    await wait_done(bench, event_id)
    jobs = await insert_jobs(bench, entry_id)
    paging = await Job(f"feed.fanout:feed:{event_id}", bench.redis).result_info()
    assert paging is not None
    finished = max(j.finish_time for j in jobs).timestamp()
    started = min(j.start_time for j in jobs).timestamp()
    failed = [j for j in jobs if not j.success]
    delivered = await count_holding(bench.redis, bench.delivered, entry_id)
    leaked = await count_holding(bench.redis, bench.left_out, entry_id)
    if failed or delivered != len(bench.delivered) or leaked:
        raise RuntimeError(f"run {n}: {delivered} delivered, {leaked} leaked, {len(failed)} failed jobs")
    seconds = finished - committed
    return {
        "seconds": round(seconds, 3),
        "fanout_job_started_after": round(paging.start_time.timestamp() - committed, 3),
        "fanout_job_seconds": round((paging.finish_time - paging.start_time).total_seconds(), 3),
        "first_insert_started_after": round(started - committed, 3),
        "insert_job_seconds_median": round(
            statistics.median((j.finish_time - j.start_time).total_seconds() for j in jobs), 4
        ),
        "insert_jobs": len(jobs),
        "deliveries": delivered,
        "deliveries_per_second": round(delivered / seconds),
        "left_out_checked": len(bench.left_out),
    }


BELLS = 10_000


async def bell_notifications_phase(bench: Bench, runs: int = 3) -> dict[str, Any]:
    """Notification rows for 10,000 bell subscribers of the hub (issue 4: within a further
    1 s after the timelines). Each run posts once; the clock runs from the post's commit
    until all 10,000 rows about it are committed (polled every 10 ms, so ±10 ms), and is
    also given after the last timeline insert of the same post."""
    from arq.jobs import Job
    from sqlalchemy import func, select

    from services.feed.models import Notification
    from shared.database import schema_name

    engine = bench.app.state.feed_app.state.engine
    async with engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None
        await raw.copy_records_to_table(
            "bell",
            records=[(m, "hub", bench.hub_id, datetime.now(UTC)) for m in bench.delivered[:BELLS]],
            columns=["member_id", "target_type", "target_id", "created_at"],
            schema_name=schema_name(bench.settings, "feed"),
        )
        await conn.commit()
    maker = bench.app.state.feed_app.state.sessionmaker
    results = []
    for n in range(runs):
        entry_id, event_id, committed = await post_and_relay(bench, 1000 + n)
        deadline = time.monotonic() + 60
        while True:
            async with maker() as s:
                rows = await s.scalar(
                    select(func.count()).where(Notification.subject_id == entry_id)  # type: ignore[arg-type]
                )
            if rows >= BELLS:
                done = time.time()
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {rows} bell notifications after 60 s")
            await asyncio.sleep(0.01)  # polling interval
        await wait_done(bench, event_id)
        jobs = await insert_jobs(bench, entry_id)
        timelines_done = max(j.finish_time for j in jobs).timestamp()
        paging = await Job(f"feed.fanout:feed:{event_id}", bench.redis).result_info()
        assert paging is not None
        results.append(
            {
                "rows": int(rows),
                "seconds_after_commit": round(done - committed, 3),
                "seconds_after_timelines": round(done - timelines_done, 3),
            }
        )
        print(f"bells run {n + 1}: {results[-1]}")
    return {
        "subscribers": BELLS,
        "runs": results,
        "median_seconds_after_commit": statistics.median(r["seconds_after_commit"] for r in results),
        "median_seconds_after_timelines": statistics.median(r["seconds_after_timelines"] for r in results),
        "worst_seconds_after_timelines": max(r["seconds_after_timelines"] for r in results),
    }


# --- the floors ------------------------------------------------------------------------------------


def redis_benchmark(port: int) -> dict[str, Any]:
    binary = shutil.which("redis-benchmark")
    if binary is None:
        return {"available": False}
    out: dict[str, Any] = {"available": True}
    for name, args in (
        ("zadd", ["-t", "zadd"]),
        # The same over 100,000 random keys, like one post to 100,000 timelines.
        ("zadd_random_keys", ["-r", "100000", "zadd", "floor:rb:__rand_int__", "1", "__rand_int__"]),
    ):
        cmd = [binary, "-h", "127.0.0.1", "-p", str(port), "-P", "1000", "-n", "100000", "-q", *args]
        text_out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True).stdout
        match = re.search(r"([\d.]+) requests per second", text_out)
        out[name] = {"command": " ".join(cmd[1:]), "requests_per_second": float(match.group(1)) if match else None}
    return out


async def redis_py_floor(redis: Any, members: list[int], cap: int, trim: bool) -> float:
    """A bare redis-py pipeline: ZADD (plus trim to the cap) to every member's key."""
    keys = [f"floor:tl:{m}" for m in members]
    await prefill(redis, members, cap, prefix="floor:tl:")
    entry = str(10**17)
    began = time.perf_counter()
    async with redis.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.zadd(key, {entry: entry})
            if trim:
                pipe.zremrangebyrank(key, 0, -(cap + 1))
        await pipe.execute()
    return time.perf_counter() - began


def redis_py_sync_floor(url: str, members: list[int], cap: int) -> float:
    """The same with redis-py's synchronous client (it packs commands faster than the asyncio
    one); timelines as redis_py_floor left them, at their cap."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        entry = str(10**17 + 1)
        began = time.perf_counter()
        pipe = client.pipeline(transaction=False)
        for m in members:
            key = f"floor:tl:{m}"
            pipe.zadd(key, {entry: entry})
            pipe.zremrangebyrank(key, 0, -(cap + 1))
        pipe.execute()
        return time.perf_counter() - began
    finally:
        client.close()


# --- the whole benchmark -------------------------------------------------------------------------


def worker_env(settings: Any) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        HUBBEN_DATABASE_URL=settings.database_url,
        HUBBEN_DATABASE_SCHEMA_PREFIX=settings.database_schema_prefix,
        HUBBEN_REDIS_URL=settings.redis_url,
        HUBBEN_VAR_DIR=str(settings.var_dir),
        HUBBEN_DEMO_DATA="false",
        HUBBEN_RUN_JOBS_IN_PROCESS="false",
        HUBBEN_TIMELINE_CAP=str(settings.timeline_cap),
        HUBBEN_FANOUT_BATCH=str(settings.fanout_batch),
        HUBBEN_FANOUT_MAX_FOLLOWERS=str(settings.fanout_max_followers),
        HUBBEN_LOG_LEVEL="warning",
    )
    return env


def start_worker(settings: Any, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(Path(sys.executable).parent / "hubben"), "worker"],
            env=worker_env(settings),
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def read_log(log: Path) -> str:
    return log.read_text(errors="replace")


async def wait_for_worker(proc: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(1500):
        if proc.poll() is not None:
            raise SystemExit(f"hubben worker exited:\n{read_log(log)}")
        if "jobs.started" in read_log(log):
            return
        await asyncio.sleep(0.02)
    raise SystemExit("hubben worker did not start")


async def server_versions(bench: Bench) -> dict[str, str]:
    info = await bench.redis.info("server")
    async with bench.app.state.feed_app.state.engine.connect() as conn:
        pg = (await conn.execute(text("SHOW server_version"))).scalar_one()
    return {"redis_server": str(info.get("redis_version")), "postgresql": str(pg)}


async def benchmark(followers: int, runs: int, batch: int | None, cap: int) -> dict[str, Any]:
    from arq.connections import ArqRedis

    from services.gateway.app import create_app
    from shared.cli import SERVICES, migrate_all
    from shared.database import make_engine, schema_name
    from shared.settings import Settings

    host = machine()  # before the benchmark loads the machine itself
    workdir = Path(tempfile.mkdtemp(prefix="hubben-bench-"))
    server = RedisProcess(workdir / "redis", persistent=False, options=("--zset-max-listpack-entries", SKIPLIST))
    worker: subprocess.Popen[bytes] | None = None
    settings = None
    try:
        server.start()
        overrides: dict[str, Any] = {"timeline_cap": cap, "fanout_max_followers": 10 * (followers + EXCLUDED)}
        if batch is not None:
            overrides["fanout_batch"] = batch
        settings = Settings(
            database_url=PG_URL,
            database_schema_prefix=f"bench{uuid.uuid4().hex[:8]}_",
            redis_url=server.url,
            var_dir=workdir / "var",
            demo_data=False,
            run_jobs_in_process=False,
            environment="test",
            password_hash_time_cost=1,
            password_hash_memory_kib=1024,
            password_hash_parallelism=1,
            **overrides,
        )
        await migrate_all(settings)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            redis = aioredis.from_url(settings.redis_url)
            arq = ArqRedis(
                connection_pool=aioredis.ConnectionPool.from_url(settings.redis_url),
                default_queue_name=settings.job_queue,
            )
            bench = Bench(settings=settings, app=app, redis=redis, arq=arq)
            try:
                print(f"set-up: hub, {followers:,} followers (+{EXCLUDED:,} left out), timelines at cap {cap}")
                await make_hub(bench)
                await bulk_graph_copies(bench, followers)
                await prefill(redis, bench.delivered + bench.left_out, cap)
                log = workdir / "worker.log"
                worker = start_worker(settings, log)
                await wait_for_worker(worker, log)
                print("warm-up run")
                warm = await run_once(bench, 0)
                measured = []
                for n in range(1, runs + 1):
                    result = await run_once(bench, n)
                    print(f"run {n}: {result['seconds']:.3f} s, {result['deliveries_per_second']:,} deliveries/s")
                    measured.append(result)
                bells = await bell_notifications_phase(bench)
                worker.terminate()
                worker.wait(timeout=30)
                worker = None

                print("floors: redis-benchmark and a bare redis-py pipeline")
                rb = redis_benchmark(server.port)
                floor_trim = [await redis_py_floor(redis, bench.delivered, cap, trim=True) for _ in range(3)]
                floor_plain = [await redis_py_floor(redis, bench.delivered, cap, trim=False) for _ in range(3)]
                floor_sync = [
                    await asyncio.to_thread(redis_py_sync_floor, settings.redis_url, bench.delivered, cap)
                    for _ in range(3)
                ]
                versions = {**package_versions(), **await server_versions(bench)}
            finally:
                await redis.aclose()
                await arq.aclose()
        floors = {"trim": floor_trim, "plain": floor_plain, "sync": floor_sync}
        return report(host, followers, settings, warm, measured, rb, floors, bells, versions)
    finally:
        if worker is not None and worker.poll() is None:
            worker.terminate()
            worker.wait(timeout=30)
        if settings is not None:
            engine = make_engine(settings, "graph")
            try:
                async with engine.begin() as conn:
                    for service in SERVICES:
                        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema_name(settings, service)}" CASCADE'))
            finally:
                await engine.dispose()
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def report(
    host: dict[str, Any],
    followers: int,
    settings: Any,
    warm: dict[str, Any],
    runs: list[dict[str, Any]],
    rb: dict[str, Any],
    floors: dict[str, list[float]],
    bells: dict[str, Any] | None,
    versions: dict[str, str],
) -> dict[str, Any]:
    floor_trim, floor_plain, floor_sync = floors["trim"], floors["plain"], floors["sync"]
    seconds = [r["seconds"] for r in runs]
    median = statistics.median(seconds)
    worst = max(seconds)
    rate = followers / median
    trim_s = statistics.median(floor_trim)
    plain_s = statistics.median(floor_plain)
    sync_s = statistics.median(floor_sync)
    rb_rate = (rb.get("zadd") or {}).get("requests_per_second")
    return {
        "scenario": "one hub post fanned out to the home timelines of its followers",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": host,
        "versions": versions,
        "setup": {
            "followers_delivered": followers,
            "followers_left_out": EXCLUDED,
            "unrelated_blocks_and_mutes": 2 * NOISE,
            "timeline_cap": settings.timeline_cap,
            "fanout_batch": settings.fanout_batch,
            "worker": "one `hubben worker` process: arq max_jobs 20, poll_delay 0.05",
            "zset_encoding": "skiplist (zset-max-listpack-entries 0)",
        },
        "target_seconds": 1.5,
        "warm_up": warm,
        "runs": runs,
        "median_seconds": median,
        "worst_seconds": worst,
        "median_deliveries_per_second": round(rate),
        "worst_deliveries_per_second": round(followers / worst),
        "floors": {
            "redis_benchmark": rb,
            "redis_py_pipeline_zadd_trim_seconds": [round(s, 3) for s in floor_trim],
            "redis_py_pipeline_zadd_trim_per_second": round(followers / trim_s),
            "redis_py_pipeline_zadd_seconds": [round(s, 3) for s in floor_plain],
            "redis_py_pipeline_zadd_per_second": round(followers / plain_s),
            "redis_py_sync_pipeline_zadd_trim_seconds": [round(s, 3) for s in floor_sync],
            "redis_py_sync_pipeline_zadd_trim_per_second": round(followers / sync_s),
        },
        "ratios": {
            "deliveries_vs_redis_benchmark_zadd": round(rate / rb_rate, 3) if rb_rate else None,
            "deliveries_vs_redis_py_zadd_trim": round(rate / (followers / trim_s), 3),
            "deliveries_vs_redis_py_sync_zadd_trim": round(rate / (followers / sync_s), 3),
        },
        "bell_notifications": bells,
    }


def _bells_md(b: dict[str, Any] | None) -> str:
    if b is None:
        return "not measured."
    runs = ", ".join(f"{x['seconds_after_commit']:.3f} s" for x in b["runs"])
    met = "met" if b["worst_seconds_after_timelines"] <= 1.0 else "**not met**"
    return (
        f"{b['subscribers']:,} rows per post; from the commit: {runs} (median "
        f"{b['median_seconds_after_commit']:.3f} s); relative to the post's last timeline insert (negative: the "
        f"rows were all written before the timelines were done): median "
        f"{b['median_seconds_after_timelines']:+.3f} s, worst {b['worst_seconds_after_timelines']:+.3f} s. "
        f"Target (within a further 1 s): {met}."
    )


def markdown(r: dict[str, Any]) -> str:
    m, v, s, f = r["machine"], r["versions"], r["setup"], r["floors"]
    rb = f["redis_benchmark"]
    s_delivered = s["followers_delivered"]
    lines = [
        f"# Fan-out: one hub post to {s_delivered:,} home timelines",
        "",
        f"Run {r['when']} on {m['cpu']} ({m['cores']} cores, {m['memory_gib']} GiB), {m['os']}.",
        f"Python {v.get('python')}, Redis {v.get('redis_server')}, PostgreSQL {v.get('postgresql')}, "
        f"redis-py {v.get('redis')}, arq {v.get('arq')}, SQLAlchemy {v.get('sqlalchemy')}.",
        "",
        f"{s['followers_delivered']:,} followers get the post; {s['followers_left_out']:,} more follow the hub but "
        f"muted, blocked or were blocked by the author and are left out by fan-out's query; "
        f"{s['unrelated_blocks_and_mutes']:,} unrelated blocks and mutes. Timelines are at their cap "
        f"({s['timeline_cap']}, skiplists) so every delivery also trims. Fan-out batch: {s['fanout_batch']}; "
        f"{s['worker']}. Time: from the post's commit to the end of the last timeline insert job. "
        f"Load average when the run began: {m['load_average']} (other work shares the cores).",
        "",
        "| | seconds | deliveries/s | paging job (s) | insert jobs |",
        "|---|---:|---:|---:|---:|",
    ]
    for n, run in enumerate(r["runs"], 1):
        lines.append(
            f"| run {n} | {run['seconds']:.3f} | {run['deliveries_per_second']:,} | "
            f"{run['fanout_job_seconds']:.3f} | {run['insert_jobs']} |"
        )
    lines += [
        f"| **median** | **{r['median_seconds']:.3f}** | **{r['median_deliveries_per_second']:,}** | | |",
        f"| worst | {r['worst_seconds']:.3f} | {r['worst_deliveries_per_second']:,} | | |",
        "",
        f"Target: all timelines within {r['target_seconds']} s of the commit: "
        + ("**met** (worst run)." if r["worst_seconds"] <= r["target_seconds"] else "**not met** by the worst run.")
        + (" Median met." if r["median_seconds"] <= r["target_seconds"] else ""),
        "",
        "| floor (same machine, same run) | rate/s | our deliveries/s ÷ floor |",
        "|---|---:|---:|",
    ]
    if rb.get("available"):
        zadd = rb["zadd"]["requests_per_second"]
        lines.append(
            f"| `redis-benchmark -P 1000 -n 100000 -t zadd` | {zadd:,.0f} | "
            f"{r['ratios']['deliveries_vs_redis_benchmark_zadd']} |"
        )
        rk = rb["zadd_random_keys"]["requests_per_second"]
        lines.append(
            f"| the same over 100,000 random keys | {rk:,.0f} | {round(r['median_deliveries_per_second'] / rk, 3)} |"
        )
    else:
        lines.append("| redis-benchmark | not installed | |")
    lines += [
        f"| redis-py (asyncio) pipeline, ZADD + trim to {s_delivered:,} keys "
        f"({statistics.median(f['redis_py_pipeline_zadd_trim_seconds']):.3f} s) | "
        f"{f['redis_py_pipeline_zadd_trim_per_second']:,} | {r['ratios']['deliveries_vs_redis_py_zadd_trim']} |",
        f"| redis-py (sync client) pipeline, ZADD + trim to {s_delivered:,} keys "
        f"({statistics.median(f['redis_py_sync_pipeline_zadd_trim_seconds']):.3f} s) | "
        f"{f['redis_py_sync_pipeline_zadd_trim_per_second']:,} | "
        f"{r['ratios']['deliveries_vs_redis_py_sync_zadd_trim']} |",
        f"| redis-py (asyncio) pipeline, ZADD only ({statistics.median(f['redis_py_pipeline_zadd_seconds']):.3f} s) | "
        f"{f['redis_py_pipeline_zadd_per_second']:,} | "
        f"{round(r['median_deliveries_per_second'] / f['redis_py_pipeline_zadd_per_second'], 3)} |",
        "",
        "Bell notifications for 10,000 subscribers: " + _bells_md(r["bell_notifications"]),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--followers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=None, help="fan-out batch (default: HUBBEN_FANOUT_BATCH)")
    parser.add_argument("--cap", type=int, default=50, help="timeline cap, and the entries each timeline starts with")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    result = asyncio.run(benchmark(args.followers, args.runs, args.batch, args.cap))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "fanout.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "fanout.md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
