"""Organisations, their members' roles and the invitations that grant them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.graph import contracts as c
from services.graph import repository as repo
from services.graph.models import Member, Organisation, OrganisationInvitation, OrganisationRole
from services.graph.service.common import (
    get_member,
    require_member_id,
    require_moderation,
    require_writer,
)
from shared.auth import Principal
from shared.database import utcnow
from shared.errors import BadUserInput, Conflict, Forbidden, NotFound
from shared.geo import municipalities
from shared.outbox import record_event

MANAGERS = ("owner", "admin")
EDITORS = ("owner", "admin", "editor")


async def get_organisation(session: AsyncSession, org_id: int) -> Organisation:
    org = await session.get(Organisation, org_id)
    if org is None:
        raise NotFound("no such organisation", field="organisationId")
    return org


async def role_of(session: AsyncSession, org_id: int, member_id: int | None) -> str | None:
    if member_id is None:
        return None
    row = await repo.organisation_role(session, org_id, member_id)
    return row.role if row else None


async def require_org_role(
    session: AsyncSession, actor: Principal, org_id: int, allowed: tuple[str, ...]
) -> tuple[Member, Organisation, str | None]:
    member = await require_writer(session, actor)
    org = await get_organisation(session, org_id)
    role = await role_of(session, org_id, member.id)
    if role not in allowed:
        raise Forbidden(f"this needs one of the roles {', '.join(allowed)} in {org.name}")
    return member, org, role


def _county_from(data: dict[str, object]) -> None:
    code = data.get("municipality_code")
    if code and not data.get("county_code"):
        data["county_code"] = municipalities()[str(code)].county_code
    if code and data.get("county_code") and municipalities()[str(code)].county_code != data["county_code"]:
        raise BadUserInput("the municipality is not in that county", field="county_code")


async def create_organisation(session: AsyncSession, actor: Principal, data: c.OrganisationCreateIn) -> Organisation:
    member = await require_writer(session, actor)
    if await repo.slug_taken(session, Organisation, data.slug):
        raise Conflict("this slug is taken", field="slug")
    values = data.model_dump()
    values["kind"] = str(values["kind"])
    _county_from(values)
    org = Organisation(**values, created_by=member.id, members_count=1)
    session.add(org)
    await session.flush()
    session.add(OrganisationRole(organisation_id=org.id, member_id=member.id, role="owner"))
    record_event(session, "organisation.created", {"organisation_id": org.id, "by": member.id})
    await session.flush()
    return org


async def update_organisation(
    session: AsyncSession, actor: Principal, org_id: int, data: c.OrganisationUpdateIn
) -> Organisation:
    _, org, _ = await require_org_role(session, actor, org_id, MANAGERS)
    changes = data.model_dump(exclude_unset=True)
    for field in ("name", "kind", "description"):
        if field in changes and changes[field] is None:
            raise BadUserInput("this field cannot be cleared", field=field)
    if "kind" in changes:
        changes["kind"] = str(changes["kind"])
    merged = {"municipality_code": org.municipality_code, "county_code": org.county_code, **changes}
    if changes.get("municipality_code") and "county_code" not in changes:
        merged["county_code"] = None
    _county_from(merged)
    changes["county_code"] = merged["county_code"]
    for field, value in changes.items():
        setattr(org, field, value)
    org.updated_at = utcnow()
    record_event(session, "organisation.updated", {"organisation_id": org.id, "fields": sorted(changes)})
    await session.flush()
    return org


async def set_verified(session: AsyncSession, actor: Principal, org_id: int, verified: bool) -> Organisation:
    require_moderation(actor)
    org = await get_organisation(session, org_id)
    org.verified = verified
    org.updated_at = utcnow()
    record_event(
        session,
        "organisation.verified" if verified else "organisation.unverified",
        {"organisation_id": org.id, "by": actor.member_id},
    )
    await session.flush()
    return org


async def set_role(
    session: AsyncSession, actor: Principal, org_id: int, data: c.OrganisationRoleIn
) -> OrganisationRole:
    """Change the role of someone already in the organisation (new people come by invitation)."""
    me, org, my_role = await require_org_role(session, actor, org_id, MANAGERS)
    row = await repo.organisation_role(session, org_id, data.member_id)
    if row is None:
        raise NotFound("that member is not in this organisation; invite them", field="memberId")
    if (data.role == "owner" or row.role == "owner") and my_role != "owner":
        raise Forbidden("only owners may grant or take the owner role")
    if row.role == "owner" and data.role != "owner" and await repo.count_owners(session, org_id) <= 1:
        raise BadUserInput("an organisation keeps at least one owner", field="role")
    row.role = data.role.value
    record_event(
        session,
        "organisation.role_changed",
        {"organisation_id": org.id, "member_id": data.member_id, "role": row.role, "by": me.id},
    )
    await session.flush()
    return row


async def remove_member(session: AsyncSession, actor: Principal, org_id: int, member_id: int) -> None:
    """Managers remove others; anyone may leave. The last owner can do neither."""
    me = await require_writer(session, actor)
    org = await get_organisation(session, org_id)
    row = await repo.organisation_role(session, org_id, member_id)
    if row is None:
        raise NotFound("that member is not in this organisation", field="memberId")
    if member_id != me.id:
        my_role = await role_of(session, org_id, me.id)
        if my_role not in MANAGERS or (row.role == "owner" and my_role != "owner"):
            raise Forbidden("you may not remove this member")
    if row.role == "owner" and await repo.count_owners(session, org_id) <= 1:
        raise BadUserInput("an organisation keeps at least one owner", field="memberId")
    await session.delete(row)
    await repo.bump(session, Organisation, org.id, "members_count", -1)
    affiliated = await get_member(session, member_id)
    if affiliated.organisation_id == org.id:
        affiliated.organisation_id = None
    record_event(session, "organisation.member_removed", {"organisation_id": org.id, "member_id": member_id})
    await session.flush()


async def invite(session: AsyncSession, actor: Principal, org_id: int, data: c.InvitationIn) -> OrganisationInvitation:
    me, org, my_role = await require_org_role(session, actor, org_id, MANAGERS)
    if data.role == "owner" and my_role != "owner":
        raise Forbidden("only owners may invite owners")
    invitee = await get_member(session, data.member_id)
    if await repo.organisation_role(session, org_id, invitee.id):
        raise Conflict("this member is already in the organisation", field="memberId")
    if await repo.block_between(session, me.id, invitee.id):
        raise Forbidden("you cannot invite this member")
    if await repo.pending_invitation(session, org_id, invitee.id):
        raise Conflict("an invitation is already waiting for this member", field="memberId")
    invitation = OrganisationInvitation(
        organisation_id=org.id, invitee_id=invitee.id, inviter_id=me.id, role=data.role.value
    )
    session.add(invitation)
    await session.flush()
    record_event(
        session,
        "organisation.invitation_created",
        {
            "invitation_id": invitation.id,
            "organisation_id": org.id,
            "invitee_id": invitee.id,
            "inviter_id": me.id,
            "role": invitation.role,
        },
    )
    return invitation


async def _open_invitation(session: AsyncSession, invitation_id: int) -> OrganisationInvitation:
    invitation = await session.get(OrganisationInvitation, invitation_id)
    if invitation is None:
        raise NotFound("no such invitation", field="invitationId")
    return invitation


async def respond(session: AsyncSession, actor: Principal, invitation_id: int, accept: bool) -> OrganisationInvitation:
    me = await require_writer(session, actor)
    invitation = await _open_invitation(session, invitation_id)
    if invitation.invitee_id != me.id:
        raise NotFound("no such invitation", field="invitationId")
    if invitation.status != "pending":
        raise BadUserInput(f"this invitation is already {invitation.status}", field="invitationId")
    invitation.status = "accepted" if accept else "declined"
    invitation.responded_at = utcnow()
    if accept:
        if await repo.organisation_role(session, invitation.organisation_id, me.id) is None:
            session.add(
                OrganisationRole(
                    organisation_id=invitation.organisation_id,
                    member_id=me.id,
                    role=invitation.role,
                )
            )
            await repo.bump(session, Organisation, invitation.organisation_id, "members_count", 1)
        record_event(
            session,
            "organisation.member_joined",
            {
                "organisation_id": invitation.organisation_id,
                "member_id": me.id,
                "role": invitation.role,
            },
        )
    await session.flush()
    return invitation


async def revoke_invitation(session: AsyncSession, actor: Principal, invitation_id: int) -> OrganisationInvitation:
    invitation = await _open_invitation(session, invitation_id)
    await require_org_role(session, actor, invitation.organisation_id, MANAGERS)
    if invitation.status != "pending":
        raise BadUserInput(f"this invitation is already {invitation.status}", field="invitationId")
    invitation.status = "revoked"
    invitation.responded_at = utcnow()
    await session.flush()
    return invitation


async def visible_invitation(session: AsyncSession, actor: Principal, invitation_id: int) -> OrganisationInvitation:
    """The invitee and the organisation's managers see an invitation; nobody else learns it exists."""
    me_id = require_member_id(actor)
    invitation = await _open_invitation(session, invitation_id)
    if invitation.invitee_id == me_id or invitation.inviter_id == me_id:
        return invitation
    if await role_of(session, invitation.organisation_id, me_id) in MANAGERS or actor.is_moderator:
        return invitation
    raise NotFound("no such invitation", field="invitationId")
