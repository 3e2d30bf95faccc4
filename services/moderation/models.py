"""The moderation service's tables: reports grouped into cases, the decisions taken on
them, and the append-only audit log. Nothing outside this service reads them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.database import UTCDateTime, utcnow
from shared.ids import new_id
from shared.outbox import FailedJob, OutboxEvent  # the outbox and failed jobs live in this schema too


def _id() -> Any:
    return Field(default_factory=new_id, sa_type=BigInteger, primary_key=True)


def _ref(*, index: bool = False, nullable: bool = True) -> Any:
    return Field(default=None if nullable else ..., sa_type=BigInteger, index=index, nullable=nullable)


def _created() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


def _when() -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=True)


class Case(SQLModel, table=True):
    """Every report about one target while it waits for (or is under) review. `open_key`
    ("post:123") is set while the case is open, so a target has one open case; a report
    after the case was resolved opens a new one."""

    __tablename__ = "moderation_case"
    __table_args__ = (
        Index("ix_case_status_id", "status", "id"),
        Index("ix_case_hub_status", "hub_id", "status", "id"),
        Index("ix_case_subject", "subject_member_id", "id"),
    )

    id: int = _id()
    target_type: str = Field(max_length=12)
    target_id: int = Field(sa_type=BigInteger)
    open_key: str | None = Field(default=None, sa_column=Column(String(40), nullable=True, unique=True))
    status: str = Field(default="open", max_length=10)  # open, resolved
    hub_id: int | None = _ref()
    subject_member_id: int | None = _ref()  # the author, or the member reported
    subject_organisation_id: int | None = _ref()
    # The content as its readers saw it when it was first reported (feed's ContentSnapshot).
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    content_state: str = Field(default="visible", max_length=10)  # visible, hidden, removed
    report_count: int = 0
    reasons: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    opened_at: datetime = _created()
    last_reported_at: datetime = _created()
    claimed_by: int | None = _ref()
    claimed_at: datetime | None = _when()
    resolved_at: datetime | None = _when()
    auto_hidden: bool = False
    # An appeal reopens the case once, for a moderator other than the one who decided.
    appeal_statement: str | None = Field(default=None, max_length=2000)
    appealed_at: datetime | None = _when()
    appeal_decided_at: datetime | None = _when()
    excluded_moderator_id: int | None = _ref()


class Report(SQLModel, table=True):
    """One member's report. `open_key` is the case's while it is open: one open report per
    reporter and target."""

    __tablename__ = "report"
    __table_args__ = (
        UniqueConstraint("reporter_id", "open_key"),
        Index("ix_report_case", "case_id", "id"),
        Index("ix_report_reporter_time", "reporter_id", "created_at"),
    )

    id: int = _id()
    case_id: int = _ref(nullable=False)
    reporter_id: int = _ref(nullable=False)
    open_key: str | None = Field(default=None, sa_column=Column(String(40), nullable=True))
    reason: str = Field(max_length=20)
    note: str = Field(default="", max_length=1000)
    created_at: datetime = _created()


class Decision(SQLModel, table=True):
    __tablename__ = "decision"
    __table_args__ = (
        Index("ix_decision_case", "case_id", "id"),
        Index("ix_decision_subject", "subject_member_id", "id"),
        Index("ix_decision_created", "created_at"),
    )

    id: int = _id()
    case_id: int | None = _ref()
    action: str = Field(max_length=30)
    reason: str = Field(max_length=1000)
    moderator_id: int | None = _ref()  # None: the platform itself (auto-hide)
    target_type: str = Field(max_length=12)
    target_id: int = Field(sa_type=BigInteger)
    subject_member_id: int | None = _ref()
    hub_id: int | None = _ref()
    suspended_until: datetime | None = _when()
    created_at: datetime = _created()


class AuditEntry(SQLModel, table=True):
    """Who did what, when, why, and what it changed. Append-only: no route edits or deletes
    an entry, and database triggers refuse UPDATE and DELETE (see migrations)."""

    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_actor", "actor_id", "id"),
        Index("ix_audit_case", "case_id", "id"),
        Index("ix_audit_action", "action", "id"),
        Index("ix_audit_hub", "hub_id", "id"),
    )

    id: int = _id()
    actor_id: int | None = _ref()
    actor_label: str = Field(max_length=60)  # "@handle", or "Hubben" for the platform itself
    action: str = Field(max_length=40)
    target_type: str = Field(max_length=12)
    target_id: str = Field(max_length=40)
    case_id: int | None = _ref()
    hub_id: int | None = _ref()
    reason: str = Field(default="", max_length=2000)
    before: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    after: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _created()


TABLES = [OutboxEvent, FailedJob, Case, Report, Decision, AuditEntry]
