"""The PostgreSQL pool checks a connection before use only after it sat idle: a connection the
server dropped is then replaced without the caller noticing; a busy one is used as it is,
and if the server dropped it anyway the call fails once and the pool recovers."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from shared.database import make_engine
from tests.conftest import PG_URL, make_settings, require_server


@pytest.fixture(autouse=True)
def _postgres() -> None:
    require_server("PostgreSQL", "127.0.0.1", 5432)


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("select pg_backend_pid()"))).scalar_one())


async def _terminate(pid: int) -> None:
    """Drop one server connection, as a restart or an idle timeout on the server would."""
    admin = create_async_engine(PG_URL)
    try:
        async with admin.connect() as conn:
            assert (await conn.execute(text("select pg_terminate_backend(:p)"), {"p": pid})).scalar_one()
            await conn.commit()
    finally:
        await admin.dispose()


def _engine(tmp_path: Path, idle_seconds: float) -> AsyncEngine:
    settings = make_settings("postgres", tmp_path).model_copy(
        update={"database_ping_after_idle_seconds": idle_seconds, "database_pool_size": 1}
    )
    return make_engine(settings, "graph")


async def test_an_idle_connection_the_server_dropped_is_replaced_before_use(tmp_path: Path) -> None:
    engine = _engine(tmp_path, idle_seconds=0.0)  # every reuse counts as idle: always checked
    try:
        first = await _backend_pid(engine)
        await _terminate(first)
        second = await _backend_pid(engine)  # no error: the check found it dead and reconnected
        assert second != first
    finally:
        await engine.dispose()


async def test_a_busy_connection_is_used_unchecked_so_a_dropped_one_fails_once_then_the_pool_recovers(
    tmp_path: Path,
) -> None:
    engine = _engine(tmp_path, idle_seconds=3600.0)
    try:
        first = await _backend_pid(engine)
        assert await _backend_pid(engine) == first  # reused
        await _terminate(first)
        # Not checked before use (it was idle less than the setting), so this call meets the
        # dropped connection; SQLAlchemy sees the disconnect and refreshes the pool.
        with pytest.raises(DBAPIError) as failed:
            await _backend_pid(engine)
        assert failed.value.connection_invalidated
        assert await _backend_pid(engine) != first
    finally:
        await engine.dispose()
