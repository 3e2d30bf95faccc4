"""in_ids (a list of integers bound as one parameter) and out_of (a contract validated from a
loaded ORM row) give what the plain SQLAlchemy and pydantic forms give, on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict
from sqlalchemy import BigInteger, Column, MetaData, String, Table, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from services.graph import contracts as gc
from services.graph.models import Member
from shared.database import in_ids, out_of
from tests.conftest import engine_url

METADATA = MetaData()
ROWS = Table(
    "hubben_test_in_ids",
    METADATA,
    Column("id", BigInteger, primary_key=True),
    Column("kind", String(10), nullable=False),
)
ODD = select(ROWS.c.id).where(in_ids(ROWS.c.id), ROWS.c.kind == "odd").order_by(ROWS.c.id)
BIG = 1 << 60


@pytest.fixture(params=["sqlite", "postgres"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    made = create_async_engine(engine_url(request.param, tmp_path, "in_ids.db"))
    async with made.begin() as conn:
        await conn.run_sync(METADATA.drop_all)
        await conn.run_sync(METADATA.create_all)
        rows = [{"id": i, "kind": "odd" if i % 2 else "even"} for i in [*range(1, 60), BIG + 1]]
        await conn.execute(ROWS.insert(), rows)
    try:
        yield made
    finally:
        async with made.begin() as conn:
            await conn.run_sync(METADATA.drop_all)
        await made.dispose()


async def test_in_ids_matches_the_listed_ids_whatever_their_number(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        for ids in ([], [2], [1], [1, 2, 3, 4, 5], list(range(0, 80, 3)), [BIG + 1, BIG, 7], [9, 9, 9]):
            found = (await conn.execute(ODD, {"ids": ids})).scalars().all()
            assert found == sorted({i for i in ids if i % 2 and (i < 60 or i == BIG + 1)}), ids


async def test_in_ids_is_one_array_parameter_on_postgresql(engine: AsyncEngine) -> None:
    sql = str(ODD.compile(dialect=engine.dialect))
    if engine.dialect.name == "postgresql":
        # One statement text for any number of ids: compiled and prepared once.
        assert "= ANY (" in sql and "POSTCOMPILE" not in sql
    else:
        assert "IN (__[POSTCOMPILE_ids])" in sql and "= 1" not in sql


async def test_in_ids_binds_a_value_that_is_not_an_integer_never_splices_it(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            with pytest.raises(Exception):  # noqa: B017 - asyncpg refuses a str for a bigint[]
                await conn.execute(ODD, {"ids": ["1) OR (1=1"]})
        else:  # SQLite compares the text with each id: nothing matches
            assert (await conn.execute(ODD, {"ids": ["1) OR (1=1"]})).scalars().all() == []


class _Partial(BaseModel):
    """A contract naming a column, a property of the model and a field the model lacks."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    handle: str
    not_on_the_model: str = "default"


async def test_out_of_equals_model_validate_for_a_loaded_row(tmp_path: Path) -> None:
    made = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'members.db'}")
    async with made.begin() as conn:
        await conn.run_sync(Member.metadata.create_all, tables=[Member.__table__])  # type: ignore[attr-defined]
    sessions = async_sessionmaker(made, expire_on_commit=True)
    now = datetime.now(UTC)
    async with sessions() as session:
        session.add(
            Member(
                id=41,
                handle="anna",
                display_name="Anna Andersson",
                headline="AI-strateg",
                skills=["nlp"],
                links=[{"label": "web", "url": "https://example.se"}],
                created_at=now,
                updated_at=now,
            )
        )
        await session.commit()
        # Read again after the commit expired it: every column loaded.
        member = (await session.execute(select(Member).where(Member.id == 41))).scalar_one()
        assert out_of(gc.MemberOut, member) == gc.MemberOut.model_validate(member)
        assert out_of(_Partial, member) == _Partial(id=41, handle="anna")
    await made.dispose()
