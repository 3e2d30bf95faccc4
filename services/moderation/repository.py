"""All of the moderation service's SQL. `case_scope` encodes who sees which cases."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.moderation import contracts as c
from services.moderation.models import AuditEntry, Case, Decision, Report


def open_key(target_type: str, target_id: int) -> str:
    return f"{target_type}:{target_id}"


def case_scope(caps: c.CapabilitiesOut) -> ColumnElement[bool]:
    """Platform moderators see every case; hub moderators the cases about their hubs' content."""
    if caps.platform:
        return true()
    if not caps.hub_ids:
        return false()
    return col(Case.hub_id).in_(caps.hub_ids)


async def open_case(session: AsyncSession, target_type: str, target_id: int, *, lock: bool = False) -> Case | None:
    stmt = select(Case).where(col(Case.open_key) == open_key(target_type, target_id))
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def case_for_update(session: AsyncSession, case_id: int) -> Case | None:
    stmt = select(Case).where(col(Case.id) == case_id).with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def open_report(session: AsyncSession, reporter_id: int, key: str) -> Report | None:
    stmt = select(Report).where(col(Report.reporter_id) == reporter_id, col(Report.open_key) == key)
    return (await session.execute(stmt)).scalar_one_or_none()


async def reports_since(session: AsyncSession, reporter_id: int, since: datetime) -> tuple[int, datetime | None]:
    """How many reports the member filed since then, and when the first of them was."""
    stmt = select(func.count(), func.min(col(Report.created_at))).where(
        col(Report.reporter_id) == reporter_id, col(Report.created_at) >= since
    )
    count, first = (await session.execute(stmt)).one()
    return int(count), first


async def distinct_reporters(session: AsyncSession, case_id: int) -> int:
    stmt = select(func.count(func.distinct(Report.reporter_id))).where(col(Report.case_id) == case_id)
    return int((await session.execute(stmt)).scalar_one())


async def reporter_ids(session: AsyncSession, case_id: int) -> list[int]:
    stmt = select(col(Report.reporter_id)).where(col(Report.case_id) == case_id).distinct()
    return [int(r) for r in (await session.execute(stmt)).scalars()]


async def close_reports(session: AsyncSession, case_id: int) -> None:
    """A resolved case's reports no longer count as open: their reporters may report again."""
    from sqlalchemy import update

    await session.execute(update(Report).where(col(Report.case_id) == case_id).values(open_key=None))


def cases(caps: c.CapabilitiesOut, flt: c.CaseFilter, me: int | None) -> Select[Any]:
    stmt = select(Case).where(case_scope(caps))
    if flt.status is not None:
        stmt = stmt.where(col(Case.status) == flt.status.value)
    if flt.target_type is not None:
        stmt = stmt.where(col(Case.target_type) == flt.target_type.value)
    if flt.hub_id is not None:
        stmt = stmt.where(col(Case.hub_id) == flt.hub_id)
    if flt.claim == c.ClaimFilter.mine:
        stmt = stmt.where(col(Case.claimed_by) == me)
    elif flt.claim == c.ClaimFilter.unclaimed:
        stmt = stmt.where(col(Case.claimed_by).is_(None))
    if flt.appealed is not None:
        stmt = stmt.where(col(Case.appealed_at).is_not(None) if flt.appealed else col(Case.appealed_at).is_(None))
    if flt.reason is not None:
        same_case = col(Report.case_id) == col(Case.id)
        has_reason = select(col(Report.id)).where(same_case, col(Report.reason) == flt.reason.value)
        stmt = stmt.where(has_reason.exists())
    return stmt


def cases_about(member_id: int) -> Select[Any]:
    """Cases about a member's content or account on which something was decided: what they
    may see and appeal."""
    decided = select(col(Decision.id)).where(col(Decision.case_id) == col(Case.id))
    return select(Case).where(col(Case.subject_member_id) == member_id, decided.exists())


async def case_in_scope(
    session: AsyncSession, caps: c.CapabilitiesOut, case_id: int, *, lock: bool = False
) -> Case | None:
    stmt = select(Case).where(col(Case.id) == case_id, case_scope(caps))
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


def reports_of(case_id: int) -> Select[Any]:
    return select(Report).where(col(Report.case_id) == case_id)


async def decisions_of_cases(session: AsyncSession, case_ids: Sequence[int]) -> dict[int, list[Decision]]:
    if not case_ids:
        return {}
    stmt = select(Decision).where(col(Decision.case_id).in_(case_ids)).order_by(col(Decision.id))
    found: dict[int, list[Decision]] = {i: [] for i in case_ids}
    for d in (await session.execute(stmt)).scalars():
        found[int(d.case_id or 0)].append(d)
    return found


def decisions_about(member_id: int, hub_ids: list[int] | None) -> Select[Any]:
    """Decisions about a member: all of them, or (hub moderators) those in these hubs."""
    stmt = select(Decision).where(col(Decision.subject_member_id) == member_id)
    if hub_ids is not None:
        stmt = stmt.where(col(Decision.hub_id).in_(hub_ids))
    return stmt


async def action_counts(session: AsyncSession, member_id: int, hub_ids: list[int] | None) -> dict[str, int]:
    sub = decisions_about(member_id, hub_ids).subquery()
    stmt = select(sub.c.action, func.count()).group_by(sub.c.action)
    return {str(a): int(n) for a, n in (await session.execute(stmt)).all()}


def audit(flt: c.AuditFilter) -> Select[Any]:
    stmt = select(AuditEntry)
    if flt.actor_id is not None:
        stmt = stmt.where(col(AuditEntry.actor_id) == flt.actor_id)
    if flt.action:
        stmt = stmt.where(col(AuditEntry.action) == flt.action)
    if flt.target_type:
        stmt = stmt.where(col(AuditEntry.target_type) == flt.target_type)
    if flt.case_id is not None:
        stmt = stmt.where(col(AuditEntry.case_id) == flt.case_id)
    if flt.since is not None:
        stmt = stmt.where(col(AuditEntry.created_at) >= flt.since)
    if flt.until is not None:
        stmt = stmt.where(col(AuditEntry.created_at) < flt.until)
    return stmt


async def dashboard(session: AsyncSession, caps: c.CapabilitiesOut, day_start: datetime) -> c.DashboardOut:
    scope = case_scope(caps)
    is_open = col(Case.status) == c.CaseStatus.open.value
    row = (
        await session.execute(
            select(
                func.count(),
                func.count(col(Case.id)).filter(col(Case.claimed_by).is_(None)),
                func.count(col(Case.id)).filter(col(Case.appealed_at).is_not(None)),
                func.min(func.coalesce(col(Case.appealed_at), col(Case.opened_at))),
            ).where(scope, is_open)
        )
    ).one()
    acted = select(func.count()).where(col(Decision.created_at) >= day_start)
    if not caps.platform:
        acted = acted.where(col(Decision.hub_id).in_(caps.hub_ids or [-1]))
    actions = int((await session.execute(acted)).scalar_one())
    return c.DashboardOut(
        open_cases=int(row[0]),
        unclaimed_cases=int(row[1]),
        appealed_cases=int(row[2]),
        oldest_waiting_since=row[3],
        actions_today=actions,
    )
