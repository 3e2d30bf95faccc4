"""Transactional outbox: events are rows written in the same transaction as the change
that causes them, so a committed change always has its events and a rolled-back one
never does. `shared.jobs` relays them to the subscribed jobs."""

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


class FailedJob(SQLModel, table=True):
    """A job that failed: waiting for its next attempt, or parked after its last one (a
    dead letter) until an admin replays it. Each service keeps the failures of its own jobs."""

    __tablename__ = "failed_job"

    id: int = Field(default_factory=new_id, sa_column=Column(BigInteger, primary_key=True))
    job: str = Field(sa_column=Column(String(100), nullable=False, index=True))
    key: str = Field(sa_column=Column(String(200), nullable=False))
    arg: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    attempts: int = Field(default=1)
    error: str = Field(default="", sa_column=Column(String(2000), nullable=False))
    failed_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    # Set while more attempts remain; None once parked.
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True, index=True))
    dead_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True, index=True))
    replays: int = Field(default=0)
