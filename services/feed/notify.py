"""Notification jobs: events from the graph and the feed become notifications
(services/feed/service/notifications.py decides who hears what), and notifications and
new hub items are published live for GraphQL subscriptions (shared/broker.py).

Every job may run twice and out of order: notifications are unique per recipient and
group key, fan-outs page by member id and commit page by page, so a job that dies half
way is simply run again. Live messages are at least once; listeners dedupe by id."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import structlog

from services.feed.models import HandledEvent
from services.feed.service import notification_events as events
from services.feed.service import notifications as notes
from shared.broker import hub_channel, notifications_channel
from shared.database import session_scope
from shared.jobs import Registry

log = structlog.get_logger("hubben.feed.notify")

NOTIFY = "feed.notify"
NOTIFY_BELLS = "feed.notify_bells"
NOTIFY_EVENT_CHANGE = "feed.notify_event_change"
PUSH = "feed.push_notifications"
PUBLISH_HUB_ITEMS = "feed.publish_hub_items"
REMINDERS = "feed.event_reminders"
MODERATION_OUTCOME = "feed.moderation_outcome"

# Events telling a few members each: one transaction per event.
FEW_TOPICS = {
    "follow.created",
    "organisation.invitation_created",
    "post.created",
    "post.updated",
    "comment.created",
    "reaction.set",
    "event.waitlist_promoted",
}
NEW_ITEM_TOPICS = {"post.created", "event.created"}
EVENT_CHANGE_TOPICS = {"event.updated", "event.cancelled"}
MODERATION_DECIDED = "moderation.decided"
PUBLISH_CONCURRENCY = 50


async def notify(ctx: dict[str, Any], event: dict[str, Any]) -> None:
    topic, p = event["topic"], event["payload"]
    async with session_scope(ctx["feed_sessionmaker"]) as s:
        if topic == "follow.created":
            await events.on_follow(s, p)
        elif topic == "organisation.invitation_created":
            await events.on_invitation(s, p)
        elif topic in ("post.created", "post.updated"):
            await events.on_post(s, p)
        elif topic == "comment.created":
            await events.on_comment(s, p)
        elif topic == "reaction.set":
            await events.on_reaction(s, p)
        elif topic == "event.waitlist_promoted":
            await events.on_waitlist_promoted(s, p, int(event["id"]))


async def _fan_out(
    ctx: dict[str, Any], notice: notes.Notice, entry: Any, source: Any, done_key: str | None = None
) -> None:
    """Page through a source's members, one committed transaction per page."""
    after: int | None = 0
    pages = 0
    while after is not None:
        async with session_scope(ctx["feed_sessionmaker"]) as s:
            after = await notes.notify_page(s, notice, source, entry, after)
            if after is None and done_key is not None:
                s.add(HandledEvent(key=done_key))
        pages += 1
    log.debug("feed.notifications_fanned_out", key=notice.group_key, pages=pages)


async def notify_bells(ctx: dict[str, Any], event: dict[str, Any]) -> None:
    """A new post or event reaches everyone who turned on its hub's or organisation's bell."""
    async with session_scope(ctx["feed_sessionmaker"]) as s:
        plans = await events.new_item(s, event["topic"], event["payload"])
    for notice, entry, source in plans:
        await _fan_out(ctx, notice, entry, source)


async def notify_event_change(ctx: dict[str, Any], event: dict[str, Any]) -> None:
    """An updated or cancelled event reaches everyone who answered it (but "not going")."""
    async with session_scope(ctx["feed_sessionmaker"]) as s:
        plan = await events.event_change(s, event["topic"], event["payload"])
    if plan is not None:
        notice, entry = plan
        await _fan_out(ctx, notice, entry, events.event_audience(entry.id))


async def event_reminders(ctx: dict[str, Any], arg: dict[str, Any]) -> None:
    """Each minute: remind "going" members of events starting in 24 hours and in 1 hour."""
    at = datetime.fromisoformat(arg["at"])
    async with session_scope(ctx["feed_sessionmaker"]) as s:
        plans = await events.due_reminders(s, at)
    for notice, entry, source in plans:
        # Marked done with its last page: the next minute's run skips it.
        await _fan_out(ctx, notice, entry, source, done_key=notice.group_key)


async def moderation_outcome(ctx: dict[str, Any], event: dict[str, Any]) -> None:
    """moderation.decided: each member the decision names (the reporters, the author) is
    told its outcome, once per decision (the key names both), however often it arrives."""
    p = event["payload"]
    subject_id = p.get("target_id")
    async with session_scope(ctx["feed_sessionmaker"]) as s:
        for told in p.get("notify") or []:
            member_id = int(told["member_id"])
            await notes.notify_moderation_outcome(
                s,
                member_id=member_id,
                key=f"{p['decision_id']}:{member_id}",
                outcome=str(told["outcome"]),
                message=str(told.get("message") or ""),
                about=told.get("about"),
                subject_type=p.get("target_type"),
                subject_id=int(subject_id) if subject_id is not None else None,
            )


async def _publish_all(broker: Any, messages: list[tuple[str, dict[str, Any]]]) -> None:
    for start in range(0, len(messages), PUBLISH_CONCURRENCY):
        chunk = messages[start : start + PUBLISH_CONCURRENCY]
        await asyncio.gather(*(broker.publish(channel, message) for channel, message in chunk))


async def push_notifications(ctx: dict[str, Any], event: dict[str, Any]) -> None:
    """notification.created: each recipient's listeners (any gateway process) get the ids."""
    p = event["payload"]
    by_recipient: dict[int, list[int]] = {}
    for notification_id, recipient in zip(p["ids"], p["recipients"], strict=True):
        by_recipient.setdefault(int(recipient), []).append(int(notification_id))
    await _publish_all(
        ctx["broker"], [(notifications_channel(r), {"ids": [str(i) for i in ids]}) for r, ids in by_recipient.items()]
    )


async def publish_hub_items(ctx: dict[str, Any], event: dict[str, Any]) -> None:
    """post.created / event.created in a hub: the hub's live feed listeners get the item."""
    p = event["payload"]
    if not p.get("hub_id"):
        return
    item_type = "post" if event["topic"].startswith("post.") else "event"
    item_id = p["post_id"] if item_type == "post" else p["event_id"]
    await ctx["broker"].publish(hub_channel(int(p["hub_id"])), {"type": item_type, "id": str(item_id)})


def register(registry: Registry) -> None:
    registry.add(NOTIFY, FEW_TOPICS, notify)
    registry.add(NOTIFY_BELLS, NEW_ITEM_TOPICS, notify_bells)
    registry.add(NOTIFY_EVENT_CHANGE, EVENT_CHANGE_TOPICS, notify_event_change)
    registry.add(PUSH, {notes.CREATED_TOPIC}, push_notifications)
    registry.add(PUBLISH_HUB_ITEMS, NEW_ITEM_TOPICS, publish_hub_items)
    registry.every(REMINDERS, event_reminders)
    registry.add(MODERATION_OUTCOME, {MODERATION_DECIDED}, moderation_outcome)
