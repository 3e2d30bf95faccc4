"""Fan-out on write: the jobs that keep home timelines (services.feed.timelines) in step
with what is published and with who follows, blocks and mutes whom.

Two tiers, as Mastodon does it: `feed.fanout` pages through the followers of a new entry's
sources (its hub, its organisation, or its author when posted under their own name) and
enqueues `feed.timeline_insert` jobs of `fanout_batch` members each, which write to Redis in
one round trip per batch. Sources with more than `fanout_max_followers` followers are not
fanned out: home feed reads merge them in. Removal mirrors it (`feed.unfanout`, then
`feed.timeline_remove` batches) when an entry stops being live. Graph changes reconcile
one member's timeline with the database for the source, hub or author concerned.

Every job reloads what it needs, returns quietly when the entry is gone or not (any longer)
live, and may run twice or out of order: adding to or removing from a sorted set is
idempotent, and batch job ids are derived from the entry, the triggering event and the
batch's first member. Without Redis (the embedded default) there are no timelines and the
jobs do nothing."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from services.feed import repository as repo
from services.feed import timelines as store
from services.feed.models import Entry
from shared.auth import Principal
from shared.database import session_scope
from shared.jobs import Registry, event_key

log = structlog.get_logger("hubben.feed.fanout")

FANOUT = "feed.fanout"
INSERT = "feed.timeline_insert"
UNFANOUT = "feed.unfanout"
REMOVE = "feed.timeline_remove"
GRAPH = "feed.timeline_graph_event"
# The job that applies graph events to the feed's copies (services.feed.jobs); timelines
# are reconciled against those copies, so only after it has applied the same event.
COPY_JOB = "feed.apply_graph_event"

# An entry appears: created, or (moderation) restored; an initiative's activity appears, or
# comes back when the initiative is made public again (services.feed.service.initiatives).
APPEAR_TOPICS = {
    "post.created",
    "event.created",
    "post.restored",
    "event.restored",
    "entry.restored",
    "initiative_activity.created",
}
# An entry may have stopped being live: deleted, cancelled, or (moderation) hidden; an
# initiative's activity, when the initiative is deleted or kept to its organisation. The job
# checks `Entry.live`, so a cancelled event that stays listed stays in timelines too.
VANISH_TOPICS = {
    "post.deleted",
    "event.cancelled",
    "event.deleted",
    "post.hidden",
    "event.hidden",
    "entry.hidden",
}
# Blocks and mutes are applied by every read, so timelines keep the other member's
# entries: lifting one shows them again at once. Fan-out skips a blocked or muting
# follower, though, so lifting one adds back what was posted meanwhile.
GRAPH_TOPICS = {
    "follow.created",
    "follow.deleted",
    "block.deleted",
    "mute.deleted",
    "hub.member_joined",
    "hub.member_left",
}


class CopyPending(RuntimeError):
    """The feed's copy of a graph fact has not caught up with the event yet: try again later."""


def timelines_of(ctx: dict[str, Any]) -> store.Timelines | None:
    """The timeline store over the job's Redis (a cheap wrapper: arq gives every job its
    own copy of the context); None without Redis. A context may bring its own (tests)."""
    if "timelines" in ctx:
        return ctx["timelines"]  # type: ignore[no-any-return]
    redis = ctx.get("redis")
    return store.for_settings(redis, ctx["settings"]) if redis is not None else None


def entry_id_of(payload: dict[str, Any]) -> int:
    for name in ("entry_id", "post_id", "event_id"):
        if payload.get(name) is not None:
            return int(payload[name])
    raise ValueError(f"no entry id in {sorted(payload)}")


def entry_sources(entry: Entry) -> list[tuple[str, int]]:
    """The followed sources that bring an entry into home feeds (see repo.home_entries)."""
    sources: list[tuple[str, int]] = []
    if entry.hub_id is not None:
        sources.append(("hub", entry.hub_id))
    if entry.organisation_id is not None:
        sources.append(("organisation", entry.organisation_id))
    else:
        sources.append(("member", entry.author_id))
    return sources


