"""Organisations: create and edit, roles, invitations, verification."""

from __future__ import annotations

import strawberry

from services.gateway.context import Info
from services.gateway.graphql.base import UserError, attempt, contract_input, decode_id, input_dict
from services.gateway.graphql.members.types import Member
from services.gateway.graphql.organisations.types import (
    Organisation,
    OrganisationInvitation,
    OrganisationKind,
    OrganisationMembership,
    OrganisationRole,
)
from services.graph import contracts as gc
from services.moderation import contracts as mc


@strawberry.input
class CreateOrganisationInput:
    slug: str
    name: str
    kind: OrganisationKind  # type: ignore[valid-type]
    municipality_code: str | None = strawberry.UNSET
    county_code: str | None = strawberry.UNSET
    website: str | None = strawberry.UNSET
    logo_url: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET


@strawberry.input(description="Only the fields you pass change; pass null to clear an optional field.")
class UpdateOrganisationInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    kind: OrganisationKind | None = strawberry.UNSET  # type: ignore[valid-type]
    municipality_code: str | None = strawberry.UNSET
    county_code: str | None = strawberry.UNSET
    website: str | None = strawberry.UNSET
    logo_url: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET


@strawberry.input
class SetOrganisationRoleInput:
    organisation_id: strawberry.ID
    member_id: strawberry.ID
    role: OrganisationRole  # type: ignore[valid-type]


@strawberry.input
class RemoveOrganisationMemberInput:
    organisation_id: strawberry.ID
    member_id: strawberry.ID


@strawberry.input
class InviteToOrganisationInput:
    organisation_id: strawberry.ID
    member_id: strawberry.ID
    role: OrganisationRole = OrganisationRole("member")  # type: ignore[valid-type]


@strawberry.input
class InvitationInput:
    invitation_id: strawberry.ID


@strawberry.input
class SetOrganisationVerifiedInput:
    organisation_id: strawberry.ID
    verified: bool
    reason: str | None = strawberry.field(default=None, description="Why: the audit log keeps it.")


@strawberry.type
class OrganisationPayload:
    organisation: Organisation | None
    user_errors: list[UserError]


@strawberry.type
class OrganisationMembershipPayload:
    membership: OrganisationMembership | None
    user_errors: list[UserError]


@strawberry.type
class RemoveOrganisationMemberPayload:
    removed_member_id: strawberry.ID | None
    user_errors: list[UserError]


@strawberry.type
class OrganisationInvitationPayload:
    invitation: OrganisationInvitation | None
    user_errors: list[UserError]


async def _org_payload(work: object) -> OrganisationPayload:
    org, errors = await attempt(work)  # type: ignore[arg-type]
    return OrganisationPayload(organisation=Organisation.from_out(org) if org else None, user_errors=errors)


async def _invitation_payload(work: object) -> OrganisationInvitationPayload:
    inv, errors = await attempt(work)  # type: ignore[arg-type]
    return OrganisationInvitationPayload(
        invitation=OrganisationInvitation.from_out(inv) if inv else None, user_errors=errors
    )


def _body(data: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in data.items() if not (k == "description" and v is None)}


