"""What each event causes: who is told what (services/feed/notify.py's jobs call these;
the making, grouping and reading are in notifications.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.feed import repository as repo
from services.feed.models import Comment, Entry, Event, Post
from services.feed.service.notifications import Kind, Notice, notify, notify_grouped

# Who hears of an event's changes: everyone who answered it but "not going".
EVENT_AUDIENCE = ("going", "interested", "waitlisted")
# An update worth telling about: what, when and where (a new capacity promotes people,
# and they hear of that as waitlist_promoted).
EVENT_CHANGE_FIELDS = frozenset(
    {"title", "description", "starts_at", "ends_at", "timezone", "location", "online_url", "municipality_code"}
)
# Reminders: (label, how long before the start, how far back a late run still finds it).
REMINDER_WINDOWS = (("24h", timedelta(hours=24), timedelta(hours=1)), ("1h", timedelta(hours=1), timedelta(minutes=15)))
REMINDER_EVENTS_PER_RUN = 200


def _snippet(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


async def _live_entry(session: AsyncSession, entry_id: int) -> Entry | None:
    entry = await session.get(Entry, entry_id)
    return entry if entry is not None and entry.live else None


async def _item_title(session: AsyncSession, item_type: str, item_id: int) -> str:
    if item_type == "post":
        post = await session.get(Post, item_id)
        return (post.title or _snippet(post.body)) if post else ""
    event = await session.get(Event, item_id)
    return event.title if event else ""


async def on_follow(session: AsyncSession, p: dict[str, Any]) -> None:
    """follow.created: a member who gains a follower hears of it (once per follower)."""
    if p["target_type"] != "member":
        return
    follower = int(p["follower_id"])
    notice = Notice(Kind.follower, f"follower:{follower}", follower, "member", follower)
    await notify(session, notice, [int(p["target_id"])], None)


async def on_invitation(session: AsyncSession, p: dict[str, Any]) -> None:
    """organisation.invitation_created: the invitee hears who invited them, and to what."""
    data = {"invitation_id": int(p["invitation_id"]), "role": p["role"], "organisation_id": p["organisation_id"]}
    notice = Notice(
        Kind.organisation_invitation,
        f"organisation_invitation:{p['invitation_id']}",
        int(p["inviter_id"]),
        "organisation",
        int(p["organisation_id"]),
        data,
    )
    await notify(session, notice, [int(p["invitee_id"])], None)


async def on_post(session: AsyncSession, p: dict[str, Any]) -> None:
    """post.created / post.updated: members mentioned (and still mentioned) hear of it once."""
    post = await session.get(Post, int(p["post_id"]))
    entry = await _live_entry(session, int(p["post_id"]))
    if post is None or entry is None or post.deleted_at is not None:
        return
    still = set(post.mentions)
    mentioned = [int(m) for m in p.get("mentions") or [] if int(m) in still]
    data = {"in": "post", "item_type": "post", "title": post.title or _snippet(post.body)}
    notice = Notice(Kind.mention, f"mention:post:{post.id}", post.author_id, "post", post.id, data)
    await notify(session, notice, mentioned, entry)


async def on_comment(session: AsyncSession, p: dict[str, Any]) -> None:
    """comment.created: the parent comment's author hears of a reply, the item's author of
    a comment, and the mentioned of a mention; each member hears once, the closest first."""
    comment = await session.get(Comment, int(p["comment_id"]))
    if comment is None or comment.deleted_at is not None or comment.hidden_at is not None:
        return
    entry = await _live_entry(session, comment.target_id)
    if entry is None:
        return
    data = {
        "item_type": comment.target_type,
        "target_type": comment.target_type,
        "target_id": comment.target_id,
        "title": await _item_title(session, comment.target_type, comment.target_id),
        "excerpt": _snippet(comment.body),
    }
    actor = comment.author_id
    told: set[int] = set()
    parent_author = p.get("parent_author_id")
    if parent_author:
        notice = Notice(Kind.reply, f"reply:{comment.id}", actor, "comment", comment.id, data)
        await notify(session, notice, [int(parent_author)], entry)
        told.add(int(parent_author))
    target_author = p.get("target_author_id")
    if target_author and int(target_author) not in told:
        notice = Notice(Kind.comment, f"comment:{comment.id}", actor, "comment", comment.id, data)
        await notify(session, notice, [int(target_author)], entry)
        told.add(int(target_author))
    mentioned = [m for m in comment.mentions if m not in told]
    notice = Notice(
        Kind.mention, f"mention:comment:{comment.id}", actor, "comment", comment.id, {**data, "in": "comment"}
    )
    await notify(session, notice, mentioned, entry)


async def on_reaction(session: AsyncSession, p: dict[str, Any]) -> None:
    """reaction.set: the author of the post, event or comment hears of it, grouped per item."""
    target_type, target_id = str(p["target_type"]), int(p["target_id"])
    recipient, actor = p.get("target_author_id"), int(p["member_id"])
    if not recipient or await repo.reaction_of(session, target_type, target_id, actor) is None:
        return  # no author to tell, or the reaction was taken back before we got here
    if target_type == "comment":
        comment = await session.get(Comment, target_id)
        if comment is None or comment.deleted_at is not None or comment.hidden_at is not None:
            return
        entry = await _live_entry(session, comment.target_id)
        title = _snippet(comment.body)
    else:
        entry = await _live_entry(session, target_id)
        title = await _item_title(session, target_type, target_id)
    if entry is None:
        return
    data = {"item_type": target_type, "target_type": target_type, "title": title}
    notice = Notice(Kind.reaction, f"reaction:{target_type}:{target_id}", actor, target_type, target_id, data)
    await notify_grouped(session, notice, int(recipient), entry)


async def on_waitlist_promoted(session: AsyncSession, p: dict[str, Any], occurrence: int) -> None:
    """event.waitlist_promoted: the member promoted hears of it, once per promotion
    (`occurrence` is the outbox event's id), if they are still going."""
    event_id, member_id = int(p["event_id"]), int(p["member_id"])
    event = await session.get(Event, event_id)
    entry = await _live_entry(session, event_id)
    rsvp = await repo.rsvp_of(session, event_id, member_id)
    if event is None or entry is None or rsvp is None or rsvp.status != "going":
        return
    data = {"item_type": "event", "title": event.title, "starts_at": event.starts_at.isoformat()}
    notice = Notice(Kind.waitlist_promoted, f"waitlist_promoted:{event_id}:{occurrence}", None, "event", event_id, data)
    await notify(session, notice, [member_id], entry)


async def event_change(session: AsyncSession, topic: str, p: dict[str, Any]) -> tuple[Notice, Entry] | None:
    """event.updated / event.cancelled: the notice for everyone who answered the event, or
    None when there is nothing to tell. Each update (by its sequence) is told once."""
    fields = set(p.get("fields") or [])
    if topic == "event.updated" and not fields & EVENT_CHANGE_FIELDS:
        return None
    event = await session.get(Event, int(p["event_id"]))
    entry = await _live_entry(session, int(p["event_id"]))
    if event is None or entry is None:
        return None
    data: dict[str, Any] = {"item_type": "event", "title": event.title, "starts_at": event.starts_at.isoformat()}
    if topic == "event.cancelled":
        notice = Notice(Kind.event_cancelled, f"event_cancelled:{event.id}", event.created_by, "event", event.id, data)
    else:
        key = f"event_updated:{event.id}:{p['sequence']}"
        data["fields"] = sorted(fields & EVENT_CHANGE_FIELDS)
        notice = Notice(Kind.event_updated, key, event.created_by, "event", event.id, data)
    return notice, entry


def event_audience(event_id: int) -> tuple[Any, Any, list[Any]]:
    return repo.rsvp_source(event_id, EVENT_AUDIENCE)


async def new_item(session: AsyncSession, topic: str, p: dict[str, Any]) -> list[tuple[Notice, Entry, Any]]:
    """post.created / event.created: a notice for the bells of its hub and of its
    organisation, with their audiences. Both share one group key, so a member with both
    bells on hears once."""
    item_type = "post" if topic.startswith("post.") else "event"
    item_id = int(p["post_id"] if item_type == "post" else p["event_id"])
    entry = await _live_entry(session, item_id)
    if entry is None:
        return []
    data = {
        "item_type": item_type,
        "title": await _item_title(session, item_type, item_id),
        "hub_id": entry.hub_id,
        "organisation_id": entry.organisation_id,
    }
    key = f"new:{item_type}:{item_id}"
    out = []
    if entry.hub_id is not None:
        notice = Notice(Kind.hub_post, key, entry.author_id, item_type, item_id, data)
        out.append((notice, entry, repo.bell_source("hub", entry.hub_id)))
    if entry.organisation_id is not None:
        notice = Notice(Kind.organisation_post, key, entry.author_id, item_type, item_id, data)
        out.append((notice, entry, repo.bell_source("organisation", entry.organisation_id)))
    return out


async def due_reminders(session: AsyncSession, at: datetime) -> list[tuple[Notice, Entry, Any]]:
    """Events entering their 24-hour or 1-hour window at `at`, not yet reminded of, with
    the notice for their "going" members. The group key holds the start time, so an
    event moved to another time is reminded of again. A run that comes late (a worker
    was down) still finds what entered the window within its lookback. Each reminder is
    sent once, to who is going then: answering "going" afterwards waits for the next one."""
    out = []
    for label, before, lookback in REMINDER_WINDOWS:
        for event in await repo.events_starting(session, at + before - lookback, at + before, REMINDER_EVENTS_PER_RUN):
            key = f"event_reminder:{event.id}:{label}:{int(event.starts_at.timestamp())}"
            entry = await _live_entry(session, event.id)
            if entry is None or await repo.already_handled(session, key):
                continue
            data = {
                "item_type": "event",
                "title": event.title,
                "window": label,
                "starts_at": event.starts_at.isoformat(),
            }
            notice = Notice(Kind.event_reminder, key, None, "event", event.id, data)
            out.append((notice, entry, repo.rsvp_source(event.id, ("going",))))
    return out
