"""Reporting, and the moderators' work: claiming, deciding, appeals, and the platform's
decisions about members, organisations and hub moderators."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

import strawberry

from services.gateway.context import Info
from services.gateway.graphql.base import UserError, attempt, contract_input, decode_id
from services.gateway.graphql.moderation.types import (
    ModerationAction,
    ModerationCase,
    ModerationDecision,
    Report,
    ReportReason,
    case_id_of,
    decode_target,
)
from services.moderation import contracts as mc


@strawberry.input
class ReportContentInput:
    target_id: strawberry.ID = strawberry.field(description="A Post, Comment, Event, Member or Organisation.")
    reason: ReportReason  # type: ignore[valid-type]
    note: str | None = strawberry.field(default=None, description="What moderators should know (at most 1,000).")


@strawberry.input
class ClaimCaseInput:
    case_id: strawberry.ID
    release: bool | None = strawberry.field(default=None, description="Give the case back to the queue.")


@strawberry.input
class DecideCaseInput:
    case_id: strawberry.ID
    action: ModerationAction  # type: ignore[valid-type]
    reason: str = strawberry.field(description="Why: the author and the audit log see it (1–1,000 characters).")
    suspend_until: datetime | None = strawberry.field(default=None, description="With SUSPEND: when it ends.")


@strawberry.input
class AppealDecisionInput:
    case_id: strawberry.ID
    statement: str = strawberry.field(description="Why the decision should change (1–2,000 characters).")


@strawberry.input
class ModerateMemberInput:
    member_id: strawberry.ID
    action: ModerationAction  # type: ignore[valid-type]
    reason: str
    suspend_until: datetime | None = None


@strawberry.input
class ModerateOrganisationInput:
    organisation_id: strawberry.ID
    action: ModerationAction  # type: ignore[valid-type]
    reason: str


@strawberry.input
class AppointHubModeratorInput:
    hub_id: strawberry.ID
    member_id: strawberry.ID
    reason: str
    remove: bool | None = strawberry.field(default=None, description="Make them a plain hub member again.")


@strawberry.type
class ReportContentPayload:
    report: Report | None
    case: ModerationCase | None = strawberry.field(description="Moderators only; null for other reporters.")
    user_errors: list[UserError]


@strawberry.type
class ModerationCasePayload:
    case: ModerationCase | None
    user_errors: list[UserError]


@strawberry.type
class ModerationDecisionPayload:
    decision: ModerationDecision | None
    user_errors: list[UserError]


async def _case(work: Callable[[], Awaitable[mc.CaseOut]]) -> ModerationCasePayload:
    out, errors = await attempt(work)
    return ModerationCasePayload(case=ModerationCase.from_out(out) if out else None, user_errors=errors)


async def _decision(work: Callable[[], Awaitable[mc.DecisionOut]]) -> ModerationDecisionPayload:
    out, errors = await attempt(work)
    return ModerationDecisionPayload(decision=ModerationDecision.from_out(out) if out else None, user_errors=errors)


@strawberry.type
class ModerationMutation:
    @strawberry.mutation(
        description="Report a post, comment, event, member or organisation to the moderators: one open report "
        "per member and target, and a limited number an hour."
    )
    async def report_content(self, info: Info, input: ReportContentInput) -> ReportContentPayload:
        ctx = info.context

        async def work() -> mc.FiledReportOut:
            kind, raw = decode_target(input.target_id)
            data = contract_input(
                lambda: mc.ReportIn(
                    target_type=kind, target_id=raw, reason=mc.ReportReason(input.reason.value), note=input.note or ""
                )
            )
            return await ctx.moderation.file_report(ctx.viewer, data)

        out, errors = await attempt(work)
        if out is None:
            return ReportContentPayload(report=None, case=None, user_errors=errors)
        caps = await ctx.moderation.capabilities(ctx.viewer)
        sees_case = caps.platform or (out.case.hub_id is not None and out.case.hub_id in caps.hub_ids)
        return ReportContentPayload(
            report=Report.from_out(out.report),
            case=ModerationCase.from_out(out.case) if sees_case else None,
            user_errors=[],
        )

    @strawberry.mutation(description="Moderators: take a case to work on it, or release it.")
    async def claim_case(self, info: Info, input: ClaimCaseInput) -> ModerationCasePayload:
        ctx = info.context

        async def work() -> mc.CaseOut:
            case_id = case_id_of(input.case_id)
            return await ctx.moderation.claim(ctx.viewer, case_id, mc.ClaimIn(release=bool(input.release)))

        return await _case(work)

    @strawberry.mutation(
        description="Moderators: decide a case. Hub moderators may dismiss, hide, remove, restore and warn in their "
        "hubs; suspensions, bans and verification are for platform moderators."
    )
    async def decide_case(self, info: Info, input: DecideCaseInput) -> ModerationCasePayload:
        ctx = info.context

        async def work() -> mc.CaseOut:
            case_id = case_id_of(input.case_id)
            data = contract_input(
                lambda: mc.DecisionIn(
                    action=mc.Action(input.action.value), reason=input.reason, suspend_until=input.suspend_until
                )
            )
            return await ctx.moderation.decide(ctx.viewer, case_id, data)

        return await _case(work)

    @strawberry.mutation(
        description="Appeal a decision about your content or account, once: the case opens again for another moderator."
    )
    async def appeal_decision(self, info: Info, input: AppealDecisionInput) -> ModerationCasePayload:
        ctx = info.context

        async def work() -> mc.CaseOut:
            case_id = case_id_of(input.case_id)
            data = contract_input(lambda: mc.AppealIn(statement=input.statement))
            return await ctx.moderation.appeal(ctx.viewer, case_id, data)

        return await _case(work)

    @strawberry.mutation(description="Platform moderators: warn, suspend, ban, unsuspend or unban a member.")
    async def moderate_member(self, info: Info, input: ModerateMemberInput) -> ModerationDecisionPayload:
        ctx = info.context

        async def work() -> mc.DecisionOut:
            member_id = decode_id(input.member_id, "Member", "memberId")
            data = contract_input(
                lambda: mc.DecisionIn(
                    action=mc.Action(input.action.value), reason=input.reason, suspend_until=input.suspend_until
                )
            )
            return await ctx.moderation.moderate_member(ctx.viewer, member_id, data)

        return await _decision(work)

    @strawberry.mutation(description="Platform moderators: verify an organisation, or take its badge away.")
    async def moderate_organisation(self, info: Info, input: ModerateOrganisationInput) -> ModerationDecisionPayload:
        ctx = info.context

        async def work() -> mc.DecisionOut:
            org_id = decode_id(input.organisation_id, "Organisation", "organisationId")
            data = contract_input(
                lambda: mc.OrganisationDecisionIn(action=mc.Action(input.action.value), reason=input.reason)
            )
            return await ctx.moderation.moderate_organisation(ctx.viewer, org_id, data)

        return await _decision(work)

    @strawberry.mutation(description="Platform moderators: make a hub member a moderator of the hub, or undo it.")
    async def appoint_hub_moderator(self, info: Info, input: AppointHubModeratorInput) -> ModerationDecisionPayload:
        ctx = info.context

        async def work() -> mc.DecisionOut:
            hub_id = decode_id(input.hub_id, "Hub", "hubId")
            member_id = decode_id(input.member_id, "Member", "memberId")
            data = contract_input(
                lambda: mc.HubModeratorIn(member_id=member_id, reason=input.reason, remove=bool(input.remove))
            )
            return await ctx.moderation.appoint_hub_moderator(ctx.viewer, hub_id, data)

        return await _decision(work)
