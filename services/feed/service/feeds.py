"""Every feed: hub (pinned first), hub resources, organisation, member activity, tag,
home, upcoming events, comments and RSVPs. Keyset pages over indexed columns, so a page
costs the same whatever the table sizes and stays stable while new items arrive."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from redis.exceptions import RedisError
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.feed import contracts as c
from services.feed import repository as repo
from services.feed.models import Comment, Entry, Event, Post, Rsvp
from services.feed.service import comments as comment_service
from services.feed.service import initiatives as initiative_service
from services.feed.service import posts as post_service
from services.feed.service.common import require_member_id
from services.feed.service.events import require_organiser_view, rsvp_out, visible_event
from services.feed.timelines import Timelines
from services.graph.client import GraphClient
from shared.auth import Principal
from shared.database import out_of, utcnow
from shared.errors import BadUserInput, NotFound
from shared.pagination import PageRequest, decode_cursor, encode_cursor, paginate

log = structlog.get_logger("hubben.feed.feeds")
# What a Redis that is away raises: a home feed read then comes from the database.
REDIS_ERRORS = (RedisError, OSError, TimeoutError)


async def _items(
    session: AsyncSession, entries: Sequence[Entry], posts: dict[int, Post] | None = None
) -> list[c.FeedItemOut]:
    """The entries' items; `posts`, when given, holds their posts already."""
    if posts is None:
        posts = await repo.posts_by_ids(session, [e.id for e in entries if e.item_type == "post"])
    events = await repo.events_by_ids(session, [e.id for e in entries if e.item_type == "event"])
    activities = await repo.activities_by_ids(
        session, [e.id for e in entries if e.item_type == initiative_service.ITEM_TYPE]
    )

    def item(e: Entry) -> c.FeedItemOut:
        if e.item_type == "post":
            return c.FeedItemOut(post=post_service.to_out(posts[e.id]))
        if e.item_type == "event":
            return c.FeedItemOut(event=out_of(c.EventOut, events[e.id]))
        return c.FeedItemOut(initiative_activity=initiative_service.to_out(activities[e.id]))

    return [item(e) for e in entries]


async def _page_entries(session: AsyncSession, stmt: Select[Any], key: Any, req: PageRequest) -> c.FeedPage:
    page = await paginate(session, stmt, key, lambda r: getattr(r[0], key.key), req, count=False)
    return c.FeedPage(
        items=await _items(session, [r[0] for r in page.rows]),
        cursors=page.cursors,
        has_next_page=page.has_next_page,
        has_previous_page=page.has_previous_page,
        total_count=None,
    )


async def hub_feed(session: AsyncSession, actor: Principal, hub_id: int, req: PageRequest) -> c.FeedPage:
    return await _page_entries(session, repo.hub_entries(actor, hub_id), Entry.hub_rank, req)


async def hub_resources(
    session: AsyncSession, actor: Principal, hub_id: int, kind: str | None, req: PageRequest
) -> c.FeedPage:
    """The hub's library: posts that are not plain updates, filterable by kind."""
    if kind is not None and kind not in {k.value for k in c.PostKind}:
        raise BadUserInput("unknown post kind", field="kind")
    stmt = repo.hub_entries(actor, hub_id, item_type="post")
    stmt = stmt.where(col(Entry.kind) == kind) if kind else stmt.where(col(Entry.kind) != "update")
    return await _page_entries(session, stmt, Entry.id, req)


async def organisation_feed(session: AsyncSession, actor: Principal, org_id: int, req: PageRequest) -> c.FeedPage:
    return await _page_entries(session, repo.organisation_entries(actor, org_id), Entry.id, req)


async def member_activity(session: AsyncSession, actor: Principal, member_id: int, req: PageRequest) -> c.FeedPage:
    return await _page_entries(session, repo.member_entries(actor, member_id), Entry.id, req)


async def tag_feed(session: AsyncSession, actor: Principal, tag: str, req: PageRequest) -> c.FeedPage:
    tag = tag.strip().lstrip("#").lower()
    if not 1 <= len(tag) <= 40:
        raise BadUserInput("tags are 1–40 characters", field="tag")
    return await _page_entries(session, repo.tag_entries(actor, tag), Entry.id, req)


