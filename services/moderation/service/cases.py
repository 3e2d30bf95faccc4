"""Reading moderation: the queue, a case and its reports, the dashboard, a member's
history and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.moderation import contracts as c
from services.moderation import repository as repo
from services.moderation.models import AuditEntry, Case, Decision, Report
from services.moderation.service.common import (
    Sources,
    case_in_scope,
    case_out,
    require_access,
    require_member,
    require_platform,
)
from shared.auth import Principal
from shared.database import utcnow
from shared.errors import NotFound
from shared.pagination import PageRequest, paginate

STOCKHOLM = ZoneInfo("Europe/Stockholm")


async def list_cases(
    session: AsyncSession, sources: Sources, actor: Principal, flt: c.CaseFilter, page: PageRequest
) -> c.CasePage:
    caps = await require_access(sources, actor)
    # The open queue is worked oldest first; everything else reads newest first.
    oldest_first = flt.status == c.CaseStatus.open
    p = await paginate(
        session,
        repo.cases(caps, flt, actor.member_id),
        col(Case.id),
        lambda r: int(r[0].id),
        page,
        descending=not oldest_first,
    )
    rows: list[Case] = [r[0] for r in p.rows]
    decisions = await repo.decisions_of_cases(session, [r.id for r in rows])
    return c.CasePage(items=[case_out(r, decisions[r.id]) for r in rows], **c.page_fields(p))


async def get_case(session: AsyncSession, sources: Sources, actor: Principal, case_id: int) -> c.CaseOut:
    caps = await require_access(sources, actor)
    case = await case_in_scope(session, caps, case_id)
    return case_out(case, (await repo.decisions_of_cases(session, [case.id]))[case.id])


def _as_subject_sees_it(case: Case, decisions: list[Decision]) -> c.CaseOut:
    out = case_out(case, decisions)
    # Who reported, and what they said, stays with the moderators.
    out.reasons = {}
    out.report_count = 0
    out.claimed_by = None
    return out


async def my_case(session: AsyncSession, actor: Principal, case_id: int) -> c.CaseOut:
    """A case about the actor's own content or account, as its subject sees it (to appeal)."""
    me = require_member(actor)
    case = await session.get(Case, case_id)
    if case is None or case.subject_member_id != me:
        raise NotFound("no such case", field="caseId")
    return _as_subject_sees_it(case, (await repo.decisions_of_cases(session, [case.id]))[case.id])


async def my_cases(session: AsyncSession, actor: Principal, page: PageRequest) -> c.CasePage:
    """The cases about the actor's content or account that moderators decided, newest first."""
    me = require_member(actor)
    p = await paginate(session, repo.cases_about(me), col(Case.id), lambda r: int(r[0].id), page)
    rows: list[Case] = [r[0] for r in p.rows]
    decisions = await repo.decisions_of_cases(session, [r.id for r in rows])
    return c.CasePage(items=[_as_subject_sees_it(r, decisions[r.id]) for r in rows], **c.page_fields(p))


async def case_reports(
    session: AsyncSession, sources: Sources, actor: Principal, case_id: int, page: PageRequest
) -> c.ReportPage:
    caps = await require_access(sources, actor)
    case = await case_in_scope(session, caps, case_id)
    p = await paginate(
        session, repo.reports_of(case.id), col(Report.id), lambda r: int(r[0].id), page, descending=False
    )
    return c.ReportPage(items=[c.ReportOut.model_validate(r[0]) for r in p.rows], **c.page_fields(p))


def _day_start(now: datetime) -> datetime:
    local = now.astimezone(STOCKHOLM)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


async def dashboard(session: AsyncSession, sources: Sources, actor: Principal) -> c.DashboardOut:
    caps = await require_access(sources, actor)
    return await repo.dashboard(session, caps, _day_start(utcnow()))


async def history(session: AsyncSession, sources: Sources, actor: Principal, member_id: int) -> c.HistoryOut:
    """What moderators decided about a member: everything for platform moderators, the
    decisions in their own hubs for hub moderators."""
    caps = await require_access(sources, actor)
    hubs = None if caps.platform else caps.hub_ids
    counts = await repo.action_counts(session, member_id, hubs)
    return c.HistoryOut(
        member_id=member_id,
        warnings=counts.get(c.Action.warn.value, 0),
        suspensions=counts.get(c.Action.suspend.value, 0),
        removals=counts.get(c.Action.remove.value, 0),
        hides=counts.get(c.Action.hide.value, 0) + counts.get(c.Action.auto_hide.value, 0),
        bans=counts.get(c.Action.ban.value, 0),
    )


async def recent_content(sources: Sources, actor: Principal, member_id: int, limit: int) -> list[Any]:
    """The member's latest content, hidden and removed included, from the feed: all of it
    for platform moderators, what lies in their hubs for hub moderators."""
    caps = await require_access(sources, actor)
    found = await sources.feed.author_content(actor, member_id, limit)
    return [s for s in found if caps.platform or s.hub_id in caps.hub_ids]


async def history_decisions(
    session: AsyncSession, sources: Sources, actor: Principal, member_id: int, page: PageRequest
) -> c.DecisionPage:
    caps = await require_access(sources, actor)
    hubs = None if caps.platform else caps.hub_ids
    p = await paginate(session, repo.decisions_about(member_id, hubs), col(Decision.id), lambda r: int(r[0].id), page)
    return c.DecisionPage(items=[c.DecisionOut.model_validate(r[0]) for r in p.rows], **c.page_fields(p))


async def audit_log(
    session: AsyncSession, sources: Sources, actor: Principal, flt: c.AuditFilter, page: PageRequest
) -> c.AuditPage:
    await require_platform(sources, actor)
    p = await paginate(session, repo.audit(flt), col(AuditEntry.id), lambda r: int(r[0].id), page)
    return c.AuditPage(items=[c.AuditEntryOut.model_validate(r[0]) for r in p.rows], **c.page_fields(p))
