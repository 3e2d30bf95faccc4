"""Cursor pagination (Relay semantics) over one unique, ordered integer key."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import BadUserInput

MAX_PAGE = 100
T = TypeVar("T")


def encode_cursor(key: int) -> str:
    return base64.urlsafe_b64encode(f"c:{key}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str, field: str) -> int:
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode("ascii")).decode()
        prefix, _, key = raw.partition(":")
        if prefix != "c" or not key.isascii() or not key.isdigit() or int(key) >= 1 << 63:
            raise ValueError
        return int(key)
    except (ValueError, UnicodeError) as exc:
        raise BadUserInput("malformed cursor", field=field) from exc


class PageRequest(BaseModel):
    model_config = {"extra": "forbid"}

    first: int | None = Field(default=None, ge=0, le=MAX_PAGE)
    after: str | None = Field(default=None, max_length=200)
    last: int | None = Field(default=None, ge=0, le=MAX_PAGE)
    before: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _one_direction(self) -> PageRequest:
        if self.first is not None and self.last is not None:
            raise ValueError("pass either first or last, not both")
        if self.first is None and self.last is None:
            self.first = 20
        return self


class Page(BaseModel, Generic[T]):
    items: list[T]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool
    total_count: int | None = None


@dataclass
class RowPage:
    rows: list[Any]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool
    total_count: int | None


async def paginate(
    session: AsyncSession,
    stmt: Select[*tuple[Any, ...]],
    key: Any,
    key_of: Callable[[Any], int],
    req: PageRequest,
    *,
    descending: bool = True,
    count: bool = True,
) -> RowPage:
    """Page `stmt` by the unique column `key` (display order newest first when descending).

    hasPreviousPage/hasNextPage are exact in both directions: one probe row each."""
    after = decode_cursor(req.after, "after") if req.after is not None else None
    before = decode_cursor(req.before, "before") if req.before is not None else None

    def later(c: int) -> Any:  # rows displayed after cursor c
        return key < c if descending else key > c

    def earlier(c: int) -> Any:  # rows displayed before cursor c
        return key > c if descending else key < c

    window = stmt
    if after is not None:
        window = window.where(later(after))
    if before is not None:
        window = window.where(earlier(before))

    forward = key.desc() if descending else key.asc()
    backward = key.asc() if descending else key.desc()
    if req.last is not None:
        limit = req.last
        rows = list((await session.execute(window.order_by(backward).limit(limit + 1))).all())
        has_previous = len(rows) > limit
        rows = list(reversed(rows[:limit]))
        has_next = False
        if before is not None:
            probe = stmt.where(~earlier(before))
            if after is not None:
                probe = probe.where(later(after))
            has_next = (await session.execute(probe.limit(1))).first() is not None
    else:
        limit = req.first if req.first is not None else 20
        rows = list((await session.execute(window.order_by(forward).limit(limit + 1))).all())
        has_next = len(rows) > limit
        rows = rows[:limit]
        has_previous = False
        if after is not None:
            probe = stmt.where(~later(after))
            has_previous = (await session.execute(probe.limit(1))).first() is not None

    total = None
    if count:
        total = (await session.execute(select(func.count()).select_from(stmt.order_by(None).subquery()))).scalar_one()
    return RowPage(
        rows=rows,
        cursors=[encode_cursor(key_of(r)) for r in rows],
        has_next_page=has_next,
        has_previous_page=has_previous,
        total_count=total,
    )
