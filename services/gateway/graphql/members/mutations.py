"""Profile edits, follows, blocks and mutes, and platform moderation of members."""

from __future__ import annotations

from datetime import datetime

import strawberry

from services.gateway.context import Info
from services.gateway.graphql.base import UserError, attempt, contract_input, decode_id, input_dict
from services.gateway.graphql.members.types import FollowTargetType, Language, Member, PlatformRole
from services.graph import contracts as gc
from services.moderation import contracts as mc
from shared.errors import BadUserInput, DomainError

TARGET_TYPES = {"member": "Member", "organisation": "Organisation", "hub": "Hub"}


@strawberry.input
class LinkInput:
    label: str
    url: str


@strawberry.input(description="Only the fields you pass change; pass null to clear an optional field.")
class UpdateProfileInput:
    display_name: str | None = strawberry.UNSET
    headline: str | None = strawberry.UNSET
    bio: str | None = strawberry.UNSET
    avatar_url: str | None = strawberry.UNSET
    municipality_code: str | None = strawberry.UNSET
    organisation_id: strawberry.ID | None = strawberry.UNSET
    skills: list[str] | None = strawberry.UNSET
    links: list[LinkInput] | None = strawberry.UNSET
    language: Language | None = strawberry.UNSET  # type: ignore[valid-type]


@strawberry.input
class FollowInput:
    target_id: strawberry.ID = strawberry.field(description="The ID of a Member, Organisation or Hub.")


@strawberry.input
class MemberInput:
    member_id: strawberry.ID


@strawberry.input
class SuspendMemberInput:
    member_id: strawberry.ID
    until: datetime | None = strawberry.field(default=None, description="Null lifts the suspension.")
    reason: str | None = strawberry.field(default=None, description="Why: the member and the audit log see it.")


@strawberry.input
class SetPlatformRoleInput:
    member_id: strawberry.ID
    role: PlatformRole  # type: ignore[valid-type]


@strawberry.type
class MemberPayload:
    member: Member | None
    user_errors: list[UserError]


@strawberry.type
class FollowPayload:
    following: bool = strawberry.field(description="Whether the viewer follows the target after the mutation.")
    target_id: strawberry.ID | None
    target_type: FollowTargetType | None  # type: ignore[valid-type]
    user_errors: list[UserError]


def _follow_target(target_id: str) -> dict[str, object]:
    from shared.ids import InvalidGlobalId, from_global_id

    try:
        kind, raw = from_global_id(str(target_id))
    except InvalidGlobalId as exc:
        raise BadUserInput("malformed id", field="targetId") from exc
    for target_type, type_name in TARGET_TYPES.items():
        if kind == type_name:
            return {"target_type": target_type, "target_id": raw}
    raise BadUserInput("only members, organisations and hubs can be followed", field="targetId")


async def _member_payload(work: object) -> MemberPayload:
    member, errors = await attempt(work)  # type: ignore[arg-type]
    return MemberPayload(member=Member.from_out(member) if member else None, user_errors=errors)


# --- account erasure ---------------------------------------------------------------------------


@strawberry.input
class DeleteAccountInput:
    password: str = strawberry.field(description="The current password, to confirm.")


@strawberry.type
class DeleteAccountPayload:
    erased: bool = strawberry.field(description="Whether the account is gone.")
    user_errors: list[UserError]


async def _delete_account(info: Info, input: DeleteAccountInput) -> DeleteAccountPayload:
    ctx = info.context
    member, errors = await attempt(lambda: ctx.graph.erase_account(ctx.viewer, {"password": input.password}))
    return DeleteAccountPayload(erased=member is not None, user_errors=errors)


DELETE_ACCOUNT = (
    "Erase the viewer's own account for good (the right to erasure): profile, email and password, sessions "
    "and access tokens, follows, blocks, mutes, roles and memberships, and what they posted in their own name, "
    "commented and reacted (posts made as an organisation stay with it). The only owner of an organisation or "
    "the only admin of a hub must hand it over first. From a signed-in session only, not with an access token."
)


