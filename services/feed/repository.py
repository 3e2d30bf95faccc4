"""All of the feed service's SQL. `readable_entries(viewer)` encodes visibility once."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    delete,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.feed.models import (
    PIN_LIFT,
    Bell,
    BlockCopy,
    Comment,
    CopyVersion,
    Entry,
    Event,
    FollowCopy,
    HandledEvent,
    HubMemberCopy,
    InitiativeActivity,
    MuteCopy,
    Notification,
    NotificationActor,
    NotificationPreference,
    Post,
    Reaction,
    Rsvp,
    SourceStats,
    Tagging,
)
from shared.auth import Principal
from shared.database import in_ids


def readable_entries(viewer: Principal, *, hide_muted: bool = True, hide_blocked: bool = True) -> ColumnElement[bool]:
    """What the viewer may see: live items whose visibility admits them, never from a
    member on either side of a block with them, nor (by default) from members they muted.
    (Only home timelines, which reads filter again, ask without blocks and mutes.)"""
    if viewer.member_id is None:
        return and_(col(Entry.live) == true(), col(Entry.visibility) == "public")
    return _readable(viewer.member_id, viewer.is_moderator, hide_muted=hide_muted, hide_blocked=hide_blocked)


def _readable(me: Any, is_moderator: bool, *, hide_muted: bool, hide_blocked: bool) -> ColumnElement[bool]:
    """readable_entries for a member: `me` their id, or a bound parameter standing for it."""
    in_hub = exists().where(col(HubMemberCopy.hub_id) == col(Entry.hub_id), col(HubMemberCopy.member_id) == me)
    visible = or_(
        col(Entry.visibility).in_(("public", "members")),
        col(Entry.author_id) == me,
        and_(col(Entry.visibility) == "hub_members", in_hub),
        true() if is_moderator else false(),
    )
    blocked = exists().where(
        or_(
            and_(col(BlockCopy.blocker_id) == col(Entry.author_id), col(BlockCopy.blocked_id) == me),
            and_(col(BlockCopy.blocker_id) == me, col(BlockCopy.blocked_id) == col(Entry.author_id)),
        )
    )
    conditions = [col(Entry.live) == true(), visible]
    if hide_blocked:
        conditions.append(~blocked)
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
    return entries(viewer).where(followed_by(viewer.member_id))


def followed_by(me: Any) -> ColumnElement[bool]:
    """Entries from what the member follows, and their own (`me`: their id, or a bound parameter)."""
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
    return or_(from_hub, from_org, from_member, col(Entry.author_id) == me)


# --- home timelines: the queries behind fan-out on write and the timeline read --------------


def source_condition(target_type: str, target_id: int) -> ColumnElement[bool]:
    """The entries a follow of this source brings into a home feed (as in home_entries)."""
    if target_type == "hub":
        return col(Entry.hub_id) == target_id
    if target_type == "organisation":
        return col(Entry.organisation_id) == target_id
    return and_(col(Entry.author_id) == target_id, col(Entry.organisation_id).is_(None))


def _window(stmt: Select[Any], key: Any, lo: int | None, hi: int | None, limit: int | None, descending: bool) -> Any:
    """Rows with lo < key < hi, nearest the starting end (newest when descending) first."""
    if lo is not None:
        stmt = stmt.where(key > lo)
    if hi is not None:
        stmt = stmt.where(key < hi)
    stmt = stmt.order_by(key.desc() if descending else key.asc())
    return stmt.limit(limit) if limit is not None else stmt


# A home-feed read runs these on every page, so each is built once, with the viewer, the
# source and the window as bound parameters: building and cache-keying a statement of this
# size costs more than running it. A window's bounds are in the statement only when given:
# PostgreSQL plans a prepared statement once for any values, and an "id > $lo" it cannot see
# is open would have it scan the whole primary key for the few pinned entries of a hub.
_ME = bindparam("me", type_=BigInteger)
_SOURCE = bindparam("source_id", type_=BigInteger)
_LO = bindparam("lo", type_=BigInteger)
_HI = bindparam("hi", type_=BigInteger)
_LIMIT = bindparam("limit", type_=Integer)
# A followed source's entries, as source_condition has them, and the key its index pages by:
# a hub's orders by hub_rank (the id, except while pinned: lifted above every id), so its
# unpinned entries page by hub_rank, and its pinned ones are few (_HUB_PINNED).
_SOURCES: dict[str | None, tuple[ColumnElement[bool] | None, Any]] = {
    None: (None, col(Entry.id)),
    "organisation": (col(Entry.organisation_id) == _SOURCE, col(Entry.id)),
    "member": (and_(col(Entry.author_id) == _SOURCE, col(Entry.organisation_id).is_(None)), col(Entry.id)),
    "hub_unpinned": (and_(col(Entry.hub_id) == _SOURCE, col(Entry.hub_rank) < PIN_LIFT), col(Entry.hub_rank)),
}
_HUB_PINNED = and_(col(Entry.hub_id) == _SOURCE, col(Entry.hub_rank) >= PIN_LIFT)


@cache
def _home_ids_shape(is_moderator: bool) -> Select[Any]:
    """The ids of home_entries, for the member bound as `me`."""
    return select(col(Entry.id)).where(
        _readable(_ME, is_moderator, hide_muted=True, hide_blocked=True), followed_by(_ME)
    )


def _window_of(stmt: Select[Any], key: Any, has_lo: bool, has_hi: bool) -> Select[Any]:
    if has_lo:
        stmt = stmt.where(key > _LO)
    return stmt.where(key < _HI) if has_hi else stmt


@cache
def _home_window(is_moderator: bool, source: str | None, descending: bool, has_lo: bool, has_hi: bool) -> Select[Any]:
    """Ids of the home feed (or of one followed source's part of it) with lo < key < hi
    (each bound only if given), nearest the starting end first, at most `limit`. A hub's
    part is, in one statement and in no order, at most `limit` of its unpinned entries along
    its index and all its pinned ones in the window (a few: limiting them too could have the
    planner walk every entry by id looking for them)."""
    if source == "hub":
        unpinned = _home_window(is_moderator, "hub_unpinned", descending, has_lo, has_hi).subquery()
        pinned = _window_of(_home_ids_shape(is_moderator).where(_HUB_PINNED), col(Entry.id), has_lo, has_hi)
        return select(union_all(select(unpinned.c.id), pinned).subquery().c.id)
    condition, key = _SOURCES[source]
    stmt = _home_ids_shape(is_moderator)
    if condition is not None:
        stmt = stmt.where(condition)
    return _window_of(stmt, key, has_lo, has_hi).order_by(key.desc() if descending else key.asc()).limit(_LIMIT)


@cache
def _home_among(is_moderator: bool) -> Select[Any]:
    return _home_ids_shape(is_moderator).where(in_ids(col(Entry.id)))


# What a page's ids are read as, once they are known.
_ENTRIES_WITH_POSTS = select(Entry, Post).outerjoin(Post, col(Post.id) == col(Entry.id)).where(in_ids(col(Entry.id)))
_POSTS_BY_IDS = select(Post).where(in_ids(col(Post.id)))
_EVENTS_BY_IDS = select(Event).where(in_ids(col(Event.id)))
_ACTIVITIES_BY_IDS = select(InitiativeActivity).where(in_ids(col(InitiativeActivity.id)))


def _member(viewer: Principal) -> int:
    if viewer.member_id is None:
        raise ValueError("a home feed is a member's")
    return viewer.member_id


async def home_ids(
    session: AsyncSession,
    viewer: Principal,
    *,
    limit: int,
    lo: int | None = None,
    hi: int | None = None,
    descending: bool = True,
    source: tuple[str, int] | None = None,
) -> list[int]:
    """Ids in the viewer's home feed strictly between lo and hi (optionally only those from
    one followed source: ("hub" | "organisation" | "member", id)), newest first when
    descending (a hub's part comes in no order: see _home_window)."""
    given = {"lo": lo, "hi": hi, "source_id": source[1] if source else None}
    params = {"me": _member(viewer), "limit": limit, **{k: v for k, v in given.items() if v is not None}}
    stmt = _home_window(viewer.is_moderator, source[0] if source else None, descending, lo is not None, hi is not None)
    return list((await session.execute(stmt, params)).scalars())


async def entries_with_posts(session: AsyncSession, ids: Sequence[int]) -> tuple[dict[int, Entry], dict[int, Post]]:
    """The entries with these ids, and the posts among them, in one round trip (a page of a
    feed is mostly posts)."""
    if not ids:
        return {}, {}
    entries: dict[int, Entry] = {}
    posts: dict[int, Post] = {}
    for entry, post in (await session.execute(_ENTRIES_WITH_POSTS, {"ids": list(ids)})).all():
        entries[entry.id] = entry
        if post is not None:
            posts[post.id] = post
    return entries, posts


async def home_ids_among(session: AsyncSession, viewer: Principal, ids: Sequence[int]) -> set[int]:
    """Which of these ids the viewer's home feed holds (followed, readable, live)."""
    if not ids:
        return set()
    stmt = _home_among(viewer.is_moderator)
    return set((await session.execute(stmt, {"me": _member(viewer), "ids": list(ids)})).scalars())


def _timeline_ids(viewer: Principal) -> Select[Any]:
    """What a member's Redis timeline holds: their home feed before blocks and mutes, which
    every read applies; so lifting one brings its entries back at once."""
    readable = readable_entries(viewer, hide_muted=False, hide_blocked=False)
    return select(col(Entry.id)).where(readable, followed_by(viewer.member_id))


async def timeline_ids(
    session: AsyncSession,
    viewer: Principal,
    *,
    limit: int,
    lo: int | None = None,
    where: ColumnElement[bool] | None = None,
) -> list[int]:
    """The newest ids a timeline should hold above `lo` (optionally only those matching `where`)."""
    stmt = _timeline_ids(viewer)
    if where is not None:
        stmt = stmt.where(where)
    return list((await session.execute(_window(stmt, col(Entry.id), lo, None, limit, True))).scalars())


async def timeline_ids_among(session: AsyncSession, viewer: Principal, ids: Sequence[int]) -> set[int]:
    if not ids:
        return set()
    return set((await session.execute(_timeline_ids(viewer).where(col(Entry.id).in_(ids)))).scalars())


async def ids_matching(session: AsyncSession, ids: Sequence[int], condition: ColumnElement[bool]) -> set[int]:
    if not ids:
        return set()
    stmt = select(col(Entry.id)).where(col(Entry.id).in_(ids), condition)
    return set((await session.execute(stmt)).scalars())


async def source_home_ids(
    session: AsyncSession,
    viewer: Principal,
    target_type: str,
    target_id: int,
    *,
    limit: int,
    lo: int | None,
    hi: int | None,
    descending: bool,
) -> list[int]:
    """One followed source's part of the viewer's home feed, walked along an index so a page
    costs the same however much the source has published."""
    if target_type != "hub":  # ix_entry_org / ix_entry_author: (source, id)
        source = (target_type, target_id)
        return await home_ids(session, viewer, limit=limit, lo=lo, hi=hi, descending=descending, source=source)
    # Unpinned entries page along the hub's index; the few pinned ones are added. The
    # first `limit` of both together are among the first `limit` of each.
    found = await home_ids(session, viewer, limit=limit, lo=lo, hi=hi, descending=descending, source=("hub", target_id))
    return sorted(found, reverse=descending)[:limit]


async def followed_large_sources(
    session: AsyncSession, member_id: int, threshold: int
) -> list[tuple[str, int, int | None]]:
    """The followed sources whose entries are merged into the member's home feed when it
    is read: (type, id, None) for those with more than `threshold` followers, which are not
    fanned out; (type, id, last) for those fan-out once skipped, up to the last one skipped."""
    params = {"me": member_id, "threshold": threshold}
    rows = (await session.execute(_LARGE_SOURCES, params)).all()
    return [(t, i, None if followers > threshold else last) for t, i, followers, last in rows]


_THRESHOLD = bindparam("threshold", type_=BigInteger)
_LARGE_SOURCES = (
    select(
        col(FollowCopy.target_type),
        col(FollowCopy.target_id),
        col(SourceStats.followers),
        col(SourceStats.unfanned_through),
    )
    .join(
        SourceStats,
        and_(
            col(SourceStats.target_type) == col(FollowCopy.target_type),
            col(SourceStats.target_id) == col(FollowCopy.target_id),
        ),
    )
    .where(
        col(FollowCopy.follower_id) == _ME,
        or_(col(SourceStats.followers) > _THRESHOLD, col(SourceStats.unfanned_through).is_not(None)),
    )
)


async def note_unfanned(session: AsyncSession, target_type: str, target_id: int, entry_id: int) -> None:
    """Fan-out left this entry of the source to be merged in on read."""
    last = col(SourceStats.unfanned_through)
    await session.execute(
        update(SourceStats)
        .where(col(SourceStats.target_type) == target_type, col(SourceStats.target_id) == target_id)
        .where(or_(last.is_(None), last < entry_id))
        .values(unfanned_through=entry_id)
    )


async def follower_count(session: AsyncSession, target_type: str, target_id: int) -> int:
    row = await session.get(SourceStats, (target_type, target_id))
    return row.followers if row is not None else 0


async def followers_page(session: AsyncSession, target_type: str, target_id: int, after: int, limit: int) -> list[int]:
    """The next followers of a source by id (keyset over ix_follow_copy_target_follower).
    Fan-out reads 100,000s of them, so without the ORM, and on PostgreSQL as one array (a
    row each costs several times more to fetch)."""
    follower = col(FollowCopy.follower_id)
    stmt = (
        select(follower)
        .where(col(FollowCopy.target_type) == target_type, col(FollowCopy.target_id) == target_id, follower > after)
        .order_by(follower)
        .limit(limit)
    )
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        page = stmt.subquery()
        agg = func.array_agg(aggregate_order_by(page.c.follower_id, page.c.follower_id))
        return list((await connection.execute(select(agg))).scalar_one() or [])
    return list((await connection.execute(stmt)).scalars())


async def kept_apart_from(session: AsyncSession, author_id: int) -> set[int]:
    """Members whose home feeds never get the author's entries: on either side of a block
    with them, or muting them. Read once per fan-out along indexes (a few rows for most
    authors), so paging followers stays an index-only scan."""
    blocked_by = select(col(BlockCopy.blocked_id)).where(col(BlockCopy.blocker_id) == author_id)
    blockers = select(col(BlockCopy.blocker_id)).where(col(BlockCopy.blocked_id) == author_id)
    muters = select(col(MuteCopy.muter_id)).where(col(MuteCopy.muted_id) == author_id)
    found: set[int] = set()
    for stmt in (blocked_by, blockers, muters):
        found.update((await session.execute(stmt)).scalars())
    return found


async def hub_members_among(session: AsyncSession, hub_id: int, member_ids: Sequence[int]) -> set[int]:
    if not member_ids:
        return set()
    stmt = select(col(HubMemberCopy.member_id)).where(
        col(HubMemberCopy.hub_id) == hub_id, col(HubMemberCopy.member_id).in_(member_ids)
    )
    return set((await session.execute(stmt)).scalars())


async def posts_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, Post]:
    if not ids:
        return {}
    rows = (await session.execute(_POSTS_BY_IDS, {"ids": list(ids)})).scalars()
    return {p.id: p for p in rows}


