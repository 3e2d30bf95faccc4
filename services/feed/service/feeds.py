"""Every feed: hub (pinned first), hub resources, organisation, member activity, tag,
home, upcoming events, comments and RSVPs. Keyset pages over indexed columns, so a page
costs the same whatever the table sizes and stays stable while new items arrive."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.feed import contracts as c
from services.feed import repository as repo
from services.feed.models import Comment, Entry, Event, Rsvp
from services.feed.service import comments as comment_service
from services.feed.service import posts as post_service
from services.feed.service.common import require_member_id
from services.feed.service.events import require_organiser_view, rsvp_out, visible_event
from services.graph.client import GraphClient
from shared.auth import Principal
from shared.database import utcnow
from shared.errors import BadUserInput, NotFound
from shared.pagination import PageRequest, paginate


async def _page_entries(session: AsyncSession, stmt: Select[Any], key: Any, req: PageRequest) -> c.FeedPage:
    page = await paginate(session, stmt, key, lambda r: getattr(r[0], key.key), req, count=False)
    entries: list[Entry] = [r[0] for r in page.rows]
    posts = await repo.posts_by_ids(session, [e.id for e in entries if e.item_type == "post"])
    events = await repo.events_by_ids(session, [e.id for e in entries if e.item_type == "event"])
    items = [
        c.FeedItemOut(post=post_service.to_out(posts[e.id]))
        if e.item_type == "post"
        else c.FeedItemOut(event=c.EventOut.model_validate(events[e.id]))
        for e in entries
    ]
    return c.FeedPage(
        items=items,
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


async def home_feed(session: AsyncSession, actor: Principal, req: PageRequest) -> c.FeedPage:
    require_member_id(actor)
    return await _page_entries(session, repo.home_entries(actor), Entry.id, req)


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
        items=[c.EventOut.model_validate(r[0]) for r in page.rows],
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
