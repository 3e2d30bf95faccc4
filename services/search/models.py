"""The search service's own tables. The index itself lives in the engine (Tantivy files
under var/search, or Meilisearch); these keep what the engine cannot: failed indexing jobs,
and the state of a reindex with the changes made while it was building."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, String
from sqlmodel import Field, SQLModel

from shared.database import UTCDateTime, utcnow
from shared.ids import new_id
from shared.outbox import FailedJob, OutboxEvent  # every service has an outbox and failed jobs


class ReindexRun(SQLModel, table=True):
    """One `hubben search reindex`: building (changes are journalled meanwhile), then done
    or failed. At most one builds at a time."""

    __tablename__ = "reindex_run"

    id: int = Field(default_factory=new_id, sa_column=Column(BigInteger, primary_key=True))
    state: str = Field(sa_column=Column(String(10), nullable=False, index=True))
    generation: str = Field(sa_column=Column(String(60), nullable=False))
    documents: int = Field(default=0)
    started_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    # A build that stops answering is taken over after a while (see service.reindex).
    heartbeat_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class PendingChange(SQLModel, table=True):
    """A document changed while a reindex was building: the new index gets it again
    (from its owner's current state) before and after the swap."""

    __tablename__ = "pending_change"

    reindex_id: int = Field(sa_column=Column(BigInteger, primary_key=True))
    key: str = Field(sa_column=Column(String(40), primary_key=True))


TABLES = [OutboxEvent, FailedJob, ReindexRun, PendingChange]