async def events_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, Event]:
    if not ids:
        return {}
    rows = (await session.execute(_EVENTS_BY_IDS, {"ids": list(ids)})).scalars()
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


# --- initiatives' activity (services/feed/service/initiatives.py) ---------------------------


async def activities_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, InitiativeActivity]:
    if not ids:
        return {}
    rows = (await session.execute(_ACTIVITIES_BY_IDS, {"ids": list(ids)})).scalars()
    return {a.id: a for a in rows}


async def activity_keyed(session: AsyncSession, key: str) -> bool:
    stmt = select(exists().where(col(InitiativeActivity.key) == key))
    return bool((await session.execute(stmt)).scalar_one())


async def set_initiative_entries_live(session: AsyncSession, initiative_id: int, live: bool) -> list[int]:
    """Make the entries of an initiative's activities live or not; the ids of those changed."""
    of_initiative = select(col(InitiativeActivity.id)).where(col(InitiativeActivity.initiative_id) == initiative_id)
    stmt = (
        update(Entry)
        .where(col(Entry.id).in_(of_initiative), col(Entry.live) == (not live))
        .values(live=live)
        .returning(col(Entry.id))
    )
    return sorted((await session.execute(stmt.execution_options(synchronize_session=False))).scalars())


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


# --- notifications: who may be told, and their rows ---------------------------------------------


