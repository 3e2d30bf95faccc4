"""Profiles, and the platform-level role, suspension and ban of members."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.graph import contracts as c
from services.graph import repository as repo
from services.graph.models import Member
from services.graph.service.common import get_member, require_moderation, require_moderator, require_writer
from shared.auth import Principal
from shared.database import utcnow
from shared.errors import BadUserInput, Forbidden, NotFound
from shared.outbox import record_event


async def member_by_handle(session: AsyncSession, actor: Principal, handle: str) -> Member:
    member = await repo.member_by_handle(session, handle.strip())
    if member is None or await _hidden_from(session, actor, member.id):
        raise NotFound("no such member", field="handle")
    return member


async def _hidden_from(session: AsyncSession, actor: Principal, member_id: int) -> bool:
    if actor.member_id is None or actor.is_moderator:
        return False
    return bool(await repo.hidden_member_ids(session, actor.member_id, [member_id]))


async def members_by_handles(session: AsyncSession, actor: Principal, handles: list[str]) -> list[Member]:
    found = await repo.members_by_handles(session, handles)
    if actor.member_id is None or actor.is_moderator:
        return found
    hidden = await repo.hidden_member_ids(session, actor.member_id, [m.id for m in found])
    return [m for m in found if m.id not in hidden]


async def members_by_ids(session: AsyncSession, actor: Principal, ids: list[int]) -> list[Member]:
    hidden_from = None if actor.member_id is None or actor.is_moderator else actor.member_id
    return await repo.members_by_ids(session, ids, hidden_from)


async def update_profile(session: AsyncSession, actor: Principal, data: c.ProfileIn) -> Member:
    member = await require_writer(session, actor)
    changes = data.model_dump(exclude_unset=True)
    for field in ("display_name", "language"):
        if field in changes and changes[field] is None:
            raise BadUserInput("this field cannot be cleared", field=field)
    if changes.get("organisation_id") is not None:
        role = await repo.organisation_role(session, changes["organisation_id"], member.id)
        if role is None:
            raise BadUserInput("you can only show an organisation you belong to", field="organisation_id")
    if "links" in changes and changes["links"] is not None:
        changes["links"] = [dict(link) for link in changes["links"]]
    if "skills" in changes and changes["skills"] is not None:
        changes["skills"] = list(dict.fromkeys(changes["skills"]))
    if "language" in changes:
        changes["language"] = str(changes["language"])
    cleared_to = {"skills": [], "links": [], "headline": "", "bio": ""}  # non-null columns clear to empty
    for field, value in changes.items():
        setattr(member, field, cleared_to[field] if value is None and field in cleared_to else value)
    member.updated_at = utcnow()
    record_event(session, "member.updated", {"member_id": member.id, "fields": sorted(changes)})
    await session.flush()
    return member


async def set_suspension(session: AsyncSession, actor: Principal, data: c.SuspensionIn) -> Member:
    require_moderation(actor)
    member = await get_member(session, data.member_id)
    if member.platform_role == "admin" and not actor.is_admin:
        raise Forbidden("only admins may suspend an admin")
    if data.until is not None and data.until.tzinfo is None:
        raise BadUserInput("give the time with its time zone", field="until")
    member.suspended_until = data.until
    member.updated_at = utcnow()
    record_event(
        session,
        "member.suspended" if data.until else "member.unsuspended",
        {
            "member_id": member.id,
            "until": data.until.isoformat() if data.until else None,
            "by": actor.member_id,
        },
    )
    await session.flush()
    return member


async def set_platform_role(session: AsyncSession, actor: Principal, data: c.PlatformRoleIn) -> Member:
    require_moderator(actor)
    if not actor.is_admin:
        raise Forbidden("only admins may change platform roles")
    member = await get_member(session, data.member_id)
    if member.id == actor.member_id and data.role != "admin":
        raise BadUserInput("admins cannot demote themselves", field="role")
    member.platform_role = data.role.value
    member.updated_at = utcnow()
    record_event(session, "member.role_changed", {"member_id": member.id, "role": member.platform_role})
    await session.flush()
    return member


async def set_banned(session: AsyncSession, actor: Principal, member_id: int, banned: bool) -> Member:
    """Ban (or lift the ban on) a member: a banned member cannot log in or write, and every
    session and access token they hold is revoked (lifting the ban gives none back: they
    log in again). Asking for the state the member is already in changes nothing."""
    require_moderation(actor)
    member = await get_member(session, member_id)
    if member.platform_role == "admin" and not actor.is_admin:
        raise Forbidden("only admins may ban an admin")
    if banned and member.id == actor.member_id:
        raise BadUserInput("you cannot ban yourself", field="memberId")
    if member.banned == banned:
        return member
    now = utcnow()
    member.banned_at = now if banned else None
    member.updated_at = now
    if banned:
        await repo.revoke_member_refresh_tokens(session, member.id, now)
        await repo.revoke_member_pats(session, member.id, now)
    record_event(
        session,
        "member.banned" if banned else "member.unbanned",
        {"member_id": member.id, "by": actor.member_id},
    )
    await session.flush()
    return member
