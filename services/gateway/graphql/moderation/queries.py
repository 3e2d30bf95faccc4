from __future__ import annotations

from datetime import datetime

import strawberry

from services.gateway.context import Info
from services.gateway.graphql.base import Connection, connection, decode_id, page_request
from services.gateway.graphql.moderation.types import (
    AuditEntry,
    ClaimFilter,
    ModerationCapabilities,
    ModerationCase,
    ModerationCaseStatus,
    ModerationDashboard,
    ModerationHistory,
    ReportReason,
    ReportTargetType,
    case_id_of,
    moderation_history,
)
from services.moderation import contracts as mc
from shared.errors import BadUserInput, Forbidden, NotFound


@strawberry.input
class ModerationCaseFilter:
    status: ModerationCaseStatus | None = None  # type: ignore[valid-type]
    reason: ReportReason | None = None  # type: ignore[valid-type]
    target_type: ReportTargetType | None = None  # type: ignore[valid-type]
    hub_id: strawberry.ID | None = None
    claim: ClaimFilter | None = None  # type: ignore[valid-type]
    appealed: bool | None = None


@strawberry.input
class AuditLogFilter:
    actor_id: strawberry.ID | None = None
    action: str | None = None
    target_type: str | None = None
    case_id: strawberry.ID | None = None
    since: datetime | None = None
    until: datetime | None = None


def _case_filter(f: ModerationCaseFilter | None) -> mc.CaseFilter:
    if f is None:
        return mc.CaseFilter()
    return mc.CaseFilter(
        status=mc.CaseStatus(f.status.value) if f.status is not None else None,
        reason=mc.ReportReason(f.reason.value) if f.reason is not None else None,
        target_type=mc.TargetType(f.target_type.value) if f.target_type is not None else None,
        hub_id=decode_id(f.hub_id, "Hub", "filter.hubId") if f.hub_id is not None else None,
        claim=mc.ClaimFilter(f.claim.value) if f.claim is not None else mc.ClaimFilter.any,
        appealed=f.appealed,
    )


def _audit_filter(f: AuditLogFilter | None) -> mc.AuditFilter:
    if f is None:
        return mc.AuditFilter()
    for name, value, limit in (("action", f.action, 40), ("targetType", f.target_type, 12)):
        if value is not None and len(value) > limit:
            raise BadUserInput(f"{name} is at most {limit} characters", field=f"filter.{name}")
    for name, when in (("since", f.since), ("until", f.until)):
        if when is not None and when.tzinfo is None:
            raise BadUserInput("give the time with its time zone", field=f"filter.{name}")
    return mc.AuditFilter(
        actor_id=decode_id(f.actor_id, "Member", "filter.actorId") if f.actor_id is not None else None,
        action=f.action or None,
        target_type=f.target_type or None,
        case_id=case_id_of(f.case_id, "filter.caseId") if f.case_id is not None else None,
        since=f.since,
        until=f.until,
    )


@strawberry.type
class ModerationQuery:
    @strawberry.field(description="What the viewer may moderate. FORBIDDEN for members who moderate nothing.")
    async def moderation_capabilities(self, info: Info) -> ModerationCapabilities:
        ctx = info.context
        caps = await ctx.moderation.capabilities(ctx.viewer)
        if not caps.platform and not caps.hub_ids:
            raise Forbidden("only moderators may do this")
        return ModerationCapabilities(platform=caps.platform, hub_ids=caps.hub_ids)

    @strawberry.field(description="Moderators: open and waiting cases, and today's decisions (their hubs' only).")
    async def moderation_dashboard(self, info: Info) -> ModerationDashboard:
        d = await info.context.moderation.dashboard(info.context.viewer)
        return ModerationDashboard(
            open_cases=d.open_cases,
            unclaimed_cases=d.unclaimed_cases,
            appealed_cases=d.appealed_cases,
            oldest_waiting_since=d.oldest_waiting_since,
            actions_today=d.actions_today,
        )

    @strawberry.field(
        description="Moderators: the case queue (their hubs' cases for hub moderators). Open cases come oldest "
        "first, everything else newest first."
    )
    async def moderation_cases(
        self,
        info: Info,
        filter: ModerationCaseFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[ModerationCase]:
        flt = _case_filter(filter)
        page = await info.context.moderation.cases(info.context.viewer, flt, page_request(first, after, last, before))
        return connection(page, [ModerationCase.from_out(k) for k in page.items])

    @strawberry.field(description="A case: for its moderators, or (to appeal it) for the member it is about.")
    async def moderation_case(self, info: Info, id: strawberry.ID) -> ModerationCase | None:
        ctx = info.context
        case_id = case_id_of(id, "id")
        caps = await ctx.moderation.capabilities(ctx.viewer)
        try:
            if caps.platform or caps.hub_ids:
                try:
                    return ModerationCase.from_out(await ctx.moderation.case(ctx.viewer, case_id))
                except NotFound:
                    pass
            return ModerationCase.from_out(await ctx.moderation.my_case(ctx.viewer, case_id))
        except NotFound:
            return None

    @strawberry.field(
        description="Decisions moderators took about the viewer's content or account, newest first: each "
        "case can be appealed once (appealDecision). Who reported stays with the moderators."
    )
    async def my_moderation_cases(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[ModerationCase]:
        page = await info.context.moderation.my_cases(info.context.viewer, page_request(first, after, last, before))
        return connection(page, [ModerationCase.from_out(k) for k in page.items])

    @strawberry.field(description="Platform moderators: the audit log, newest first.")
    async def audit_log(
        self,
        info: Info,
        filter: AuditLogFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[AuditEntry]:
        flt = _audit_filter(filter)
        page = await info.context.moderation.audit_log(
            info.context.viewer, flt, page_request(first, after, last, before)
        )
        return connection(page, [AuditEntry.from_out(a) for a in page.items])

    @strawberry.field(description="Moderators: what moderators decided about a member before.")
    async def moderation_history(self, info: Info, member_id: strawberry.ID) -> ModerationHistory:
        return await moderation_history(info, decode_id(member_id, "Member", "memberId"))