def _hidden_from(member: Any, other: Any) -> ColumnElement[bool]:
    """`member` and `other` are on either side of a block, or `member` muted `other`."""
    return or_(
        exists().where(col(BlockCopy.blocker_id) == member, col(BlockCopy.blocked_id) == other),
        exists().where(col(BlockCopy.blocker_id) == other, col(BlockCopy.blocked_id) == member),
        exists().where(col(MuteCopy.muter_id) == member, col(MuteCopy.muted_id) == other),
    )


def audience(member: Any, actor_id: int | None, entry: Entry | None) -> list[ColumnElement[bool]]:
    """Who may hear of what `actor_id` did about `entry` (either may be None): never the actor
    themself, nobody on either side of a block with the actor or who muted them, and only
    members who may read the entry (readable_entries' rules, for many readers at once).
    Whether the entry is live is the caller's to check."""
    conditions: list[ColumnElement[bool]] = []
    if actor_id is not None:
        conditions += [member != actor_id, ~_hidden_from(member, literal(actor_id, BigInteger))]
    if entry is not None:
        author = literal(entry.author_id, BigInteger)
        if entry.author_id != actor_id:
            conditions.append(
                ~or_(
                    exists().where(col(BlockCopy.blocker_id) == member, col(BlockCopy.blocked_id) == author),
                    exists().where(col(BlockCopy.blocker_id) == author, col(BlockCopy.blocked_id) == member),
                )
            )
        if entry.visibility == "hub_members":
            in_hub = exists().where(col(HubMemberCopy.hub_id) == entry.hub_id, col(HubMemberCopy.member_id) == member)
            conditions.append(or_(member == entry.author_id, in_hub))
        elif entry.visibility not in ("public", "members"):
            conditions.append(member == entry.author_id)
    return conditions


