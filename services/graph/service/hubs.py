"""Hubs: communities owned by an organisation, with admins, moderators and members."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.graph import contracts as c
from services.graph import repository as repo
from services.graph.models import Hub, HubMembership, Member
from services.graph.service.common import get_member, is_moderation_service, is_platform_moderator, require_writer
from services.graph.service.organisations import MANAGERS, get_organisation, role_of
from shared.auth import Principal
from shared.database import utcnow
from shared.errors import BadUserInput, Conflict, Forbidden, NotFound
from shared.outbox import record_event

HUB_STAFF = ("admin", "moderator")


async def visible_hub(session: AsyncSession, actor: Principal, hub_id: int) -> Hub:
    hubs = await repo.hubs_by_ids(session, [hub_id], actor)
    if not hubs:
        raise NotFound("no such hub", field="hubId")
    return hubs[0]


async def _active_role(session: AsyncSession, hub_id: int, member_id: int) -> str | None:
    row = await repo.hub_membership(session, hub_id, member_id)
    return row.role if row and row.state == "active" else None


async def _require_hub_role(
    session: AsyncSession, actor: Principal, hub_id: int, allowed: tuple[str, ...]
) -> tuple[Member, Hub]:
    me = await require_writer(session, actor)
    hub = await visible_hub(session, actor, hub_id)
    role = await _active_role(session, hub.id, me.id)
    if role in allowed:
        return me, hub
    # The owning organisation's managers can always run their hubs.
    if await role_of(session, hub.organisation_id, me.id) in MANAGERS:
        return me, hub
    raise Forbidden(f"this needs one of the hub roles {', '.join(allowed)}")


async def create_hub(session: AsyncSession, actor: Principal, data: c.HubCreateIn) -> Hub:
    me = await require_writer(session, actor)
    org = await get_organisation(session, data.organisation_id)
    if await role_of(session, org.id, me.id) not in MANAGERS:
        raise Forbidden(f"only owners and admins of {org.name} may create its hubs")
    if await repo.slug_taken(session, Hub, data.slug):
        raise Conflict("this slug is taken", field="slug")
    values = data.model_dump()
    values["visibility"] = str(values["visibility"])
    values["join_policy"] = str(values["join_policy"])
    hub = Hub(**values, created_by=me.id, members_count=1)
    session.add(hub)
    await session.flush()
    session.add(HubMembership(hub_id=hub.id, member_id=me.id, role="admin", state="active"))
    record_event(session, "hub.created", {"hub_id": hub.id, "organisation_id": org.id, "by": me.id})
    await session.flush()
    return hub


async def update_hub(session: AsyncSession, actor: Principal, hub_id: int, data: c.HubUpdateIn) -> Hub:
    _, hub = await _require_hub_role(session, actor, hub_id, ("admin",))
    changes = data.model_dump(exclude_unset=True)
    for field, value in changes.items():
        if value is None:
            raise BadUserInput("this field cannot be cleared", field=field)
        setattr(hub, field, str(value))
    hub.updated_at = utcnow()
    record_event(session, "hub.updated", {"hub_id": hub.id, "fields": sorted(changes), "visibility": hub.visibility})
    await session.flush()
    return hub


async def _activate(session: AsyncSession, row: HubMembership) -> None:
    row.state = "active"
    await repo.bump(session, Hub, row.hub_id, "members_count", 1)
    record_event(session, "hub.member_joined", {"hub_id": row.hub_id, "member_id": row.member_id})


async def join(session: AsyncSession, actor: Principal, hub_id: int) -> HubMembership:
    """Open hubs let anyone in; request hubs queue the request; invite hubs take invitees only."""
    me = await require_writer(session, actor)
    hub = await visible_hub(session, actor, hub_id)
    row = await repo.hub_membership(session, hub.id, me.id)
    if row is not None:
        if row.state == "invited":
            await _activate(session, row)
            await session.flush()
            return row
        raise Conflict(
            "you are already a member" if row.state == "active" else "your request is waiting for approval",
            field="hubId",
        )
    if hub.join_policy == "invite":
        raise Forbidden("this hub is by invitation only")
    row = HubMembership(hub_id=hub.id, member_id=me.id, role="member", state="requested")
    session.add(row)
    if hub.join_policy == "open":
        await _activate(session, row)
    else:
        record_event(session, "hub.join_requested", {"hub_id": hub.id, "member_id": me.id})
    await session.flush()
    return row


async def leave(session: AsyncSession, actor: Principal, hub_id: int) -> None:
    me = await require_writer(session, actor)
    hub = await visible_hub(session, actor, hub_id)
    row = await repo.hub_membership(session, hub.id, me.id)
    if row is None:
        raise BadUserInput("you are not a member of this hub", field="hubId")
    await _remove(session, row, field="hubId")


async def _remove(session: AsyncSession, row: HubMembership, field: str = "memberId") -> None:
    if row.state == "active" and row.role == "admin" and await repo.count_hub_admins(session, row.hub_id) <= 1:
        raise BadUserInput("a hub keeps at least one admin; appoint another first", field=field)
    if row.state == "active":
        await repo.bump(session, Hub, row.hub_id, "members_count", -1)
    await session.delete(row)
    record_event(session, "hub.member_left", {"hub_id": row.hub_id, "member_id": row.member_id})
    await session.flush()


async def invite(session: AsyncSession, actor: Principal, hub_id: int, member_id: int) -> HubMembership:
    me, hub = await _require_hub_role(session, actor, hub_id, HUB_STAFF)
    invitee = await get_member(session, member_id)
    if await repo.block_between(session, me.id, invitee.id):
        raise Forbidden("you cannot invite this member")
    row = await repo.hub_membership(session, hub.id, invitee.id)
    if row is not None and row.state == "requested":
        await _activate(session, row)  # inviting someone who asked is approving them
    elif row is not None:
        raise Conflict("this member is already invited or in the hub", field="memberId")
    else:
        row = HubMembership(hub_id=hub.id, member_id=invitee.id, role="member", state="invited")
        session.add(row)
        record_event(
            session,
            "hub.invitation_created",
            {"hub_id": hub.id, "member_id": invitee.id, "by": me.id},
        )
    await session.flush()
    return row


async def decide_request(
    session: AsyncSession, actor: Principal, hub_id: int, member_id: int, approve: bool
) -> HubMembership | None:
    _, hub = await _require_hub_role(session, actor, hub_id, HUB_STAFF)
    row = await repo.hub_membership(session, hub.id, member_id)
    if row is None or row.state != "requested":
        raise NotFound("no pending request from this member", field="memberId")
    if approve:
        await _activate(session, row)
        await session.flush()
        return row
    await session.delete(row)
    await session.flush()
    return None


async def set_role(session: AsyncSession, actor: Principal, hub_id: int, data: c.HubRoleIn) -> HubMembership:
    """Hub admins (and the owning organisation's managers) set roles; so does the moderation
    service, through which platform moderators appoint and remove hub moderators (audited)."""
    if is_moderation_service(actor):
        found = await session.get(Hub, hub_id)
        if found is None:
            raise NotFound("no such hub", field="hubId")
        hub = found
    else:
        _, hub = await _require_hub_role(session, actor, hub_id, ("admin",))
    row = await repo.hub_membership(session, hub.id, data.member_id)
    if row is None or row.state != "active":
        raise NotFound("that member is not in this hub", field="memberId")
    if row.role == "admin" and data.role != "admin" and await repo.count_hub_admins(session, hub.id) <= 1:
        raise BadUserInput("a hub keeps at least one admin", field="role")
    row.role = data.role.value
    record_event(
        session,
        "hub.role_changed",
        {"hub_id": hub.id, "member_id": row.member_id, "role": row.role, "by": actor.member_id},
    )
    await session.flush()
    return row


async def remove_member(session: AsyncSession, actor: Principal, hub_id: int, member_id: int) -> None:
    _, hub = await _require_hub_role(session, actor, hub_id, HUB_STAFF)
    row = await repo.hub_membership(session, hub.id, member_id)
    if row is None:
        raise NotFound("that member is not in this hub", field="memberId")
    if row.role in HUB_STAFF and await _active_role(session, hub.id, actor.member_id or 0) != "admin":
        if await role_of(session, hub.organisation_id, actor.member_id) not in MANAGERS:
            raise Forbidden("only hub admins may remove staff")
    await _remove(session, row)


async def require_staff_view(session: AsyncSession, actor: Principal, hub_id: int) -> Hub:
    """Pending requests and invitations are for hub staff only."""
    if actor.member_id is None:
        raise Forbidden("hub staff only")
    hub = await visible_hub(session, actor, hub_id)
    if actor.is_moderator:
        return hub
    if await _active_role(session, hub.id, actor.member_id) in HUB_STAFF:
        return hub
    if await role_of(session, hub.organisation_id, actor.member_id) in MANAGERS:
        return hub
    raise Forbidden("hub staff only")


async def staffed_hubs(session: AsyncSession, actor: Principal, member_id: int) -> list[int]:
    """Ids of the hubs where the member is active staff (admin or moderator): what they may
    moderate. Shown to the member, platform moderators and the moderation service."""
    if actor.member_id != member_id and not (is_platform_moderator(actor) or is_moderation_service(actor)):
        raise Forbidden("only the member and moderators may see where a member is hub staff")
    return await repo.hub_ids_with_role(session, member_id, HUB_STAFF)
