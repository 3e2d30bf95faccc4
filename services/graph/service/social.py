"""Follows with counts, and blocks and mutes between members."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.graph import contracts as c
from services.graph import repository as repo
from services.graph.models import Block, Follow, Hub, Member, Mute, Organisation
from services.graph.service.common import get_member, require_member_id, require_writer
from services.graph.service.hubs import visible_hub
from services.graph.service.organisations import get_organisation
from shared.auth import Principal
from shared.errors import BadUserInput, Forbidden
from shared.outbox import record_event

_COUNTED = {"member": Member, "organisation": Organisation, "hub": Hub}


async def _check_target(session: AsyncSession, actor: Principal, me: Member, data: c.FollowIn) -> None:
    if data.target_type == "member":
        if data.target_id == me.id:
            raise BadUserInput("you cannot follow yourself", field="targetId")
        await get_member(session, data.target_id)
        if await repo.block_between(session, me.id, data.target_id):
            raise Forbidden("you cannot follow this member")
    elif data.target_type == "organisation":
        await get_organisation(session, data.target_id)
    else:
        await visible_hub(session, actor, data.target_id)


async def follow(session: AsyncSession, actor: Principal, data: c.FollowIn) -> Follow:
    """Following twice is not an error: the existing follow is returned."""
    me = await require_writer(session, actor)
    await _check_target(session, actor, me, data)
    existing = await repo.follow_row(session, me.id, data.target_type, data.target_id)
    if existing is not None:
        return existing
    row = Follow(follower_id=me.id, target_type=data.target_type.value, target_id=data.target_id)
    session.add(row)
    await repo.bump(session, _COUNTED[row.target_type], row.target_id, "followers_count", 1)
    await repo.bump(session, Member, me.id, "following_count", 1)
    record_event(
        session,
        "follow.created",
        {
            "follow_id": row.id,
            "follower_id": me.id,
            "target_type": row.target_type,
            "target_id": row.target_id,
        },
    )
    await session.flush()
    return row


async def _drop_follow(session: AsyncSession, row: Follow) -> None:
    await session.delete(row)
    await repo.bump(session, _COUNTED[row.target_type], row.target_id, "followers_count", -1)
    await repo.bump(session, Member, row.follower_id, "following_count", -1)
    record_event(
        session,
        "follow.deleted",
        {
            "follow_id": row.id,
            "follower_id": row.follower_id,
            "target_type": row.target_type,
            "target_id": row.target_id,
        },
    )


async def unfollow(session: AsyncSession, actor: Principal, data: c.FollowIn) -> bool:
    """Returns whether a follow was removed; unfollowing what you don't follow changes nothing."""
    me = await require_writer(session, actor)
    row = await repo.follow_row(session, me.id, data.target_type, data.target_id)
    if row is None:
        return False
    await _drop_follow(session, row)
    await session.flush()
    return True


async def block(session: AsyncSession, actor: Principal, member_id: int) -> Block:
    me = await require_writer(session, actor)
    if member_id == me.id:
        raise BadUserInput("you cannot block yourself", field="memberId")
    await get_member(session, member_id)
    existing = await repo.block_row(session, me.id, member_id)
    if existing is not None:
        return existing
    for follow in await repo.delete_follows_between(session, me.id, member_id):
        # delete_follows_between already removed the rows; keep counts and events right.
        await repo.bump(session, Member, follow.target_id, "followers_count", -1)
        await repo.bump(session, Member, follow.follower_id, "following_count", -1)
        record_event(
            session,
            "follow.deleted",
            {
                "follow_id": follow.id,
                "follower_id": follow.follower_id,
                "target_type": "member",
                "target_id": follow.target_id,
            },
        )
    row = Block(blocker_id=me.id, blocked_id=member_id)
    session.add(row)
    record_event(session, "block.created", {"blocker_id": me.id, "blocked_id": member_id})
    await session.flush()
    return row


async def unblock(session: AsyncSession, actor: Principal, member_id: int) -> bool:
    me = await require_writer(session, actor)
    row = await repo.block_row(session, me.id, member_id)
    if row is None:
        return False
    await session.delete(row)
    record_event(session, "block.deleted", {"blocker_id": me.id, "blocked_id": member_id})
    await session.flush()
    return True


async def mute(session: AsyncSession, actor: Principal, member_id: int) -> Mute:
    me = await require_writer(session, actor)
    if member_id == me.id:
        raise BadUserInput("you cannot mute yourself", field="memberId")
    await get_member(session, member_id)
    existing = await repo.mute_row(session, me.id, member_id)
    if existing is not None:
        return existing
    row = Mute(muter_id=me.id, muted_id=member_id)
    session.add(row)
    record_event(session, "mute.created", {"muter_id": me.id, "muted_id": member_id})
    await session.flush()
    return row


async def unmute(session: AsyncSession, actor: Principal, member_id: int) -> bool:
    me = await require_writer(session, actor)
    row = await repo.mute_row(session, me.id, member_id)
    if row is None:
        return False
    await session.delete(row)
    record_event(session, "mute.deleted", {"muter_id": me.id, "muted_id": member_id})
    await session.flush()
    return True


async def relations(session: AsyncSession, actor: Principal, data: c.RelationsIn) -> c.RelationsOut:
    viewer_id = require_member_id(actor)
    r = await repo.relations(session, viewer_id, data.member_ids, data.organisation_ids, data.hub_ids)
    return c.RelationsOut(
        members={
            m: c.MemberRelation(
                following=m in r["following"],
                followed_by=m in r["followed_by"],
                blocking=m in r["blocking"],
                muting=m in r["muting"],
            )
            for m in data.member_ids
        },
        organisations={
            o: c.OrganisationRelation(following=o in r["org_following"], role=r["org_roles"].get(o))
            for o in data.organisation_ids
        },
        hubs={
            h: c.HubRelation(
                following=h in r["hub_following"],
                role=(r["hub_memberships"].get(h) or (None, None))[0],
                state=(r["hub_memberships"].get(h) or (None, None))[1],
            )
            for h in data.hub_ids
        },
    )
