"""Claiming a case, deciding it, appealing it, and the platform's decisions about members,
organisations and hub moderators. Each decision is applied through the service that owns
what it changes (feed hides, graph suspends), written to the audit log with what it
changed, and announced so the author and the reporters hear of it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.graph import contracts as gc
from services.moderation import contracts as c
from services.moderation import repository as repo
from services.moderation.models import Case, Decision
from services.moderation.service.common import (
    Sources,
    Told,
    actor_label,
    announce,
    audit,
    case_in_scope,
    case_out,
    require_access,
    require_member,
    require_platform,
    state_of,
)
from shared.auth import Principal
from shared.database import utcnow
from shared.errors import BadUserInput, Conflict, Forbidden, NotFound

MAX_SUSPENSION = timedelta(days=3650)
# What the author is told, by action (nothing for a dismissal).
AUTHOR_OUTCOMES = {
    c.Action.hide: "hidden",
    c.Action.remove: "removed",
    c.Action.restore: "restored",
    c.Action.warn: "warned",
    c.Action.suspend: "suspended",
    c.Action.ban: "banned",
    c.Action.unsuspend: "unsuspended",
    c.Action.unban: "unbanned",
}


async def _out(session: AsyncSession, case: Case) -> c.CaseOut:
    await session.flush()
    return case_out(case, (await repo.decisions_of_cases(session, [case.id]))[case.id])


async def claim(session: AsyncSession, sources: Sources, actor: Principal, case_id: int, data: c.ClaimIn) -> c.CaseOut:
    caps = await require_access(sources, actor)
    me = require_member(actor)
    case = await case_in_scope(session, caps, case_id, lock=True)
    if data.release:
        if case.claimed_by is None:
            return await _out(session, case)
        if case.claimed_by != me and not caps.platform:
            raise Forbidden("only the moderator who claimed a case, or a platform moderator, may release it")
        before: dict[str, int | None] = {"claimed_by": case.claimed_by}
        case.claimed_by, case.claimed_at = None, None
        action = "case.released"
    else:
        if case.status != c.CaseStatus.open:
            raise BadUserInput("only open cases can be claimed", field="caseId")
        if case.claimed_by == me:
            return await _out(session, case)
        if case.claimed_by is not None:
            raise Conflict("another moderator has claimed this case", field="caseId")
        if _appeal_pending(case) and case.excluded_moderator_id == me:
            raise Forbidden("an appeal goes to another moderator than the one who decided the case")
        before = {"claimed_by": None}
        case.claimed_by, case.claimed_at = me, utcnow()
        action = "case.claimed"
    audit(
        session,
        actor=actor,
        label=await actor_label(sources, actor),
        action=action,
        target_type=case.target_type,
        target_id=case.target_id,
        case=case,
        before=before,
        after={"claimed_by": case.claimed_by},
    )
    return await _out(session, case)


def _appeal_pending(case: Case) -> bool:
    return case.appealed_at is not None and case.appeal_decided_at is None


def _suspension_end(until: datetime | None) -> datetime:
    if until is None:
        raise BadUserInput("a suspension needs an end (suspendUntil)", field="suspendUntil")
    if until.tzinfo is None:
        raise BadUserInput("give the time with its time zone", field="suspendUntil")
    now = utcnow()
    if until <= now:
        raise BadUserInput("a suspension ends in the future", field="suspendUntil")
    if until > now + MAX_SUSPENSION:
        raise BadUserInput("a suspension lasts at most ten years; ban instead", field="suspendUntil")
    return until


async def _member_action(
    sources: Sources, actor: Principal, member_id: int | None, action: c.Action, until: datetime | None
) -> tuple[dict[str, Any], dict[str, Any], datetime | None]:
    """Warn, suspend, ban (or undo the last two) through the graph: (before, after, until)."""
    if member_id is None:
        raise BadUserInput(f"{action.value} needs a member to act on", field="action")
    found = await sources.graph.members(actor, [member_id])
    if not found:
        raise NotFound("no such member", field="memberId")
    member = found[0]
    before = {"suspended_until": _iso(member.suspended_until), "banned": bool(getattr(member, "banned", False))}
    if action == c.Action.warn:
        return before, {**before, "warned": True}, None
    if action in (c.Action.suspend, c.Action.unsuspend):
        end = _suspension_end(until) if action == c.Action.suspend else None
        out = await sources.graph.set_suspension(actor, gc.SuspensionIn(member_id=member_id, until=end))
        return before, {**before, "suspended_until": _iso(out.suspended_until)}, end
    out = await sources.graph.set_banned(actor, member_id, action == c.Action.ban)
    return before, {**before, "banned": bool(out.banned)}, None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def _content_action(sources: Sources, actor: Principal, case: Case, action: c.Action, reason: str) -> str:
    """Hide, remove or restore the case's content through the feed: its new state."""
    state = c.ContentState(case.content_state)
    if state == c.ContentState.removed and action in (c.Action.hide, c.Action.restore, c.Action.dismiss):
        if action != c.Action.dismiss:
            raise BadUserInput("removed content cannot be hidden or restored", field="action")
        return state.value
    feed = sources.feed
    calls = {
        c.Action.hide: feed.hide_content,
        c.Action.remove: feed.remove_content,
        c.Action.restore: feed.restore_content,
    }
    if action == c.Action.dismiss and case.auto_hidden and state == c.ContentState.hidden:
        action = c.Action.restore  # dismissing the reports about auto-hidden content brings it back
    if action in calls:
        # The state comes back from the feed: the author may have deleted the content meanwhile.
        snapshot = await calls[action](actor, case.target_type, case.target_id, reason)
        return state_of(snapshot.model_dump()).value
    return state.value