async def home_feed(
    session: AsyncSession, actor: Principal, req: PageRequest, timelines: Timelines | None = None
) -> c.FeedPage:
    """What the member follows and their own, newest first. With Redis the page is read from
    the member's timeline (see services.feed.timelines), with the widely followed sources
    merged in and the database beyond what the timeline holds; without it, or when Redis is
    away, from the database alone. Both give the same pages with the same cursors."""
    me = require_member_id(actor)
    if timelines is not None:
        try:
            page = await _HomeTimeline(session, actor, me, timelines).page(req)
        except REDIS_ERRORS as exc:
            log.warning("feed.timeline_unavailable", member_id=me, error=repr(exc))
        else:
            if page is not None:
                return page
    return await _page_entries(session, repo.home_entries(actor), Entry.id, req)


class _HomeTimeline:
    """One read of a member's home feed from their timeline. Ids come from three places,
    merged and cut to the page: the timeline (ids above its floor, checked in batches
    against the database: followed, visible, not blocked or muted, live), each followed
    source too widely followed to be fanned out (along its index, a page at most), and,
    only for pages reaching below the timeline's floor, the database as the path without
    Redis reads it. The timeline part reads at most its cap, whatever the table sizes."""

    def __init__(self, session: AsyncSession, actor: Principal, member_id: int, timelines: Timelines) -> None:
        self.session = session
        self.actor = actor
        self.me = member_id
        self.store = timelines
        self.floor = 0
        self.large: list[tuple[str, int, int | None]] = []

    async def page(self, req: PageRequest) -> c.FeedPage | None:
        after = decode_cursor(req.after, "after") if req.after is not None else None
        before = decode_cursor(req.before, "before") if req.before is not None else None
        floor = await self.store.floor(self.me)
        if floor is None:
            floor = await self._rebuild()
            if floor is None:
                return None
        self.floor = floor
        self.large = await repo.followed_large_sources(self.session, self.me, self.store.max_followers)
        # Cursors work as in shared.pagination.paginate over Entry.id, newest first.
        if req.last is not None:
            n = req.last
            ids = await self.collect(lo=before, hi=after, limit=n + 1, descending=False)
            has_previous = len(ids) > n
            ids = list(reversed(ids[:n]))
            has_next = False
            if before is not None:
                hi = before + 1 if after is None else min(before + 1, after)
                has_next = bool(await self.collect(lo=None, hi=hi, limit=1, descending=True))
        else:
            n = req.first if req.first is not None else 20
            ids = await self.collect(lo=before, hi=after, limit=n + 1, descending=True)
            has_next = len(ids) > n
            ids = ids[:n]
            has_previous = False
            if after is not None:
                has_previous = bool(await self.collect(lo=after - 1, hi=None, limit=1, descending=False))
        rows, posts = await repo.entries_with_posts(self.session, ids)
        entries = [rows[i] for i in ids if i in rows]
        return c.FeedPage(
            items=await _items(self.session, entries, posts),
            cursors=[encode_cursor(e.id) for e in entries],
            has_next_page=has_next,
            has_previous_page=has_previous,
            total_count=None,
        )

    async def _rebuild(self) -> int | None:
        """Write a missing timeline from the database (its newest `cap` entries); its floor,
        or None if it was dropped meanwhile (this read then uses the database)."""
        ready = await self.store.begin_rebuild(self.me)
        if ready is not None:
            return ready
        cap = self.store.cap
        ids = await repo.timeline_ids(self.session, self.actor, limit=cap + 1)
        floor = ids[cap] if len(ids) > cap else 0
        if not await self.store.fill(self.me, ids[:cap], floor, finish=True):
            return None
        log.info("feed.timeline_rebuilt", member_id=self.me, entries=min(len(ids), cap))
        return await self.store.floor(self.me)

    async def collect(self, *, lo: int | None, hi: int | None, limit: int, descending: bool) -> list[int]:
        """Up to `limit` ids of the home feed with lo < id < hi, nearest the starting end first."""
        floor = self.floor
        above = floor if lo is None else max(lo, floor)  # the timeline's part: above its floor
        redis_open = hi is None or hi > above + 1
        below = floor + 1 if hi is None else min(hi, floor + 1)  # the database's part: up to it
        db_open = floor > 0 and (lo is None or lo + 1 < below)
        from_redis: list[int] = []
        from_db: list[int] = []
        if descending:
            if redis_open:
                from_redis = await self._from_timeline(above, hi, limit, descending)
            if db_open and len(from_redis) < limit:
                from_db = await repo.home_ids(self.session, self.actor, limit=limit - len(from_redis), lo=lo, hi=below)
        else:
            if db_open:
                from_db = await repo.home_ids(self.session, self.actor, limit=limit, lo=lo, hi=below, descending=False)
            if redis_open and len(from_db) < limit:
                from_redis = await self._from_timeline(above, hi, limit - len(from_db), descending)
        found = set(from_redis) | set(from_db)
        for target_type, target_id, last in self.large:
            # A source fanned out again since: only what fan-out skipped is merged.
            top = hi if last is None else (last + 1 if hi is None else min(hi, last + 1))
            if top is not None and lo is not None and top <= lo + 1:
                continue
            found.update(
                await repo.source_home_ids(
                    self.session, self.actor, target_type, target_id, limit=limit, lo=lo, hi=top, descending=descending
                )
            )
        return sorted(found, reverse=descending)[:limit]

    async def _from_timeline(self, lo: int, hi: int | None, limit: int, descending: bool) -> list[int]:
        """Ids from the timeline that the feed holds, checked in batches against the database."""
        out: list[int] = []
        batch = max(2 * limit, 32)
        while len(out) < limit:
            ids, more = await self.store.span(self.me, lo=lo, hi=hi, count=batch, descending=descending)
            if ids:
                shown = await repo.home_ids_among(self.session, self.actor, ids)
                out += [i for i in ids if i in shown]
            if not more or not ids:
                break
            if descending:
                hi = ids[-1]
            else:
                lo = ids[-1]
        return out[:limit]


