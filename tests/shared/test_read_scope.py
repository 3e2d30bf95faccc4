"""read_scope, the unit of work of a GET: on PostgreSQL its statements run without an
explicit transaction, and on every database it refuses to write, before the database sees
the write; a service's GET gets it, every other method the committing session_scope."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import BigInteger, String, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.database import ReadOnlyViolation, make_sessionmaker, read_scope, session_scope
from shared.web import Session
from tests.conftest import engine_url


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "hubben_test_read_scope"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    body: Mapped[str] = mapped_column(String(40))


@pytest.fixture(params=["sqlite", "postgres"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with _notes(engine_url(request.param, tmp_path, "read_scope.db")) as made:
        yield made


@pytest.fixture
async def pg_engine() -> AsyncIterator[AsyncEngine]:
    async with _notes(engine_url("postgres", Path(), "")) as made:
        yield made


@asynccontextmanager
async def _notes(url: str) -> AsyncIterator[AsyncEngine]:
    made = create_async_engine(url)
    async with made.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
        await conn.run_sync(Base.metadata.create_all)
        await conn.execute(insert(Note), [{"id": 1, "body": "first"}, {"id": 2, "body": "second"}])
    try:
        yield made
    finally:
        async with made.begin() as conn:
            await conn.run_sync(Base.metadata.drop_all)
        await made.dispose()


async def _bodies(maker: async_sessionmaker) -> list[str]:  # type: ignore[type-arg]
    async with session_scope(maker) as session:
        return list((await session.execute(select(Note.body).order_by(Note.id))).scalars())


async def test_read_scope_reads(engine: AsyncEngine) -> None:
    maker = make_sessionmaker(engine)
    async with read_scope(maker) as session:
        assert (await session.get(Note, 2)).body == "second"  # type: ignore[union-attr]
        assert (await session.execute(select(func.count()).select_from(Note))).scalar_one() == 2


async def test_read_scope_runs_each_statement_on_its_own_on_postgresql(pg_engine: AsyncEngine) -> None:
    maker = make_sessionmaker(pg_engine)
    # txid_current() is the id of the transaction around the statement.
    async with read_scope(maker) as session:
        first = (await session.execute(text("SELECT txid_current()"))).scalar_one()
        second = (await session.execute(text("SELECT txid_current()"))).scalar_one()
        assert first != second
    async with session_scope(maker) as session:
        first = (await session.execute(text("SELECT txid_current()"))).scalar_one()
        second = (await session.execute(text("SELECT txid_current()"))).scalar_one()
        assert first == second
    # The pooled connection is back in transactions for the next unit of work.
    async with session_scope(maker) as session:
        assert (await session.execute(text("SHOW transaction_isolation"))).scalar_one() == "read committed"
        ids = {(await session.execute(text("SELECT txid_current()"))).scalar_one() for _ in range(2)}
        assert len(ids) == 1


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda s: s.execute(insert(Note).values(id=3, body="third")), id="insert"),
        pytest.param(lambda s: s.execute(update(Note).where(Note.id == 1).values(body="changed")), id="update"),
    ],
)
async def test_read_scope_refuses_statements_that_write(engine: AsyncEngine, write: object) -> None:
    maker = make_sessionmaker(engine)
    with pytest.raises(ReadOnlyViolation):
        async with read_scope(maker) as session:
            await write(session)  # type: ignore[operator]
    assert await _bodies(maker) == ["first", "second"]


async def test_read_scope_refuses_to_flush_changed_rows(engine: AsyncEngine) -> None:
    maker = make_sessionmaker(engine)
    with pytest.raises(ReadOnlyViolation):
        async with read_scope(maker) as session:
            session.add(Note(id=3, body="third"))
            await session.flush()
    with pytest.raises(ReadOnlyViolation):
        async with read_scope(maker) as session:
            note = await session.get(Note, 1)
            assert note is not None
            note.body = "changed"
            await session.execute(select(Note))  # autoflush
    with pytest.raises(ReadOnlyViolation):
        async with read_scope(maker) as session:
            note = await session.get(Note, 2)
            await session.delete(note)
            await session.flush()
    assert await _bodies(maker) == ["first", "second"]


async def test_a_services_get_reads_and_other_methods_write(engine: AsyncEngine) -> None:
    app = FastAPI()
    app.state.sessionmaker = make_sessionmaker(engine)

    @app.get("/notes")
    async def notes(session: Session) -> list[str]:
        return list((await session.execute(select(Note.body).order_by(Note.id))).scalars())

    @app.get("/notes/sneaky")
    async def sneaky(session: Session) -> None:
        session.add(Note(id=9, body="sneaky"))
        await session.flush()

    @app.post("/notes")
    async def add(session: Session) -> None:
        session.add(Note(id=3, body="third"))

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        assert (await http.get("/notes")).json() == ["first", "second"]
        with pytest.raises(ReadOnlyViolation):
            await http.get("/notes/sneaky")
        assert (await http.post("/notes")).status_code == 200
        assert (await http.get("/notes")).json() == ["first", "second", "third"]