async def decide(
    session: AsyncSession, sources: Sources, actor: Principal, case_id: int, data: c.DecisionIn
) -> c.CaseOut:
    caps = await require_access(sources, actor)
    me = require_member(actor)
    case = await case_in_scope(session, caps, case_id, lock=True)
    kind, action = c.TargetType(case.target_type), data.action
    if action not in c.CASE_ACTIONS[kind]:
        raise BadUserInput(f"{action.value} does not apply to a case about a {kind.value}", field="action")
    if action in c.PLATFORM_ACTIONS and not caps.platform:
        raise Forbidden("only platform moderators may suspend or ban members or verify organisations")
    if case.claimed_by not in (None, me) and case.status == c.CaseStatus.open:
        raise Conflict("another moderator has claimed this case", field="caseId")
    if _appeal_pending(case) and case.excluded_moderator_id == me:
        raise Forbidden("an appeal goes to another moderator than the one who decided the case")
    if data.suspend_until is not None and action != c.Action.suspend:
        raise BadUserInput("suspendUntil goes with SUSPEND only", field="suspendUntil")

    before: dict[str, Any] = {"state": case.content_state, "status": case.status}
    after: dict[str, Any] = {}
    until = None
    if kind in c.CONTENT_TYPES and action in (c.Action.hide, c.Action.remove, c.Action.restore, c.Action.dismiss):
        case.content_state = await _content_action(sources, actor, case, action, data.reason)
    elif action in c.MEMBER_ACTIONS:
        member_before, member_after, until = await _member_action(
            sources, actor, case.subject_member_id, action, data.suspend_until
        )
        before, after = {**before, **member_before}, member_after
    elif action in c.ORGANISATION_ACTIONS:
        org = await sources.graph.set_verified(
            actor, int(case.subject_organisation_id or 0), action == c.Action.verify_organisation
        )
        after = {"verified": org.verified}

    was_open = case.status == c.CaseStatus.open
    now = utcnow()
    decision = Decision(
        case_id=case.id,
        action=action.value,
        reason=data.reason,
        moderator_id=me,
        target_type=case.target_type,
        target_id=case.target_id,
        subject_member_id=case.subject_member_id,
        hub_id=case.hub_id,
        suspended_until=until,
    )
    session.add(decision)
    case.status = c.CaseStatus.resolved.value
    case.resolved_at = now
    if case.claimed_by is None:
        case.claimed_by, case.claimed_at = me, now
    if _appeal_pending(case):
        case.appeal_decided_at = now
    if case.open_key is not None:
        case.open_key = None
        await repo.close_reports(session, case.id)
    await session.flush()
    audit(
        session,
        actor=actor,
        label=await actor_label(sources, actor),
        action=f"case.{action.value}",
        target_type=case.target_type,
        target_id=case.target_id,
        case=case,
        reason=data.reason,
        before=before,
        after={**after, "state": case.content_state, "status": case.status},
    )
    about = f"your {kind.value}" if kind in c.CONTENT_TYPES else "your account"
    told = []
    if case.subject_member_id is not None and action in AUTHOR_OUTCOMES:
        told.append(Told(case.subject_member_id, AUTHOR_OUTCOMES[action], data.reason, about))
    if was_open and action != c.Action.restore:
        outcome = "no_action" if action == c.Action.dismiss else "action_taken"
        reported = f"a {kind.value} you reported"
        for reporter in await repo.reporter_ids(session, case.id):
            message = (
                "Moderators found no breach of the rules."
                if action == c.Action.dismiss
                else "Moderators acted on it. Thank you for reporting."
            )
            told.append(Told(reporter, outcome, message, reported))
    announce(session, decision, told)
    return await _out(session, case)


