"""Engines, sessions and migrations. Each service has its own database: a SQLite file
under var/ in the embedded default, a PostgreSQL schema (selected by search_path) in
production. Engines are made by the app lifespan and passed down, never at import."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from pydantic import BaseModel
from sqlalchemy import BigInteger, Boolean, ColumnElement, DateTime, TypeDecorator, any_, bindparam, event, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.orm.attributes import instance_dict
from sqlalchemy.sql.visitors import InternalTraversal

from shared.errors import DomainError
from shared.settings import Settings

Out = TypeVar("Out", bound=BaseModel)
_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def utcnow() -> datetime:
    return datetime.now(UTC)


_SHARED_NAMES: dict[tuple[type[BaseModel], type], tuple[str, ...]] = {}


def _shared_names(model: type[BaseModel], orm_class: type) -> tuple[str, ...]:
    names = _SHARED_NAMES.get((model, orm_class))
    if names is None:
        names = tuple(name for name in model.model_fields if hasattr(orm_class, name))
        _SHARED_NAMES[(model, orm_class)] = names
    return names


def out_of(model: type[Out], obj: Any) -> Out:
    """`model` validated from the ORM instance `obj`, as `model.model_validate(obj)` with
    from_attributes does, but reading the loaded values from the instance's state: each
    instrumented attribute read costs about half a microsecond, a third of the whole
    validation for a row of twenty columns. An attribute not loaded is read the usual way."""
    state = instance_dict(obj)
    values = {}
    for name in _shared_names(model, type(obj)):
        values[name] = state[name] if name in state else getattr(obj, name)
    return model.model_validate(values)


def is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


def schema_name(settings: Settings, service: str) -> str:
    name = f"{settings.database_schema_prefix}{service}"
    if not _SCHEMA_RE.match(name):
        raise ValueError(f"invalid schema name {name!r}")
    return name


def make_engine(settings: Settings, service: str) -> AsyncEngine:
    url = settings.service_database_url(service)
    if is_postgres(url):
        schema = schema_name(settings, service)
        engine = create_async_engine(
            url,
            pool_size=settings.database_pool_size,
            max_overflow=5,
            connect_args={"server_settings": {"search_path": schema}},
        )
        _ping_after_idle(engine, settings.database_ping_after_idle_seconds)
        return engine
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    raise ValueError(f"unsupported database URL for {service}: {url.split(':', 1)[0]}")


def _ping_after_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    """Check a pooled connection before use only when it sat idle longer than `idle_seconds`.
    SQLAlchemy's pool_pre_ping checks on every checkout: with asyncpg three round trips
    (BEGIN, a query, ROLLBACK), about a millisecond of CPU per service call. A connection in
    steady use is used as it is; if the server dropped it anyway, that call fails, SQLAlchemy
    sees the disconnect and refreshes the pool, and the next call gets a new connection."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _idle_since(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")  # None: new, never used
        if since is None or time.monotonic() - since <= idle_seconds:
            return
        try:
            dbapi_conn.ping()
        except Exception as exc:
            # The pool discards this connection and checks out another (a new one if need be).
            raise DisconnectionError(f"pooled connection failed its check: {exc!r}") from exc


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def session_scope(maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """The one place that commits: on success of the unit of work, else rolls back."""
    async with maker() as session:
        try:
            yield session
            await session.commit()
        except DomainError as exc:
            if exc.keep_changes:
                await session.commit()
            else:
                await session.rollback()
            raise
        except BaseException:
            await session.rollback()
            raise


_READ_ONLY = "hubben_read_only"


class ReadOnlyViolation(RuntimeError):
    """A read-only unit of work (read_scope) was asked to write: a programming error."""


@asynccontextmanager
async def read_scope(maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A unit of work that only reads, as a GET's does. On PostgreSQL its statements run
    without BEGIN and COMMIT around them, each in its own implicit transaction: the same
    reads as session_scope's (READ COMMITTED gives every statement its own snapshot anyway)
    and two round trips fewer per call. Writing through it raises ReadOnlyViolation before
    anything reaches the database, so a write can never half-commit here."""
    async with maker() as session:
        session.info[_READ_ONLY] = True
        bind = session.bind
        if bind is not None and bind.dialect.name == "postgresql":
            await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        yield session


@event.listens_for(Session, "do_orm_execute")
def _refuse_dml_when_read_only(state: ORMExecuteState) -> None:
    if state.session.info.get(_READ_ONLY) and (state.is_insert or state.is_update or state.is_delete):
        raise ReadOnlyViolation(f"a read-only unit of work was asked to run {type(state.statement).__name__}")


@event.listens_for(Session, "before_flush")
def _refuse_flush_when_read_only(session: Session, _context: Any, _instances: Any) -> None:
    if session.info.get(_READ_ONLY) and (session.new or session.dirty or session.deleted):
        raise ReadOnlyViolation("a read-only unit of work was asked to write rows")


def _alembic_config(script_location: Path, connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


async def migrate(engine: AsyncEngine, settings: Settings, service: str, script_location: Path) -> None:
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema_name(settings, service)}"'))

        def _upgrade(sync_conn: Connection) -> None:
            command.upgrade(_alembic_config(script_location, sync_conn), "head")

        await conn.run_sync(_upgrade)


async def migration_state(engine: AsyncEngine, script_location: Path) -> tuple[str | None, str | None]:
    """(current revision in the database, head revision in the code)."""
    head = ScriptDirectory.from_config(_alembic_config(script_location)).get_current_head()
    async with engine.connect() as conn:

        def _current(sync_conn: Connection) -> str | None:
            return MigrationContext.configure(sync_conn).get_current_revision()

        current = await conn.run_sync(_current)
    return current, head


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every backend (SQLite drops the offset on its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class NotMigrated(RuntimeError):
    pass


async def prepare_database(settings: Settings, service: str, script_location: Path) -> AsyncEngine:
    """The service's engine. The embedded default migrates itself; PostgreSQL must be
    migrated first (`hubben migrate`), and a schema behind the code is refused."""
    engine = make_engine(settings, service)
    if is_postgres(settings.service_database_url(service)):
        current, head = await migration_state(engine, script_location)
        if current != head:
            await engine.dispose()
            raise NotMigrated(
                f"the {service} schema is at revision {current or 'none'}, the code needs {head}: run `hubben migrate`"
            )
    else:
        await migrate(engine, settings, service, script_location)
    return engine


class _InIds(ColumnElement[bool]):
    """`column IN (:name)` for a list of integers bound as `name` (see in_ids)."""

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a comparison: no `= 1` where booleans are not native
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement), ("name", InternalTraversal.dp_string)]

    def __init__(self, column: ColumnElement[Any], name: str) -> None:
        self.column = column
        self.name = name


def in_ids(column: Any, name: str = "ids") -> ColumnElement[bool]:
    """`column` is one of the integers bound at execution as `name` (a list). PostgreSQL gets
    `column = ANY(:name)`, one array parameter: the statement is the same text for every
    length, so it is compiled and prepared once, where an expanding IN renders a placeholder
    per value on every execution and is a new prepared statement for each new length. Other
    databases get the expanding IN."""
    return _InIds(column, name)


@compiles(_InIds)
def _in_ids_expanding(element: _InIds, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.column.in_(bindparam(element.name, expanding=True)), **kw))


@compiles(_InIds, "postgresql")
def _in_ids_any(element: _InIds, compiler: Any, **kw: Any) -> str:
    bound = bindparam(element.name, type_=ARRAY(BigInteger()))
    return str(compiler.process(element.column == any_(bound), **kw))
