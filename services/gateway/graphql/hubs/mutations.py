"""Hubs: create and edit, join and leave, invitations, requests and staff roles."""

from __future__ import annotations

import strawberry

from services.gateway.context import Info
from services.gateway.graphql.base import UserError, attempt, decode_id, input_dict
from services.gateway.graphql.hubs.types import Hub, HubMembership, HubRole, HubVisibility, JoinPolicy
from services.graph import contracts as gc


@strawberry.input
class CreateHubInput:
    slug: str
    name: str
    organisation_id: strawberry.ID
    description: str | None = strawberry.UNSET
    visibility: HubVisibility | None = strawberry.UNSET  # type: ignore[valid-type]
    join_policy: JoinPolicy | None = strawberry.UNSET  # type: ignore[valid-type]


@strawberry.input(description="Only the fields you pass change.")
class UpdateHubInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    visibility: HubVisibility | None = strawberry.UNSET  # type: ignore[valid-type]
    join_policy: JoinPolicy | None = strawberry.UNSET  # type: ignore[valid-type]


@strawberry.input
class HubInput:
    hub_id: strawberry.ID


@strawberry.input
class HubMemberInput:
    hub_id: strawberry.ID
    member_id: strawberry.ID


@strawberry.input
class SetHubRoleInput:
    hub_id: strawberry.ID
    member_id: strawberry.ID
    role: HubRole  # type: ignore[valid-type]


@strawberry.type
class HubPayload:
    hub: Hub | None
    user_errors: list[UserError]


@strawberry.type
class HubMembershipPayload:
    membership: HubMembership | None
    hub: Hub | None
    user_errors: list[UserError]


def _drop_none(data: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in data.items() if v is not None}


async def _hub_payload(work: object) -> HubPayload:
    hub, errors = await attempt(work)  # type: ignore[arg-type]
    return HubPayload(hub=Hub.from_out(hub) if hub else None, user_errors=errors)


async def _membership(info: Info, work: object) -> HubMembershipPayload:
    """Run a membership change and return the membership (if any remains) and the hub as it is now."""
    ctx = info.context

    async def run() -> tuple[gc.HubMembershipOut | None, int]:
        return await work()  # type: ignore[operator,no-any-return]

    result, errors = await attempt(run)
    if errors or result is None:
        return HubMembershipPayload(membership=None, hub=None, user_errors=errors)
    row, hub_id = result
    hubs = await ctx.graph.hubs_by_ids(ctx.viewer, [hub_id])
    membership = None
    if row is not None:
        members = await ctx.graph.members(ctx.viewer, [row.member_id])
        membership = HubMembership.from_out(row, members[0]) if members else None
    return HubMembershipPayload(membership=membership, hub=Hub.from_out(hubs[0]) if hubs else None, user_errors=[])


@strawberry.type
class HubMutation:
    @strawberry.mutation(description="Owners and admins of an organisation create its hubs; you become hub admin.")
    async def create_hub(self, info: Info, input: CreateHubInput) -> HubPayload:
        ctx = info.context
        return await _hub_payload(
            lambda: ctx.graph.create_hub(ctx.viewer, _drop_none(input_dict(input, {"organisation_id": "Organisation"})))
        )

    @strawberry.mutation(description="Hub admins edit the hub.")
    async def update_hub(self, info: Info, input: UpdateHubInput) -> HubPayload:
        ctx = info.context

        async def work() -> gc.HubOut:
            data = input_dict(input, {"id": "Hub"})
            hub_id = data.pop("id")
            return await ctx.graph.update_hub(ctx.viewer, hub_id, data)  # type: ignore[arg-type]

        return await _hub_payload(work)

    @strawberry.mutation(description="Join an open hub, ask to join a request hub, or accept an invitation.")
    async def join_hub(self, info: Info, input: HubInput) -> HubMembershipPayload:
        ctx = info.context

        async def work() -> tuple[gc.HubMembershipOut, int]:
            hub_id = decode_id(input.hub_id, "Hub", "hubId")
            return await ctx.graph.join_hub(ctx.viewer, hub_id), hub_id

        return await _membership(info, work)

    @strawberry.mutation(description="Leave a hub, or withdraw a request or invitation.")
    async def leave_hub(self, info: Info, input: HubInput) -> HubMembershipPayload:
        ctx = info.context

        async def work() -> tuple[None, int]:
            hub_id = decode_id(input.hub_id, "Hub", "hubId")
            await ctx.graph.leave_hub(ctx.viewer, hub_id)
            return None, hub_id

        return await _membership(info, work)

    @strawberry.mutation(description="Hub staff invite a member (approves them if they had asked to join).")
    async def invite_to_hub(self, info: Info, input: HubMemberInput) -> HubMembershipPayload:
        return await _staff_action(info, input, "invite")

    @strawberry.mutation
    async def approve_hub_request(self, info: Info, input: HubMemberInput) -> HubMembershipPayload:
        return await _staff_action(info, input, "approve")

    @strawberry.mutation
    async def reject_hub_request(self, info: Info, input: HubMemberInput) -> HubMembershipPayload:
        return await _staff_action(info, input, "reject")

    @strawberry.mutation(description="Hub staff remove a member (only admins remove staff).")
    async def remove_hub_member(self, info: Info, input: HubMemberInput) -> HubMembershipPayload:
        return await _staff_action(info, input, "remove")

    @strawberry.mutation(description="Hub admins appoint admins and moderators.")
    async def set_hub_role(self, info: Info, input: SetHubRoleInput) -> HubMembershipPayload:
        ctx = info.context

        async def work() -> tuple[gc.HubMembershipOut, int]:
            data = input_dict(input, {"hub_id": "Hub", "member_id": "Member"})
            hub_id = data.pop("hub_id")
            return await ctx.graph.set_hub_role(ctx.viewer, hub_id, data), hub_id  # type: ignore[arg-type]

        return await _membership(info, work)


async def _staff_action(info: Info, input: HubMemberInput, action: str) -> HubMembershipPayload:
    ctx = info.context

    async def work() -> tuple[gc.HubMembershipOut | None, int]:
        hub_id = decode_id(input.hub_id, "Hub", "hubId")
        member_id = decode_id(input.member_id, "Member", "memberId")
        if action == "invite":
            return await ctx.graph.invite_to_hub(ctx.viewer, hub_id, member_id), hub_id
        if action == "remove":
            await ctx.graph.remove_hub_member(ctx.viewer, hub_id, member_id)
            return None, hub_id
        return await ctx.graph.decide_hub_request(ctx.viewer, hub_id, member_id, action == "approve"), hub_id

    return await _membership(info, work)