async def appeal(
    session: AsyncSession, sources: Sources, actor: Principal, case_id: int, data: c.AppealIn
) -> c.CaseOut:
    """The author appeals a decision against them, once: the case opens again, for a
    moderator other than the one who decided."""
    me = require_member(actor)
    case = await repo.case_for_update(session, case_id)
    if case is None or case.subject_member_id != me:
        raise NotFound("no such case", field="caseId")
    if case.appealed_at is not None:
        raise BadUserInput("a decision can be appealed once", field="caseId")
    last = (await repo.decisions_of_cases(session, [case.id]))[case.id]
    against = [d for d in last if c.Action(d.action) in c.APPEALABLE]
    if case.status != c.CaseStatus.resolved or not last or c.Action(last[-1].action) not in c.APPEALABLE:
        raise BadUserInput("there is no decision against you on this case to appeal", field="caseId")
    now = utcnow()
    case.status = c.CaseStatus.open.value
    case.appeal_statement = data.statement
    case.appealed_at = now
    case.resolved_at = None
    case.claimed_by, case.claimed_at = None, None
    case.excluded_moderator_id = against[-1].moderator_id
    audit(
        session,
        actor=actor,
        label=await actor_label(sources, actor),
        action="case.appealed",
        target_type=case.target_type,
        target_id=case.target_id,
        case=case,
        reason=data.statement,
        before={"status": c.CaseStatus.resolved.value},
        after={"status": c.CaseStatus.open.value},
    )
    return await _out(session, case)


async def _direct_decision(
    session: AsyncSession,
    sources: Sources,
    actor: Principal,
    *,
    action: c.Action,
    reason: str,
    target_type: str,
    target_id: int,
    subject_member_id: int | None,
    before: dict[str, Any],
    after: dict[str, Any],
    hub_id: int | None = None,
    until: datetime | None = None,
    told: list[Told] | None = None,
) -> c.DecisionOut:
    decision = Decision(
        case_id=None,
        action=action.value,
        reason=reason,
        moderator_id=actor.member_id,
        target_type=target_type,
        target_id=target_id,
        subject_member_id=subject_member_id,
        hub_id=hub_id,
        suspended_until=until,
    )
    session.add(decision)
    await session.flush()
    audit(
        session,
        actor=actor,
        label=await actor_label(sources, actor),
        action=f"{target_type}.{action.value}",
        target_type=target_type,
        target_id=target_id,
        hub_id=hub_id,
        reason=reason,
        before=before,
        after=after,
    )
    announce(session, decision, told or [])
    return c.DecisionOut.model_validate(decision)


async def moderate_member(
    session: AsyncSession, sources: Sources, actor: Principal, member_id: int, data: c.DecisionIn
) -> c.DecisionOut:
    await require_platform(sources, actor)
    if data.action not in c.MEMBER_ACTIONS:
        raise BadUserInput(f"{data.action.value} does not apply to a member", field="action")
    if data.suspend_until is not None and data.action != c.Action.suspend:
        raise BadUserInput("suspendUntil goes with SUSPEND only", field="suspendUntil")
    if member_id == actor.member_id:
        raise BadUserInput("moderators cannot moderate themselves", field="memberId")
    before, after, until = await _member_action(sources, actor, member_id, data.action, data.suspend_until)
    told = [Told(member_id, AUTHOR_OUTCOMES[data.action], data.reason, "your account")]
    return await _direct_decision(
        session,
        sources,
        actor,
        action=data.action,
        reason=data.reason,
        target_type="member",
        target_id=member_id,
        subject_member_id=member_id,
        before=before,
        after=after,
        until=until,
        told=told,
    )


async def moderate_organisation(
    session: AsyncSession, sources: Sources, actor: Principal, org_id: int, data: c.OrganisationDecisionIn
) -> c.DecisionOut:
    await require_platform(sources, actor)
    if data.action not in c.ORGANISATION_ACTIONS:
        raise BadUserInput(f"{data.action.value} does not apply to an organisation", field="action")
    found = await sources.graph.organisations_by_ids(actor, [org_id])
    if not found:
        raise NotFound("no such organisation", field="organisationId")
    org = await sources.graph.set_verified(actor, org_id, data.action == c.Action.verify_organisation)
    return await _direct_decision(
        session,
        sources,
        actor,
        action=data.action,
        reason=data.reason,
        target_type="organisation",
        target_id=org_id,
        subject_member_id=None,
        before={"verified": found[0].verified},
        after={"verified": org.verified},
    )


async def appoint_hub_moderator(
    session: AsyncSession, sources: Sources, actor: Principal, hub_id: int, data: c.HubModeratorIn
) -> c.DecisionOut:
    await require_platform(sources, actor)
    role = gc.HubRoleName.member if data.remove else gc.HubRoleName.moderator
    membership = await sources.graph.set_hub_role(actor, hub_id, gc.HubRoleIn(member_id=data.member_id, role=role))
    action = c.Action.remove_hub_moderator if data.remove else c.Action.appoint_hub_moderator
    outcome = "hub_moderator_removed" if data.remove else "hub_moderator_appointed"
    return await _direct_decision(
        session,
        sources,
        actor,
        action=action,
        reason=data.reason,
        target_type="hub",
        target_id=hub_id,
        subject_member_id=data.member_id,
        hub_id=hub_id,
        before={},
        after={"member_id": data.member_id, "role": membership.role},
        told=[Told(data.member_id, outcome, data.reason, "your role in a hub")],
    )