async def eligible_members(
    session: AsyncSession, candidates: Sequence[int], actor_id: int | None, entry: Entry | None
) -> list[int]:
    """The candidates (at most 100) that `audience` admits, in one query."""
    unique = list(dict.fromkeys(candidates))[:100]
    if not unique:
        return []
    selects = [
        select(literal(c, BigInteger).label("member_id")).where(*audience(literal(c, BigInteger), actor_id, entry))
        for c in unique
    ]
    stmt = union_all(*selects) if len(selects) > 1 else selects[0]
    return [int(r[0]) for r in (await session.execute(stmt)).all()]


def bell_source(target_type: str, target_id: int) -> tuple[Any, Any, list[ColumnElement[bool]]]:
    """Members who turned on the bell of a hub or organisation (indexed by target, member)."""
    return Bell, col(Bell.member_id), [col(Bell.target_type) == target_type, col(Bell.target_id) == target_id]


def rsvp_source(event_id: int, statuses: Sequence[str]) -> tuple[Any, Any, list[ColumnElement[bool]]]:
    """Members who answered an event with one of these statuses (indexed by event, member)."""
    return Rsvp, col(Rsvp.member_id), [col(Rsvp.event_id) == event_id, col(Rsvp.status).in_(statuses)]


async def audience_page(
    session: AsyncSession,
    source: tuple[Any, Any, list[ColumnElement[bool]]],
    kind: str,
    actor_id: int | None,
    entry: Entry | None,
    after: int,
    limit: int,
) -> list[tuple[int, bool | None, str | None]]:
    """One keyset page (member id > `after`) of a source's members that `audience` admits,
    with their preference for `kind` (None where they never chose)."""
    table, member, conditions = source
    pref = NotificationPreference
    stmt = (
        select(member, col(pref.in_app), col(pref.email))
        .select_from(table)
        .outerjoin(pref, and_(col(pref.member_id) == member, col(pref.kind) == kind))
        .where(*conditions, member > after, *audience(member, actor_id, entry))
        .order_by(member)
        .limit(limit)
    )
    return [(int(m), i, e) for m, i, e in (await session.execute(stmt)).all()]