@strawberry.type
class OrganisationMutation:
    @strawberry.mutation(description="Create an organisation; you become its owner.")
    async def create_organisation(self, info: Info, input: CreateOrganisationInput) -> OrganisationPayload:
        ctx = info.context
        return await _org_payload(lambda: ctx.graph.create_organisation(ctx.viewer, _body(input_dict(input))))

    @strawberry.mutation(description="Owners and admins edit the organisation.")
    async def update_organisation(self, info: Info, input: UpdateOrganisationInput) -> OrganisationPayload:
        ctx = info.context

        async def work() -> gc.OrganisationOut:
            data = input_dict(input, {"id": "Organisation"})
            org_id = data.pop("id")
            return await ctx.graph.update_organisation(ctx.viewer, org_id, data)  # type: ignore[arg-type]

        return await _org_payload(work)

    @strawberry.mutation(
        description="Moderators: set or clear the verified badge (recorded in the audit log).",
        deprecation_reason="Use moderateOrganisation, which takes the reason it records.",
    )
    async def set_organisation_verified(self, info: Info, input: SetOrganisationVerifiedInput) -> OrganisationPayload:
        ctx = info.context

        async def work() -> gc.OrganisationOut:
            org_id = decode_id(input.organisation_id, "Organisation", "organisationId")
            action = mc.Action.verify_organisation if input.verified else mc.Action.unverify_organisation
            data = contract_input(
                lambda: mc.OrganisationDecisionIn(action=action, reason=input.reason or "No reason given")
            )
            await ctx.moderation.moderate_organisation(ctx.viewer, org_id, data)
            return (await ctx.graph.organisations_by_ids(ctx.viewer, [org_id]))[0]

        return await _org_payload(work)

    @strawberry.mutation(description="Owners and admins change the role of someone in the organisation.")
    async def set_organisation_role(self, info: Info, input: SetOrganisationRoleInput) -> OrganisationMembershipPayload:
        ctx = info.context

        async def work() -> OrganisationMembership:
            data = input_dict(input, {"organisation_id": "Organisation", "member_id": "Member"})
            org_id = data.pop("organisation_id")
            row = await ctx.graph.set_organisation_role(ctx.viewer, org_id, data)  # type: ignore[arg-type]
            member = (await ctx.graph.members(ctx.viewer, [row.member_id]))[0]
            return OrganisationMembership(
                role=OrganisationRole(row.role), member=Member.from_out(member), joined_at=row.created_at
            )

        membership, errors = await attempt(work)
        return OrganisationMembershipPayload(membership=membership, user_errors=errors)

    @strawberry.mutation(description="Remove someone from the organisation, or leave it yourself.")
    async def remove_organisation_member(
        self, info: Info, input: RemoveOrganisationMemberInput
    ) -> RemoveOrganisationMemberPayload:
        ctx = info.context

        async def work() -> strawberry.ID:
            org_id = decode_id(input.organisation_id, "Organisation", "organisationId")
            member_id = decode_id(input.member_id, "Member", "memberId")
            await ctx.graph.remove_organisation_member(ctx.viewer, org_id, member_id)
            return input.member_id

        removed, errors = await attempt(work)
        return RemoveOrganisationMemberPayload(removed_member_id=removed, user_errors=errors)

    @strawberry.mutation(description="Owners and admins invite a member with a role; the invitee accepts.")
    async def invite_to_organisation(
        self, info: Info, input: InviteToOrganisationInput
    ) -> OrganisationInvitationPayload:
        ctx = info.context

        async def work() -> gc.InvitationOut:
            data = input_dict(input, {"organisation_id": "Organisation", "member_id": "Member"})
            org_id = data.pop("organisation_id")
            return await ctx.graph.invite(ctx.viewer, org_id, data)  # type: ignore[arg-type]

        return await _invitation_payload(work)

    @strawberry.mutation
    async def accept_organisation_invitation(self, info: Info, input: InvitationInput) -> OrganisationInvitationPayload:
        return await _answer(info, input, "accept")

    @strawberry.mutation
    async def decline_organisation_invitation(
        self, info: Info, input: InvitationInput
    ) -> OrganisationInvitationPayload:
        return await _answer(info, input, "decline")

    @strawberry.mutation(description="Owners and admins withdraw a pending invitation.")
    async def revoke_organisation_invitation(self, info: Info, input: InvitationInput) -> OrganisationInvitationPayload:
        return await _answer(info, input, "revoke")


async def _answer(info: Info, input: InvitationInput, action: str) -> OrganisationInvitationPayload:
    ctx = info.context

    async def work() -> gc.InvitationOut:
        invitation_id = decode_id(input.invitation_id, "OrganisationInvitation", "invitationId")
        return await ctx.graph.answer_invitation(ctx.viewer, invitation_id, action)

    return await _invitation_payload(work)
