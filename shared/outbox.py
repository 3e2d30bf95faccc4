"""Transactional outbox: events are rows written in the same transaction as the change
that causes them, so a committed change always has its events and a rolled-back one
never does. The relay that moves them to jobs arrives with the workers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from shared.database import UTCDateTime, utcnow
from shared.ids import new_id


class OutboxEvent(SQLModel, table=True):
    __tablename__ = "outbox"

    id: int = Field(default_factory=new_id, sa_column=Column(BigInteger, primary_key=True))
    topic: str = Field(sa_column=Column(String(100), nullable=False, index=True))
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    dispatched_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True, index=True))
    attempts: int = Field(default=0)


def record_event(session: AsyncSession, topic: str, payload: dict[str, Any]) -> OutboxEvent:
    """Stage an event in the caller's transaction; the caller commits."""
    row = OutboxEvent(topic=topic, payload=payload)
    session.add(row)
    return row