async def _entry(maker: async_sessionmaker[AsyncSession], entry_id: int) -> Entry | None:
    async with session_scope(maker) as s:
        return await s.get(Entry, entry_id)


# --- an entry appears -------------------------------------------------------------------------


async def fanout(ctx: dict[str, Any], event: dict[str, Any]) -> None:
    """Enqueue timeline inserts for the author and every follower of the entry's sources
    that are not too widely followed, `fanout_batch` followers a job, leaving out members
    on either side of a block with the author, who muted the author, or (for an item only
    for its hub's members) who are not members."""
    if timelines_of(ctx) is None:
        return
    settings = ctx["settings"]
    entry_id = entry_id_of(event["payload"])
    maker = ctx["feed_sessionmaker"]
    jobs = ctx["jobs"]
    async with session_scope(maker) as s:
        entry = await s.get(Entry, entry_id)
        if entry is None or not entry.live:
            log.info("feed.fanout_skipped", entry_id=entry_id, reason="gone" if entry is None else "not live")
            return
        prefix = f"{INSERT}:{entry_id}:{event['id']}"
        batches: list[tuple[str, list[int]]] = [(f"{prefix}:author", [entry.author_id])]
        apart = await repo.kept_apart_from(s, entry.author_id)
        for target_type, target_id in entry_sources(entry):
            if await repo.follower_count(s, target_type, target_id) > settings.fanout_max_followers:
                await repo.note_unfanned(s, target_type, target_id, entry_id)  # merged in on read
                continue
            after = 0
            while True:
                page = await repo.followers_page(s, target_type, target_id, after, settings.fanout_batch)
                if not page:
                    break
                members = [m for m in page if m not in apart]
                if entry.visibility == "hub_members" and entry.hub_id is not None:
                    inside = await repo.hub_members_among(s, entry.hub_id, members)
                    members = [m for m in members if m in inside]
                if members:  # the key names the page, which is the same whatever was left out
                    batches.append((f"{prefix}:{target_type}:{target_id}:{page[0]}", members))
                if len(page) < settings.fanout_batch:
                    break
                after = page[-1]
    # Enqueued after paging: inserts that started meanwhile would slow the paging (they
    # share this process) more than they gain by starting early.
    for key, members in batches:
        await jobs.enqueue(INSERT, {"entry_id": entry_id, "members": members}, key)
    log.debug("feed.fanout_enqueued", entry_id=entry_id, batches=len(batches))


async def timeline_insert(ctx: dict[str, Any], arg: dict[str, Any]) -> None:
    timelines = timelines_of(ctx)
    if timelines is None:
        return
    entry = await _entry(ctx["feed_sessionmaker"], int(arg["entry_id"]))
    if entry is None or not entry.live:
        return
    await timelines.insert([int(m) for m in arg["members"]], entry.id)


# --- an entry vanishes --------------------------------------------------------------------------


async def unfanout(ctx: dict[str, Any], event: dict[str, Any]) -> None:
    """Take an entry that is no longer live out of every timeline that may hold it: its
    author's and those of all followers of its sources (widely followed ones too, whose
    entries reach timelines by rebuilds and follow backfills)."""
    if timelines_of(ctx) is None:
        return
    settings = ctx["settings"]
    entry_id = entry_id_of(event["payload"])
    jobs = ctx["jobs"]
    async with session_scope(ctx["feed_sessionmaker"]) as s:
        entry = await s.get(Entry, entry_id)
        if entry is None or entry.live:
            return
        prefix = f"{REMOVE}:{entry_id}:{event['id']}"
        await jobs.enqueue(REMOVE, {"entry_id": entry_id, "members": [entry.author_id]}, f"{prefix}:author")
        for target_type, target_id in entry_sources(entry):
            after = 0
            while True:
                page = await repo.followers_page(s, target_type, target_id, after, settings.fanout_batch)
                if not page:
                    break
                key = f"{prefix}:{target_type}:{target_id}:{page[0]}"
                await jobs.enqueue(REMOVE, {"entry_id": entry_id, "members": page}, key)
                if len(page) < settings.fanout_batch:
                    break
                after = page[-1]