@strawberry.type
class MemberMutation:
    @strawberry.mutation(description="Edit the viewer's own profile.")
    async def update_profile(self, info: Info, input: UpdateProfileInput) -> MemberPayload:
        ctx = info.context
        return await _member_payload(
            lambda: ctx.graph.update_profile(ctx.viewer, input_dict(input, {"organisation_id": "Organisation"}))
        )

    @strawberry.mutation(description="Follow a member, organisation or hub. Following twice changes nothing.")
    async def follow(self, info: Info, input: FollowInput) -> FollowPayload:
        return await _follow(info, input, True)

    @strawberry.mutation(description="Stop following. Unfollowing what you don't follow changes nothing.")
    async def unfollow(self, info: Info, input: FollowInput) -> FollowPayload:
        return await _follow(info, input, False)

    @strawberry.mutation(description="Block a member: follows between you end and neither sees the other.")
    async def block_member(self, info: Info, input: MemberInput) -> MemberPayload:
        return await _relation_change(info, input, "block")

    @strawberry.mutation
    async def unblock_member(self, info: Info, input: MemberInput) -> MemberPayload:
        return await _relation_change(info, input, "unblock")

    @strawberry.mutation(description="Mute a member: their content stays out of your feeds and notifications.")
    async def mute_member(self, info: Info, input: MemberInput) -> MemberPayload:
        return await _relation_change(info, input, "mute")

    @strawberry.mutation
    async def unmute_member(self, info: Info, input: MemberInput) -> MemberPayload:
        return await _relation_change(info, input, "unmute")

    @strawberry.mutation(
        description="Moderators: suspend a member until a time (they can read, not write), or lift it. "
        "Recorded in the audit log like moderateMember.",
        deprecation_reason="Use moderateMember with SUSPEND or UNSUSPEND, which takes the reason it records.",
    )
    async def suspend_member(self, info: Info, input: SuspendMemberInput) -> MemberPayload:
        ctx = info.context

        async def work() -> gc.MemberOut:
            member_id = decode_id(input.member_id, "Member", "memberId")
            action = mc.Action.suspend if input.until is not None else mc.Action.unsuspend
            data = contract_input(
                lambda: mc.DecisionIn(
                    action=action, reason=input.reason or "No reason given", suspend_until=input.until
                ),
                {"suspendUntil": "until"},
            )
            try:
                await ctx.moderation.moderate_member(ctx.viewer, member_id, data)
            except DomainError as exc:
                if exc.field == "suspendUntil":
                    exc.field = "until"
                raise
            return (await ctx.graph.members(ctx.viewer, [member_id]))[0]

        return await _member_payload(work)

    @strawberry.mutation(description="Admins: make a member a moderator or admin, or a plain member again.")
    async def set_platform_role(self, info: Info, input: SetPlatformRoleInput) -> MemberPayload:
        ctx = info.context
        return await _member_payload(
            lambda: ctx.graph.set_platform_role(ctx.viewer, input_dict(input, {"member_id": "Member"}))
        )

    delete_account: DeleteAccountPayload = strawberry.mutation(resolver=_delete_account, description=DELETE_ACCOUNT)


async def _relation_change(info: Info, input: MemberInput, action: str) -> MemberPayload:
    ctx = info.context

    async def work() -> gc.MemberOut | None:
        member_id = decode_id(input.member_id, "Member", "memberId")
        await getattr(ctx.graph, action)(ctx.viewer, member_id)
        found = await ctx.graph.members(ctx.viewer, [member_id])
        return found[0] if found else None

    return await _member_payload(work)


async def _follow(info: Info, input: FollowInput, follow: bool) -> FollowPayload:
    ctx = info.context
    target: dict[str, object] = {}

    async def work() -> bool:
        target.update(_follow_target(input.target_id))
        if follow:
            await ctx.graph.follow(ctx.viewer, target)
            return True
        await ctx.graph.unfollow(ctx.viewer, target)
        return False

    following, errors = await attempt(work)
    return FollowPayload(
        following=bool(following),
        target_id=None if errors else input.target_id,
        target_type=FollowTargetType(target["target_type"]) if target and not errors else None,
        user_errors=errors,
    )