async def preference_rows(
    session: AsyncSession, member_ids: Sequence[int], kind: str
) -> dict[int, NotificationPreference]:
    if not member_ids:
        return {}
    stmt = select(NotificationPreference).where(
        col(NotificationPreference.member_id).in_(member_ids), col(NotificationPreference.kind) == kind
    )
    return {p.member_id: p for p in (await session.execute(stmt)).scalars()}


async def preferences_of(session: AsyncSession, member_id: int) -> list[NotificationPreference]:
    stmt = select(NotificationPreference).where(col(NotificationPreference.member_id) == member_id)
    return list((await session.execute(stmt)).scalars())


def _insert(session: AsyncSession, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    return postgresql_insert(table) if dialect == "postgresql" else sqlite_insert(table)


async def insert_notifications(
    session: AsyncSession, common: dict[str, Any], rows: Sequence[tuple[int, int, bool]]
) -> list[tuple[int, int]]:
    """Insert one notice for many recipients, skipping those who have its group key already.
    `common` holds the columns all rows share (kind, group_key, subject, actor, data,
    times); `rows` are (id, recipient_id, in_app), the id also being the sort key.
    Returns the (id, recipient_id) of the rows inserted."""
    if not rows:
        return []
    table = Notification.__table__  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "postgresql":
        # One statement whatever the number of rows: the varying columns travel as arrays.
        # About 2.5 times faster than executemany, which converts every row's parameters.
        varying = (
            func.unnest(
                bindparam("ids", [r[0] for r in rows], type_=ARRAY(BigInteger)),
                bindparam("recipients", [r[1] for r in rows], type_=ARRAY(BigInteger)),
                bindparam("in_app", [r[2] for r in rows], type_=ARRAY(Boolean)),
            )
            .table_valued("id", "recipient_id", "in_app")
            .render_derived()
        )
        shared = [literal(value, table.c[name].type).label(name) for name, value in common.items()]
        source = select(varying.c.id, varying.c.recipient_id, varying.c.in_app, varying.c.id.label("sort_key"), *shared)
        columns = ["id", "recipient_id", "in_app", "sort_key", *common]
        stmt = postgresql_insert(table).from_select(columns, source)
        stmt = stmt.on_conflict_do_nothing(index_elements=["recipient_id", "group_key"])
        result = await session.execute(stmt.returning(table.c.id, table.c.recipient_id))
    else:
        each = sqlite_insert(table).on_conflict_do_nothing(index_elements=["recipient_id", "group_key"])
        params = [{"id": i, "recipient_id": r, "in_app": a, "sort_key": i, **common} for i, r, a in rows]
        result = await session.execute(each.returning(table.c.id, table.c.recipient_id), params)
    return [(int(i), int(r)) for i, r in result.all()]


async def add_notification_actor(session: AsyncSession, notification_id: int, actor_id: int, at: Any) -> bool:
    """Count an actor into a group; False if they were counted before."""
    table = NotificationActor.__table__  # type: ignore[attr-defined]
    stmt = (
        _insert(session, table)
        .values(notification_id=notification_id, actor_id=actor_id, created_at=at)
        .on_conflict_do_nothing(index_elements=["notification_id", "actor_id"])
        .returning(table.c.actor_id)
    )
    return (await session.execute(stmt)).first() is not None


async def notification_for_update(session: AsyncSession, recipient_id: int, group_key: str) -> Notification | None:
    stmt = (
        select(Notification)
        .where(col(Notification.recipient_id) == recipient_id, col(Notification.group_key) == group_key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


def shown_notifications(recipient_id: int, in_app_only: bool = True) -> ColumnElement[bool]:
    """A member's notifications as their list shows them: kinds kept in the app (unless
    `in_app_only` is off, as for the mailer), and only where an actor is still one they
    may hear from (blocks and mutes made after the fact hide what was made before)."""
    n = Notification
    me = literal(recipient_id, BigInteger)
    group_has_shown_actor = exists().where(
        col(NotificationActor.notification_id) == col(n.id), ~_hidden_from(me, col(NotificationActor.actor_id))
    )
    shown_actor = or_(
        col(n.actor_id).is_(None),
        and_(col(n.actors_count) <= 1, ~_hidden_from(me, col(n.actor_id))),
        and_(col(n.actors_count) > 1, group_has_shown_actor),
    )
    shown = and_(col(n.recipient_id) == recipient_id, shown_actor)
    return and_(shown, col(n.in_app) == true()) if in_app_only else shown


def notifications_of(recipient_id: int, unread_only: bool) -> Select[Any]:
    stmt = select(Notification).where(shown_notifications(recipient_id))
    return stmt.where(col(Notification.read_at).is_(None)) if unread_only else stmt


async def notifications_by_ids(
    session: AsyncSession, recipient_id: int, ids: Sequence[int], in_app_only: bool = True
) -> list[Notification]:
    if not ids:
        return []
    stmt = select(Notification).where(shown_notifications(recipient_id, in_app_only), col(Notification.id).in_(ids))
    return list((await session.execute(stmt)).scalars())


async def count_unread(session: AsyncSession, recipient_id: int, cap: int) -> int:
    """Unread notifications shown to the member, counted up to `cap`."""
    inner = (
        select(col(Notification.id))
        .where(shown_notifications(recipient_id), col(Notification.read_at).is_(None))
        .limit(cap)
        .subquery()
    )
    return int((await session.execute(select(func.count()).select_from(inner))).scalar_one())


async def own_notification_ids(session: AsyncSession, recipient_id: int, ids: Sequence[int]) -> set[int]:
    stmt = select(col(Notification.id)).where(
        col(Notification.recipient_id) == recipient_id, col(Notification.id).in_(ids)
    )
    return set((await session.execute(stmt)).scalars())


async def mark_read(session: AsyncSession, recipient_id: int, ids: Sequence[int] | None, at: Any) -> int:
    """Mark these (or, with None, all) of the member's unread notifications read."""
    stmt = update(Notification).where(
        col(Notification.recipient_id) == recipient_id, col(Notification.read_at).is_(None)
    )
    if ids is not None:
        stmt = stmt.where(col(Notification.id).in_(ids))
    result = await session.execute(stmt.values(read_at=at))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def hidden_members(session: AsyncSession, member_id: int) -> set[int]:
    """Members on either side of a block with this member, or muted by them."""
    stmt = union_all(
        select(col(BlockCopy.blocked_id)).where(col(BlockCopy.blocker_id) == member_id),
        select(col(BlockCopy.blocker_id)).where(col(BlockCopy.blocked_id) == member_id),
        select(col(MuteCopy.muted_id)).where(col(MuteCopy.muter_id) == member_id),
    )
    return {int(r[0]) for r in (await session.execute(stmt)).all()}


async def hidden_actor_counts(
    session: AsyncSession, notification_ids: Sequence[int], hidden: set[int]
) -> dict[int, int]:
    if not notification_ids or not hidden:
        return {}
    na = NotificationActor
    stmt = (
        select(col(na.notification_id), func.count())
        .where(col(na.notification_id).in_(notification_ids), col(na.actor_id).in_(hidden))
        .group_by(col(na.notification_id))
    )
    return {int(n): int(c) for n, c in (await session.execute(stmt)).all()}


async def latest_actor(session: AsyncSession, notification_id: int, hidden: set[int]) -> int | None:
    na = NotificationActor
    stmt = select(col(na.actor_id)).where(col(na.notification_id) == notification_id)
    if hidden:
        stmt = stmt.where(col(na.actor_id).not_in(hidden))
    stmt = stmt.order_by(col(na.created_at).desc(), col(na.actor_id).desc()).limit(1)
    found = (await session.execute(stmt)).scalar_one_or_none()
    return int(found) if found is not None else None


async def set_bell(session: AsyncSession, member_id: int, target_type: str, target_id: int, on: bool, at: Any) -> None:
    if on:
        table = Bell.__table__  # type: ignore[attr-defined]
        stmt = (
            _insert(session, table)
            .values(member_id=member_id, target_type=target_type, target_id=target_id, created_at=at)
            .on_conflict_do_nothing(index_elements=["member_id", "target_type", "target_id"])
        )
        await session.execute(stmt)
    else:
        await session.execute(
            delete(Bell).where(
                col(Bell.member_id) == member_id, col(Bell.target_type) == target_type, col(Bell.target_id) == target_id
            )
        )


async def bells_on(session: AsyncSession, member_id: int, target_type: str, ids: Sequence[int]) -> set[int]:
    if not ids:
        return set()
    stmt = select(col(Bell.target_id)).where(
        col(Bell.member_id) == member_id, col(Bell.target_type) == target_type, col(Bell.target_id).in_(ids)
    )
    return set((await session.execute(stmt)).scalars())


async def events_starting(session: AsyncSession, after: Any, until: Any, limit: int) -> list[Event]:
    """Scheduled, live events starting in (after, until], soonest first (by the indexed start key)."""
    low = int(after.timestamp()) << 28
    high = (int(until.timestamp()) + 1) << 28
    stmt = (
        select(Event)
        .where(
            col(Event.start_key) >= low,
            col(Event.start_key) < high,
            col(Event.starts_at) > after,
            col(Event.starts_at) <= until,
            col(Event.status) == "scheduled",
            col(Event.deleted_at).is_(None),
            col(Event.hidden_at).is_(None),
        )
        .order_by(col(Event.start_key))
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


# --- search: what the search service indexes (see services/feed/service/search_source.py) ------


def _searchable(
    model: Any, ids: Sequence[int] | None, after: int, limit: int, hub_id: int | None = None
) -> Select[Any]:
    """Live rows of posts or events (neither deleted nor hidden): those among `ids`, or the
    next `limit` after the id `after` (of one hub, if given), in id order."""
    stmt = select(model).where(col(model.deleted_at).is_(None), col(model.hidden_at).is_(None))
    if ids is not None:
        return stmt.where(col(model.id).in_(ids))
    if hub_id is not None:
        stmt = stmt.where(col(model.hub_id) == hub_id)
    return stmt.where(col(model.id) > after).order_by(col(model.id)).limit(limit)


async def searchable_posts(
    session: AsyncSession, ids: Sequence[int] | None, after: int = 0, limit: int = 0, hub_id: int | None = None
) -> list[Post]:
    if ids is not None and not ids:
        return []
    return list((await session.execute(_searchable(Post, ids, after, limit, hub_id))).scalars())


async def searchable_events(
    session: AsyncSession, ids: Sequence[int] | None, after: int = 0, limit: int = 0, hub_id: int | None = None
) -> list[Event]:
    if ids is not None and not ids:
        return []
    return list((await session.execute(_searchable(Event, ids, after, limit, hub_id))).scalars())


# --- moderation: a member's content as moderators see it (services/feed/service/moderation.py) ----


async def latest_content_by(
    session: AsyncSession, member_id: int, limit: int
) -> tuple[list[Post], list[Event], list[Comment]]:
    """The member's newest `limit` posts, events (those they made) and comments each, hidden
    and deleted ones too, newest first (along the author indexes)."""
    posts = select(Post).where(col(Post.author_id) == member_id).order_by(col(Post.id).desc()).limit(limit)
    events = select(Event).where(col(Event.created_by) == member_id).order_by(col(Event.id).desc()).limit(limit)
    comments = select(Comment).where(col(Comment.author_id) == member_id).order_by(col(Comment.id).desc()).limit(limit)
    return (
        list((await session.execute(posts)).scalars()),
        list((await session.execute(events)).scalars()),
        list((await session.execute(comments)).scalars()),
    )


# --- account erasure: what an erased member left (services/feed/service/erasure.py) --------------


async def live_posts_by(session: AsyncSession, member_id: int, limit: int) -> list[Post]:
    """Posts the member published under their own name and not yet deleted (posts made as
    an organisation are the organisation's and stay)."""
    stmt = select(Post).where(
        col(Post.author_id) == member_id, col(Post.organisation_id).is_(None), col(Post.deleted_at).is_(None)
    )
    return list((await session.execute(stmt.order_by(col(Post.id)).limit(limit))).scalars())


async def live_events_organised_by(session: AsyncSession, member_id: int, limit: int) -> list[Event]:
    stmt = (
        select(Event)
        .where(col(Event.organiser_member_id) == member_id, col(Event.deleted_at).is_(None))
        .order_by(col(Event.id))
        .limit(limit)
        .with_for_update()
    )
    return list((await session.execute(stmt)).scalars())


async def live_comments_by(session: AsyncSession, member_id: int, limit: int) -> list[Comment]:
    stmt = select(Comment).where(col(Comment.author_id) == member_id, col(Comment.deleted_at).is_(None))
    return list((await session.execute(stmt.order_by(col(Comment.id)).limit(limit))).scalars())


async def reactions_by(session: AsyncSession, member_id: int, limit: int) -> list[Reaction]:
    stmt = select(Reaction).where(col(Reaction.member_id) == member_id).order_by(col(Reaction.id)).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def rsvps_by(session: AsyncSession, member_id: int, limit: int) -> list[Rsvp]:
    stmt = select(Rsvp).where(col(Rsvp.member_id) == member_id).order_by(col(Rsvp.id)).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def delete_notifications_of(session: AsyncSession, member_id: int) -> None:
    """Every notification the member received (with the actors of its groups), their
    notification preferences and their bells."""
    received = select(col(Notification.id)).where(col(Notification.recipient_id) == member_id)
    no_sync = {"synchronize_session": False}
    await session.execute(
        delete(NotificationActor)
        .where(col(NotificationActor.notification_id).in_(received))
        .execution_options(**no_sync)
    )
    await session.execute(
        delete(Notification).where(col(Notification.recipient_id) == member_id).execution_options(**no_sync)
    )
    await session.execute(
        delete(NotificationPreference)
        .where(col(NotificationPreference.member_id) == member_id)
        .execution_options(**no_sync)
    )
    await session.execute(delete(Bell).where(col(Bell.member_id) == member_id).execution_options(**no_sync))