async def timeline_remove(ctx: dict[str, Any], arg: dict[str, Any]) -> None:
    timelines = timelines_of(ctx)
    if timelines is None:
        return
    entry_id = int(arg["entry_id"])
    entry = await _entry(ctx["feed_sessionmaker"], entry_id)
    if entry is not None and entry.live:
        return  # restored meanwhile
    await timelines.remove([int(m) for m in arg["members"]], entry_id)


# --- who follows, blocks and mutes whom ------------------------------------------------------------


def _affected(topic: str, p: dict[str, Any]) -> list[tuple[int, ColumnElement[bool]]]:
    """The timelines a graph event touches, each with the entries it concerns."""
    if topic.startswith("follow."):
        return [(p["follower_id"], repo.source_condition(p["target_type"], p["target_id"]))]
    if topic.startswith("block."):
        return [
            (p["blocker_id"], col(Entry.author_id) == p["blocked_id"]),
            (p["blocked_id"], col(Entry.author_id) == p["blocker_id"]),
        ]
    if topic.startswith("mute."):
        return [(p["muter_id"], col(Entry.author_id) == p["muted_id"])]
    if topic in ("hub.member_joined", "hub.member_left"):
        return [(p["member_id"], col(Entry.hub_id) == p["hub_id"])]
    return []


async def timeline_graph_event(ctx: dict[str, Any], event: dict[str, Any]) -> None:
    """Follow, unfollow, unblock, unmute, join or leave a hub: reconcile the timelines
    concerned with the feed's copies, once those hold the event."""
    timelines = timelines_of(ctx)
    if timelines is None:
        return
    maker = ctx["feed_sessionmaker"]
    async with session_scope(maker) as s:
        if not await repo.already_handled(s, event_key(event, COPY_JOB)):
            raise CopyPending(f"{event['topic']} {event['id']} is not yet applied to the feed's copies")
    for member_id, concerned in _affected(event["topic"], event["payload"]):
        await reconcile(maker, timelines, int(member_id), concerned)


async def reconcile(
    maker: async_sessionmaker[AsyncSession], timelines: store.Timelines, member_id: int, concerned: ColumnElement[bool]
) -> None:
    """Make the entries matching `concerned` in the member's timeline what the database
    says it should hold (repo.timeline_ids): drop those it no longer should (unfollow, left
    a members-only hub) and add those above its floor it now should (follow backfill,
    joined a hub, unblock, unmute). A missing timeline is left alone: its rebuild reads the
    database as it then is."""
    if not await timelines.exists(member_id):
        return
    floor, held = await timelines.snapshot(member_id)
    if floor is None:  # being rebuilt: trust nothing below what the sentinel says
        floor = 0
    viewer = Principal(member_id=member_id)
    cap = timelines.cap
    async with session_scope(maker) as s:
        held_concerned = await repo.ids_matching(s, held, concerned)
        kept = await repo.timeline_ids_among(s, viewer, list(held_concerned))
        found = await repo.timeline_ids(s, viewer, limit=cap + 1, lo=floor or None, where=concerned)
    gone = sorted(held_concerned - kept)
    await timelines.discard(member_id, gone)
    if found:
        # More than the cap above the floor: the floor rises to the first one left out.
        await timelines.fill(member_id, found[:cap], found[cap] if len(found) > cap else 0)
    log.debug("feed.timeline_reconciled", member_id=member_id, removed=len(gone), added=len(found))


def register(registry: Registry) -> None:
    registry.add(FANOUT, APPEAR_TOPICS, fanout)
    registry.task(INSERT, timeline_insert)
    registry.add(UNFANOUT, VANISH_TOPICS, unfanout)
    registry.task(REMOVE, timeline_remove)
    registry.add(GRAPH, GRAPH_TOPICS, timeline_graph_event)
