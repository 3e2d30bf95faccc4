"""All of the feed service's SQL. `readable_entries(viewer)` encodes visibility once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, exists, false, func, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.feed.models import (
    BlockCopy,
    Comment,
    CopyVersion,
    Entry,
    Event,
    FollowCopy,
    HandledEvent,
    HubMemberCopy,
    MuteCopy,
    Post,
    Reaction,
    Rsvp,
    SourceStats,
    Tagging,
)
from shared.auth import Principal


def readable_entries(viewer: Principal, *, hide_muted: bool = True) -> ColumnElement[bool]:
    """What the viewer may see: live items whose visibility admits them, never from a
    member on either side of a block with them, nor (by default) from members they muted."""
    if viewer.member_id is None:
        return and_(col(Entry.live) == true(), col(Entry.visibility) == "public")
    me = viewer.member_id
    in_hub = exists().where(col(HubMemberCopy.hub_id) == col(Entry.hub_id), col(HubMemberCopy.member_id) == me)
    visible = or_(
        col(Entry.visibility).in_(("public", "members")),
        col(Entry.author_id) == me,
        and_(col(Entry.visibility) == "hub_members", in_hub),
        true() if viewer.is_moderator else false(),
    )
    blocked = exists().where(
        or_(
            and_(col(BlockCopy.blocker_id) == col(Entry.author_id), col(BlockCopy.blocked_id) == me),
            and_(col(BlockCopy.blocker_id) == me, col(BlockCopy.blocked_id) == col(Entry.author_id)),
        )
    )
    conditions = [col(Entry.live) == true(), visible, ~blocked]
    if hide_muted:
        conditions.append(~exists().where(col(MuteCopy.muter_id) == me, col(MuteCopy.muted_id) == col(Entry.author_id)))
    return and_(*conditions)


def entries(viewer: Principal) -> Select[Any]:
    return select(Entry).where(readable_entries(viewer))


def hub_entries(viewer: Principal, hub_id: int, kind: str | None = None, item_type: str | None = None) -> Select[Any]:
    stmt = entries(viewer).where(col(Entry.hub_id) == hub_id)
    if kind:
        stmt = stmt.where(col(Entry.kind) == kind)
    if item_type:
        stmt = stmt.where(col(Entry.item_type) == item_type)
    return stmt


def organisation_entries(viewer: Principal, organisation_id: int) -> Select[Any]:
    return entries(viewer).where(col(Entry.organisation_id) == organisation_id)


def member_entries(viewer: Principal, member_id: int) -> Select[Any]:
    """What the member published under their own name: not what they posted as an organisation."""
    return entries(viewer).where(col(Entry.author_id) == member_id, col(Entry.organisation_id).is_(None))


def tag_entries(viewer: Principal, tag: str) -> Select[Any]:
    tagged = exists().where(col(Tagging.entry_id) == col(Entry.id), col(Tagging.tag) == tag)
    return entries(viewer).where(tagged)


def home_entries(viewer: Principal) -> Select[Any]:
    """Everything from the hubs, organisations and members the viewer follows, and their own."""
    me = viewer.member_id
    follows = FollowCopy
    from_hub = exists().where(
        col(follows.follower_id) == me, col(follows.target_type) == "hub", col(follows.target_id) == col(Entry.hub_id)
    )
    from_org = exists().where(
        col(follows.follower_id) == me,
        col(follows.target_type) == "organisation",
        col(follows.target_id) == col(Entry.organisation_id),
    )
    from_member = and_(
        col(Entry.organisation_id).is_(None),
        exists().where(
            col(follows.follower_id) == me,
            col(follows.target_type) == "member",
            col(follows.target_id) == col(Entry.author_id),
        ),
    )
    return entries(viewer).where(or_(from_hub, from_org, from_member, col(Entry.author_id) == me))


async def posts_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, Post]:
    if not ids:
        return {}
    rows = (await session.execute(select(Post).where(col(Post.id).in_(ids)))).scalars()
    return {p.id: p for p in rows}


async def events_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, Event]:
    if not ids:
        return {}
    rows = (await session.execute(select(Event).where(col(Event.id).in_(ids)))).scalars()
    return {e.id: e for e in rows}


async def readable_entry(session: AsyncSession, viewer: Principal, entry_id: int) -> Entry | None:
    stmt = select(Entry).where(col(Entry.id) == entry_id, readable_entries(viewer, hide_muted=False))
    return (await session.execute(stmt)).scalar_one_or_none()


async def readable_entry_ids(session: AsyncSession, viewer: Principal, ids: Sequence[int]) -> set[int]:
    if not ids:
        return set()
    stmt = select(col(Entry.id)).where(col(Entry.id).in_(ids), readable_entries(viewer, hide_muted=False))
    return set((await session.execute(stmt)).scalars())


async def count_pinned(session: AsyncSession, hub_id: int) -> int:
    stmt = select(func.count()).where(
        col(Post.hub_id) == hub_id, col(Post.pinned_at).is_not(None), col(Post.deleted_at).is_(None)
    )
    return (await session.execute(stmt)).scalar_one()


async def set_entry(session: AsyncSession, entry_id: int, **values: Any) -> None:
    await session.execute(update(Entry).where(col(Entry.id) == entry_id).values(**values))


async def replace_tags(session: AsyncSession, entry_id: int, tags: Sequence[str]) -> None:
    await session.execute(delete(Tagging).where(col(Tagging.entry_id) == entry_id))
    for tag in tags:
        session.add(Tagging(tag=tag, entry_id=entry_id))


# --- events and RSVPs -------------------------------------------------------------------


async def event_for_update(session: AsyncSession, event_id: int) -> Event | None:
    stmt = select(Event).where(col(Event.id) == event_id).with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def rsvp_of(session: AsyncSession, event_id: int, member_id: int) -> Rsvp | None:
    stmt = select(Rsvp).where(col(Rsvp.event_id) == event_id, col(Rsvp.member_id) == member_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def first_waiting(session: AsyncSession, event_id: int) -> Rsvp | None:
    stmt = (
        select(Rsvp)
        .where(col(Rsvp.event_id) == event_id, col(Rsvp.status) == "waitlisted")
        .order_by(col(Rsvp.queued_at))
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def waitlist_position(session: AsyncSession, rsvp: Rsvp) -> int:
    stmt = select(func.count()).where(
        col(Rsvp.event_id) == rsvp.event_id, col(Rsvp.status) == "waitlisted", col(Rsvp.queued_at) <= rsvp.queued_at
    )
    return (await session.execute(stmt)).scalar_one()


def rsvps_of(event_id: int, status: str | None) -> Select[Any]:
    stmt = select(Rsvp).where(col(Rsvp.event_id) == event_id)
    return stmt.where(col(Rsvp.status) == status) if status else stmt


def upcoming_events(
    viewer: Principal,
    hub_id: int | None,
    organisation_id: int | None,
    county_code: str | None,
    after: Any,
    before: Any,
) -> Select[Any]:
    stmt = (
        select(Event)
        .join(Entry, col(Entry.id) == col(Event.id))
        .where(readable_entries(viewer), col(Event.status) == "scheduled", col(Event.ends_at) >= after)
    )
    if before is not None:
        stmt = stmt.where(col(Event.starts_at) < before)
    if hub_id is not None:
        stmt = stmt.where(col(Event.hub_id) == hub_id)
    if organisation_id is not None:
        stmt = stmt.where(col(Event.organiser_organisation_id) == organisation_id)
    if county_code is not None:
        stmt = stmt.where(col(Event.county_code) == county_code)
    return stmt


# --- comments and reactions ---------------------------------------------------------------


def comments_on(target_type: str, target_id: int, parent_id: int | None) -> Select[Any]:
    stmt = select(Comment).where(col(Comment.target_type) == target_type, col(Comment.target_id) == target_id)
    stmt = stmt.where(col(Comment.parent_id) == parent_id if parent_id else col(Comment.parent_id).is_(None))
    return stmt.where(col(Comment.hidden_at).is_(None))


async def comments_by_ids(session: AsyncSession, ids: Sequence[int]) -> list[Comment]:
    if not ids:
        return []
    return list((await session.execute(select(Comment).where(col(Comment.id).in_(ids)))).scalars())


async def reaction_of(session: AsyncSession, target_type: str, target_id: int, member_id: int) -> Reaction | None:
    stmt = select(Reaction).where(
        col(Reaction.target_type) == target_type,
        col(Reaction.target_id) == target_id,
        col(Reaction.member_id) == member_id,
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def reactions_of_viewer(
    session: AsyncSession, member_id: int, target_type: str, ids: Sequence[int]
) -> dict[int, str]:
    if not ids:
        return {}
    stmt = select(col(Reaction.target_id), col(Reaction.kind)).where(
        col(Reaction.member_id) == member_id, col(Reaction.target_type) == target_type, col(Reaction.target_id).in_(ids)
    )
    return {t: k for t, k in (await session.execute(stmt)).all()}


# --- copies of graph facts -------------------------------------------------------------------


async def newer(session: AsyncSession, key: str, version: int) -> bool:
    """Record `version` as the newest applied to `key`, unless a newer one already was."""
    row = await session.get(CopyVersion, key, with_for_update=True)
    if row is None:
        try:
            async with session.begin_nested():
                session.add(CopyVersion(key=key, version=version))
        except IntegrityError:  # a concurrent first writer: compare with theirs
            row = await session.get(CopyVersion, key, with_for_update=True, populate_existing=True)
            assert row is not None
        else:
            return True
    if row.version >= version:
        return False
    row.version = version
    return True


async def delete_follow_copy(session: AsyncSession, follower_id: int, target_type: str, target_id: int) -> int:
    """Remove the copy of a follow; 1 if there was one."""
    result = await session.execute(
        delete(FollowCopy).where(
            col(FollowCopy.follower_id) == follower_id,
            col(FollowCopy.target_type) == target_type,
            col(FollowCopy.target_id) == target_id,
        )
    )
    return 1 if result.rowcount else 0  # type: ignore[attr-defined]


async def bump_followers(session: AsyncSession, target_type: str, target_id: int, delta: int) -> None:
    if not delta:
        return
    row = await session.get(SourceStats, (target_type, target_id), with_for_update=True)
    if row is None:
        session.add(SourceStats(target_type=target_type, target_id=target_id, followers=max(delta, 0)))
    else:
        row.followers = max(row.followers + delta, 0)


async def already_handled(session: AsyncSession, key: str) -> bool:
    return await session.get(HandledEvent, key) is not None


def not_blocked(viewer_id: int, author_col: Any) -> ColumnElement[bool]:
    return ~exists().where(
        or_(
            and_(col(BlockCopy.blocker_id) == author_col, col(BlockCopy.blocked_id) == viewer_id),
            and_(col(BlockCopy.blocker_id) == viewer_id, col(BlockCopy.blocked_id) == author_col),
        )
    )


async def blocked_between(session: AsyncSession, a: int, b: int) -> bool:
    stmt = select(
        exists().where(
            or_(
                and_(col(BlockCopy.blocker_id) == a, col(BlockCopy.blocked_id) == b),
                and_(col(BlockCopy.blocker_id) == b, col(BlockCopy.blocked_id) == a),
            )
        )
    )
    return (await session.execute(stmt)).scalar_one()


async def delete_where(session: AsyncSession, model: Any, *conditions: Any) -> None:
    await session.execute(delete(model).where(*conditions))