async def upcoming(session: AsyncSession, actor: Principal, flt: c.UpcomingFilter, req: PageRequest) -> c.EventPage:
    """Events not yet over, soonest first (ties by id), starting within an optional date range."""
    for name, value in (("startsAfter", flt.starts_after), ("startsBefore", flt.starts_before)):
        if value is not None and value.tzinfo is None:
            raise BadUserInput("give the time with its time zone", field=name)
    # An early startsAfter never brings back what is over.
    stmt = repo.upcoming_events(actor, flt.hub_id, flt.organisation_id, flt.county_code, utcnow(), flt.starts_before)
    if flt.starts_after is not None:
        stmt = stmt.where(col(Event.starts_at) >= flt.starts_after)
    page = await paginate(session, stmt, Event.start_key, lambda r: r[0].start_key, req, descending=False)
    return c.EventPage(
        items=[out_of(c.EventOut, r[0]) for r in page.rows],
        cursors=page.cursors,
        has_next_page=page.has_next_page,
        has_previous_page=page.has_previous_page,
        total_count=page.total_count,
    )


async def comments(
    session: AsyncSession,
    actor: Principal,
    target_type: str,
    target_id: int,
    parent_id: int | None,
    req: PageRequest,
) -> c.CommentPage:
    """Oldest first, as conversations read; blocked members' comments are left out."""
    if not await repo.readable_entry(session, actor, target_id):
        raise NotFound(f"no such {target_type}", field="targetId")
    stmt = repo.comments_on(target_type, target_id, parent_id)
    if actor.member_id is not None:
        stmt = stmt.where(repo.not_blocked(actor.member_id, Comment.author_id))
    page = await paginate(session, stmt, Comment.id, lambda r: r[0].id, req, descending=False)
    return c.CommentPage(
        items=[comment_service.to_out(r[0]) for r in page.rows],
        cursors=page.cursors,
        has_next_page=page.has_next_page,
        has_previous_page=page.has_previous_page,
        total_count=page.total_count,
    )


async def rsvps(
    session: AsyncSession,
    graph: GraphClient,
    actor: Principal,
    event_id: int,
    status: str | None,
    req: PageRequest,
) -> c.RsvpPage:
    """Who is going is public with the event; the other lists are the organiser's."""
    if status == "going":
        await visible_event(session, actor, event_id)
    else:
        await require_organiser_view(session, graph, actor, event_id)
    descending = False
    waitlisted = status == "waitlisted"
    key = col(Rsvp.queued_at) if waitlisted else col(Rsvp.id)
    page = await paginate(
        session,
        repo.rsvps_of(event_id, status),
        key,
        lambda r: r[0].queued_at if waitlisted else r[0].id,
        req,
        descending=descending,
    )
    return c.RsvpPage(
        items=[await rsvp_out(session, r[0]) for r in page.rows],
        cursors=page.cursors,
        has_next_page=page.has_next_page,
        has_previous_page=page.has_previous_page,
        total_count=page.total_count,
    )
