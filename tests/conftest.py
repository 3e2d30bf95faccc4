"""Test fixtures: the whole app against SQLite and (when reachable, always in CI) PostgreSQL.

Each backend gets its own database (a fresh SQLite file; a fresh PostgreSQL schema built
by the migrations), tables are emptied between tests, and data is made through the
public API or the services' own functions, so tests obey the same rules as production."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import col

from shared.cli import SERVICES
from shared.settings import Settings

# Argon2 at production cost takes ~0.4 s a hash on these machines; tests use the minimum
# (the production parameters are exercised by test_password_hash_uses_configured_cost).
os.environ.setdefault("HUBBEN_PASSWORD_HASH_TIME_COST", "1")
os.environ.setdefault("HUBBEN_PASSWORD_HASH_MEMORY_KIB", "1024")
os.environ.setdefault("HUBBEN_PASSWORD_HASH_PARALLELISM", "1")

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_URL = os.environ.get("HUBBEN_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
# Each pytest-xdist worker gets its own Redis database (tests flush theirs between tests).
_XDIST_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:] or 0)
REDIS_URL = os.environ.get("HUBBEN_TEST_REDIS_URL", f"redis://127.0.0.1:6379/{15 - _XDIST_WORKER}")


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_server(name: str, host: str, port: int) -> None:
    """A missing server skips locally but fails in CI, where the servers are mandatory."""
    if reachable(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}"
    if IN_CI:
        pytest.fail(f"{message}; CI requires it")
    pytest.skip(message)


def engine_url(backend: str, tmp_path: Path, name: str) -> str:
    """The URL of a test's own engine: PostgreSQL's test database (the server required), or a
    SQLite file `name` under tmp_path."""
    if backend == "postgres":
        require_server("PostgreSQL", "127.0.0.1", 5432)
        return PG_URL
    return f"sqlite+aiosqlite:///{tmp_path / name}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked postgres_only (they examine Redis, which only the PostgreSQL backend runs
    with) are not collected for the SQLite backend, rather than skipped."""
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        params = getattr(item, "callspec", None)
        on_sqlite = params is not None and params.params.get("backend") == "sqlite"
        (drop if on_sqlite and item.get_closest_marker("postgres_only") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@dataclass
class Api:
    """A GraphQL client bound to one running gateway, with helpers to make members."""

    http: httpx.AsyncClient
    app: Any
    backend: str
    _n: int = field(default=0)

    async def gql(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        r = await self.http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
        body = r.json()
        body["_status"] = r.status_code
        # A request error (refused before execution) has no `data` entry; tests read it as null.
        body.setdefault("data", None)
        return body

    async def ok(self, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> dict[str, Any]:
        """Run an operation that must succeed without GraphQL errors or userErrors; return data."""
        body = await self.gql(query, variables, token)
        assert "errors" not in body, body
        for value in (body.get("data") or {}).values():
            if isinstance(value, dict) and value.get("userErrors"):
                raise AssertionError(value["userErrors"])
        return body["data"]  # type: ignore[no-any-return]

    def unique(self, prefix: str = "m") -> str:
        self._n += 1
        return f"{prefix}{self._n}_{uuid.uuid4().hex[:6]}"

    async def sign_up(self, handle: str | None = None, password: str = "correct horse battery") -> Session:
        handle = handle or self.unique()
        data = await self.ok(
            """mutation($input: SignUpInput!) { signUp(input: $input) {
                 session { accessToken refreshToken member { id handle } } userErrors { field message code } } }""",
            {
                "input": {
                    "email": f"{handle}@example.se",
                    "password": password,
                    "handle": handle,
                    "displayName": handle.title(),
                }
            },
        )
        s = data["signUp"]["session"]
        return Session(
            self, s["member"]["id"], handle, s["accessToken"], s["refreshToken"], f"{handle}@example.se", password
        )

    async def settle(self, within: float = 30.0) -> None:
        """Wait until every job caused so far has run: no outbox row undelivered, no job
        waiting for a retry, no arq job queued or running (a job stays in arq's queue until
        it ends). Seen quiet twice in a row, since a finishing job records new events."""
        from sqlalchemy import func, select

        from shared.outbox import FailedJob, OutboxEvent

        app = self.app
        redis = app.state.redis

        async def quiet() -> bool:
            if redis is not None and await redis.zcard(app.state.settings.job_queue):
                return False
            for service_app in (
                app.state.graph_app,
                app.state.feed_app,
                app.state.search_app,
                app.state.moderation_app,
            ):
                async with service_app.state.sessionmaker() as s:
                    pending = select(func.count()).where(col(OutboxEvent.dispatched_at).is_(None))
                    retrying = select(func.count()).where(col(FailedJob.dead_at).is_(None))
                    if (await s.execute(pending)).scalar_one() or (await s.execute(retrying)).scalar_one():
                        return False
            return True

        async def twice() -> bool:
            return await quiet() and await quiet()

        await poll(twice, within=within)

    async def graph_session(self) -> Any:
        return self.app.state.graph_app.state.sessionmaker()

    async def make_admin(self, role: str = "admin") -> Session:
        """A platform admin or moderator, made the way `hubben admin create` makes one."""
        from services.graph import contracts as c
        from services.graph.service.identity import create_member

        handle = self.unique(role[:3])
        async with await self.graph_session() as db:
            await create_member(
                db,
                c.SignUpIn(
                    email=f"{handle}@example.se", password="correct horse battery", handle=handle, display_name=handle
                ),
                platform_role=role,
                verified=True,
            )
            await db.commit()
        data = await self.ok(
            """mutation($i: LogInInput!) { logIn(input: $i) { session { accessToken refreshToken member { id } }
               userErrors { message } } }""",
            {"i": {"email": f"{handle}@example.se", "password": "correct horse battery"}},
        )
        s = data["logIn"]["session"]
        return Session(
            self,
            s["member"]["id"],
            handle,
            s["accessToken"],
            s["refreshToken"],
            f"{handle}@example.se",
            "correct horse battery",
        )

    async def outbox(self, topic: str) -> list[dict[str, Any]]:
        from sqlalchemy import select

        from shared.outbox import OutboxEvent

        async with await self.graph_session() as db:
            rows = (
                await db.execute(select(OutboxEvent).where(OutboxEvent.topic == topic).order_by(OutboxEvent.id))
            ).scalars()
            return [r.payload for r in rows]


@dataclass
class Session:
    api: Api
    id: str
    handle: str
    token: str
    refresh_token: str
    email: str
    password: str

    async def gql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.api.gql(query, variables, self.token)

    async def ok(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.api.ok(query, variables, self.token)


def make_settings(backend: str, tmp: Path) -> Settings:
    # Each app gets its own arq queue: apps sharing the test Redis never take each other's jobs.
    common: dict[str, Any] = {
        "var_dir": tmp,
        "demo_data": False,
        "environment": "test",
        "job_queue": f"arq:queue:test-{uuid.uuid4().hex[:10]}",
        # The API's rate limits are for real callers, not a suite's thousands of calls from one
        # address; tests of the limits set their own (tests/services/gateway/test_rate_limits.py).
        "rate_limit_anonymous_points": 10_000_000,
        "rate_limit_member_points": 10_000_000,
        "rate_limit_token_points": 10_000_000,
    }
    if backend == "postgres":
        # The production shape: PostgreSQL, with jobs on arq and timelines in Redis. SQLite
        # runs the embedded default: jobs in-process, no Redis.
        return Settings(
            **common,
            database_url=PG_URL,
            database_schema_prefix=f"t{uuid.uuid4().hex[:10]}_",
            database_pool_size=5,
            redis_url=REDIS_URL,
            job_retry_seconds=0.05,
            # Outside the embedded default the admin panel's key must be given.
            web_session_key=Fernet.generate_key().decode(),
        )
    return Settings(**common, job_retry_seconds=0.05)


async def _migrate(settings: Settings) -> None:
    from shared.cli import migrate_all

    await migrate_all(settings)


async def _drop_schema(settings: Settings) -> None:
    from shared.database import make_engine, schema_name

    engine = make_engine(settings, "graph")
    try:
        async with engine.begin() as conn:
            for service in SERVICES:
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema_name(settings, service)}" CASCADE'))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres":
        require_server("PostgreSQL", "127.0.0.1", 5432)
        require_server("Redis", "127.0.0.1", 6379)
    return request.param  # type: ignore[no-any-return]


@asynccontextmanager
async def served_app(settings: Settings) -> AsyncIterator[Any]:
    """The gateway app of these settings, started: on PostgreSQL in fresh schemas built by the
    migrations and dropped afterwards."""
    from services.gateway.app import create_app

    postgres = settings.database_url.startswith("postgresql")
    if postgres:
        await _migrate(settings)
    try:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            yield app
    finally:
        if postgres:
            await _drop_schema(settings)


@pytest.fixture(scope="session")
async def running_app(backend: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Any]:
    async with served_app(make_settings(backend, tmp_path_factory.mktemp(f"var-{backend}"))) as app:
        yield app


async def _empty_tables(app: Any) -> None:
    """Empty every service's tables and the search index, keeping the schemas."""
    await empty_service_tables({name: getattr(app.state, f"{name}_app").state.engine for name in SERVICES})
    await app.state.search_app.state.index.clear()


async def empty_service_tables(engines: dict[str, Any]) -> None:
    """Empty every table of these services, keeping the schemas."""
    from services.feed.models import TABLES as FEED_TABLES
    from services.graph.models import TABLES as GRAPH_TABLES
    from services.moderation.models import TABLES as MODERATION_TABLES
    from services.moderation.models import AuditEntry
    from services.search.models import TABLES as SEARCH_TABLES

    # The audit log refuses deletion (its database triggers); entries of earlier tests stay,
    # and tests read it by their own case, actor or target.
    moderation = [t for t in MODERATION_TABLES if t is not AuditEntry]
    tables_of = {"graph": GRAPH_TABLES, "feed": FEED_TABLES, "search": SEARCH_TABLES, "moderation": moderation}
    for service, engine in engines.items():
        names = [t.__tablename__ for t in tables_of[service]]
        for attempt in range(5):
            try:
                async with engine.begin() as conn:
                    if engine.dialect.name == "postgresql":
                        await conn.execute(text("TRUNCATE " + ", ".join(f'"{n}"' for n in names)))
                    else:
                        for n in names:
                            await conn.execute(text(f'DELETE FROM "{n}"'))
                break
            except DBAPIError as exc:
                # A job of the previous test may still be writing: TRUNCATE's locks can then
                # deadlock with it, and PostgreSQL picks one side. Ours tries again.
                if "deadlock" not in str(exc) or attempt == 4:
                    raise


async def _flush_redis(app: Any) -> None:
    from services.gateway.ratelimit import MemoryRateLimiter

    if app.state.redis is not None:
        await app.state.redis.flushdb()
    # The embedded default keeps rate-limit budgets in the process: each test starts afresh.
    limiter = getattr(app.state, "rate_limiter", None)
    if isinstance(limiter, MemoryRateLimiter):
        limiter.clear()


@pytest.fixture
async def api(running_app: Any, backend: str) -> AsyncIterator[Api]:
    await _empty_tables(running_app)
    await _flush_redis(running_app)
    transport = httpx.ASGITransport(app=running_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hubben.test") as http:
        yield Api(http=http, app=running_app, backend=backend)


async def poll(condition: Any, within: float = 10.0, interval: float = 0.02) -> Any:
    """Wait until `condition()` (sync or async) is truthy, or fail after `within` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)
