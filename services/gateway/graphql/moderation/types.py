"""Moderation: reports, cases, decisions, appeals and the audit log."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import strawberry

from services.gateway.context import Info
from services.gateway.graphql.base import Connection, Node, connection, decode_id, gid, graphql_enum, page_request
from services.gateway.graphql.hubs.types import Hub
from services.gateway.graphql.members.types import Member
from services.gateway.graphql.organisations.types import Organisation
from services.moderation import contracts as mc
from shared.errors import BadUserInput
from shared.ids import InvalidGlobalId, from_global_id

ReportReason = graphql_enum(mc.ReportReason, "ReportReason", "Why a member reports something.")
ReportTargetType = graphql_enum(mc.TargetType, "ReportTargetType", "What a report is about.")
ModerationCaseStatus = graphql_enum(
    mc.CaseStatus, "ModerationCaseStatus", "OPEN: waiting for (or under) review; RESOLVED: decided."
)
ContentState = graphql_enum(mc.ContentState, "ContentState", "Whether readers can see the content.")
ModerationAction = graphql_enum(
    mc.Action,
    "ModerationAction",
    "What a moderator decides. AUTO_HIDE is the platform's own: content hidden pending review after "
    "reports from several members.",
)
ClaimFilter = graphql_enum(mc.ClaimFilter, "ClaimFilter", "Cases claimed by anyone, by the viewer, or by nobody.")

# A report's target, by the type its global id names.
TARGET_TYPES = {
    "Post": mc.TargetType.post,
    "Comment": mc.TargetType.comment,
    "Event": mc.TargetType.event,
    "Member": mc.TargetType.member,
    "Organisation": mc.TargetType.organisation,
}
TARGET_NAMES = {v: k for k, v in TARGET_TYPES.items()}


def decode_target(value: str, field: str = "targetId") -> tuple[mc.TargetType, int]:
    try:
        type_name, raw = from_global_id(str(value))
    except InvalidGlobalId as exc:
        raise BadUserInput("malformed id", field=field) from exc
    if type_name not in TARGET_TYPES:
        raise BadUserInput("posts, comments, events, members and organisations can be reported", field=field)
    return TARGET_TYPES[type_name], raw


async def _member(info: Info, member_id: int | None) -> Member | None:
    if member_id is None:
        return None
    m = await info.context.loaders.member.load(member_id)
    return Member.from_out(m) if m else None


async def _hub(info: Info, hub_id: int | None) -> Hub | None:
    if hub_id is None:
        return None
    h = await info.context.loaders.hub.load(hub_id)
    return Hub.from_out(h) if h else None


@strawberry.type(description="What the viewer may moderate.")
class ModerationCapabilities:
    platform: bool = strawberry.field(description="A platform moderator or admin: every case, members, organisations.")
    hub_ids: strawberry.Private[list[int]]

    @strawberry.field(description="The hubs whose content the viewer moderates (platform moderators: none listed).")
    async def hubs(self, info: Info) -> list[Hub]:
        found = await info.context.loaders.hub.load_many(self.hub_ids)
        return [Hub.from_out(h) for h in found if h]


@strawberry.type
class ModerationDashboard:
    open_cases: int
    unclaimed_cases: int
    appealed_cases: int
    oldest_waiting_since: datetime | None = strawberry.field(
        description="When the longest-waiting open case was opened (or appealed)."
    )
    actions_today: int = strawberry.field(description="Decisions since midnight, Swedish time.")


@strawberry.type
class ReasonCount:
    reason: ReportReason  # type: ignore[valid-type]
    count: int


@strawberry.type(description="The content of a case as its author and readers saw it, and whether it still shows.")
class ModeratedContent:
    target_type: ReportTargetType  # type: ignore[valid-type]
    target_id: strawberry.ID
    title: str | None
    body: str
    body_html: str = strawberry.field(description="As readers saw it: sanitised HTML (empty for members).")
    url: str | None
    created_at: datetime | None
    edited_at: datetime | None
    state: ContentState  # type: ignore[valid-type]
    author_id: strawberry.Private[int | None]
    hub_id: strawberry.Private[int | None]

    @classmethod
    def of(cls, snapshot: dict[str, Any], state: str) -> ModeratedContent:
        kind = mc.TargetType(snapshot.get("target_type", "post"))

        def when(key: str) -> datetime | None:
            raw = snapshot.get(key)
            return datetime.fromisoformat(raw) if isinstance(raw, str) else None

        return cls(
            target_type=ReportTargetType(kind.value),
            target_id=gid(TARGET_NAMES[kind], int(snapshot["id"])),
            title=snapshot.get("title"),
            body=str(snapshot.get("body") or ""),
            body_html=str(snapshot.get("body_html") or ""),
            url=snapshot.get("url"),
            created_at=when("created_at"),
            edited_at=when("edited_at"),
            state=ContentState(state),
            author_id=snapshot.get("author_id"),
            hub_id=snapshot.get("hub_id"),
        )

    @strawberry.field
    async def author(self, info: Info) -> Member | None:
        return await _member(info, self.author_id)

    @strawberry.field
    async def hub(self, info: Info) -> Hub | None:
        return await _hub(info, self.hub_id)


@strawberry.type(description="One member's report.")
class Report(Node):
    id: strawberry.ID
    reason: ReportReason  # type: ignore[valid-type]
    note: str
    created_at: datetime
    reporter_id: strawberry.Private[int]

    @classmethod
    def from_out(cls, r: mc.ReportOut) -> Report:
        return cls(
            id=gid("Report", r.id),
            reason=ReportReason(r.reason.value),
            note=r.note,
            created_at=r.created_at,
            reporter_id=r.reporter_id,
        )

    @strawberry.field
    async def reporter(self, info: Info) -> Member | None:
        return await _member(info, self.reporter_id)


@strawberry.type(description="A moderator's decision (or the platform's own, AUTO_HIDE), with its reason.")
class ModerationDecision(Node):
    id: strawberry.ID
    action: ModerationAction  # type: ignore[valid-type]
    reason: str
    suspended_until: datetime | None
    created_at: datetime
    moderator_id: strawberry.Private[int | None]

    @classmethod
    def from_out(cls, d: mc.DecisionOut) -> ModerationDecision:
        return cls(
            id=gid("ModerationDecision", d.id),
            action=ModerationAction(d.action.value),
            reason=d.reason,
            suspended_until=d.suspended_until,
            created_at=d.created_at,
            moderator_id=d.moderator_id,
        )

    @strawberry.field(description="Who decided; null for the platform's own decisions.")
    async def moderator(self, info: Info) -> Member | None:
        return await _member(info, self.moderator_id)


@strawberry.type
class Appeal:
    statement: str
    created_at: datetime
    decided_at: datetime | None


@strawberry.type(description="What moderators decided about a member before.")
class ModerationHistory:
    warnings: int
    suspensions: int
    removals: int
    hides: int
    bans: int
    member_id: strawberry.Private[int]

    @strawberry.field
    async def member(self, info: Info) -> Member | None:
        return await _member(info, self.member_id)

    @strawberry.field(description="The decisions, newest first.")
    async def decisions(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[ModerationDecision]:
        page = await info.context.moderation.history_decisions(
            info.context.viewer, self.member_id, page_request(first, after, last, before)
        )
        return connection(page, [ModerationDecision.from_out(d) for d in page.items])

    @strawberry.field(description="The member's latest posts, events and comments, hidden and removed ones included.")
    async def recent_content(self, info: Info, limit: int = 10) -> list[ModeratedContent]:
        if not 1 <= limit <= 50:
            raise BadUserInput("limit must be between 1 and 50", field="limit")
        found = await info.context.moderation.recent_content(info.context.viewer, self.member_id, limit)
        return [ModeratedContent.of(s.model_dump(mode="json"), _state(s)) for s in found]


def _state(snapshot: Any) -> str:
    if snapshot.deleted_at is not None:
        return mc.ContentState.removed.value
    if snapshot.hidden_at is not None:
        return mc.ContentState.hidden.value
    return mc.ContentState.visible.value


@strawberry.type(description="Every report about one target, and what moderators decided.")
class ModerationCase(Node):
    id: strawberry.ID
    status: ModerationCaseStatus  # type: ignore[valid-type]
    target_type: ReportTargetType  # type: ignore[valid-type]
    target_id: strawberry.ID
    report_count: int
    reasons: list[ReasonCount]
    claimed_at: datetime | None
    opened_at: datetime
    last_reported_at: datetime
    resolved_at: datetime | None
    auto_hidden: bool = strawberry.field(description="Hidden by the platform after reports from several members.")
    appeal: Appeal | None
    decisions: list[ModerationDecision]
    content: ModeratedContent | None = strawberry.field(
        description="The content as it was first reported, with whether it shows now."
    )
    raw_id: strawberry.Private[int]
    claimed_by_id: strawberry.Private[int | None]
    hub_id: strawberry.Private[int | None]
    subject_member_id: strawberry.Private[int | None]
    subject_organisation_id: strawberry.Private[int | None]

    @classmethod
    def from_out(cls, k: mc.CaseOut) -> ModerationCase:
        appeal = (
            Appeal(statement=k.appeal_statement or "", created_at=k.appealed_at, decided_at=k.appeal_decided_at)
            if k.appealed_at is not None
            else None
        )
        return cls(
            id=gid("ModerationCase", k.id),
            status=ModerationCaseStatus(k.status.value),
            target_type=ReportTargetType(k.target_type.value),
            target_id=gid(TARGET_NAMES[k.target_type], k.target_id),
            report_count=k.report_count,
            reasons=[ReasonCount(reason=ReportReason(r), count=n) for r, n in sorted(k.reasons.items())],
            claimed_at=k.claimed_at,
            opened_at=k.opened_at,
            last_reported_at=k.last_reported_at,
            resolved_at=k.resolved_at,
            auto_hidden=k.auto_hidden,
            appeal=appeal,
            decisions=[ModerationDecision.from_out(d) for d in k.decisions],
            content=ModeratedContent.of(k.snapshot, k.content_state.value) if k.snapshot else None,
            raw_id=k.id,
            claimed_by_id=k.claimed_by,
            hub_id=k.hub_id,
            subject_member_id=k.subject_member_id,
            subject_organisation_id=k.subject_organisation_id,
        )

    @strawberry.field(description="The moderator working the case (or who decided it).")
    async def claimed_by(self, info: Info) -> Member | None:
        return await _member(info, self.claimed_by_id)

    @strawberry.field
    async def hub(self, info: Info) -> Hub | None:
        return await _hub(info, self.hub_id)

    @strawberry.field(description="The author of the content, or the member reported.")
    async def subject_member(self, info: Info) -> Member | None:
        return await _member(info, self.subject_member_id)

    @strawberry.field(description="The organisation reported.")
    async def subject_organisation(self, info: Info) -> Organisation | None:
        if self.subject_organisation_id is None:
            return None
        o = await info.context.loaders.organisation.load(self.subject_organisation_id)
        return Organisation.from_out(o) if o else None

    @strawberry.field(description="The reports, oldest first. Moderators only.")
    async def reports(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Report]:
        page = await info.context.moderation.case_reports(
            info.context.viewer, self.raw_id, page_request(first, after, last, before)
        )
        return connection(page, [Report.from_out(r) for r in page.items])

    @strawberry.field(description="What moderators decided about the author before. Moderators only.")
    async def author_history(self, info: Info) -> ModerationHistory | None:
        if self.subject_member_id is None:
            return None
        return await moderation_history(info, self.subject_member_id)


async def moderation_history(info: Info, member_id: int) -> ModerationHistory:
    h = await info.context.moderation.history(info.context.viewer, member_id)
    return ModerationHistory(
        warnings=h.warnings,
        suspensions=h.suspensions,
        removals=h.removals,
        hides=h.hides,
        bans=h.bans,
        member_id=member_id,
    )


@strawberry.type(description="One line of the append-only audit log.")
class AuditEntry(Node):
    id: strawberry.ID
    actor_label: str = strawberry.field(description="@handle, or Hubben for the platform's own actions.")
    action: str
    target_type: str
    target_id: str = strawberry.field(description="The service's own id of the target.")
    reason: str
    before: str = strawberry.field(description="What the action changed, before it: a JSON object.")
    after: str = strawberry.field(description="The same, after it: a JSON object.")
    created_at: datetime
    actor_id: strawberry.Private[int | None]
    case_id: strawberry.Private[int | None]

    @classmethod
    def from_out(cls, a: mc.AuditEntryOut) -> AuditEntry:
        return cls(
            id=gid("AuditEntry", a.id),
            actor_label=a.actor_label,
            action=a.action,
            target_type=a.target_type,
            target_id=a.target_id,
            reason=a.reason,
            before=json.dumps(a.before, ensure_ascii=False, sort_keys=True),
            after=json.dumps(a.after, ensure_ascii=False, sort_keys=True),
            created_at=a.created_at,
            actor_id=a.actor_id,
            case_id=a.case_id,
        )

    @strawberry.field(description="Who acted; null for the platform itself.")
    async def actor(self, info: Info) -> Member | None:
        return await _member(info, self.actor_id)

    @strawberry.field(name="case")
    async def moderation_case(self, info: Info) -> ModerationCase | None:
        if self.case_id is None:
            return None
        return ModerationCase.from_out(await info.context.moderation.case(info.context.viewer, self.case_id))


def case_id_of(value: str, field: str = "caseId") -> int:
    return decode_id(value, "ModerationCase", field)
