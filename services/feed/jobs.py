"""The feed service's jobs and the events they subscribe to. It keeps its own copy of the
graph facts that reading feeds needs: follows, blocks, mutes and hub memberships."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import update

from services.feed import repository as repo
from services.feed.erasure import register as register_erasure
from services.feed.fanout import register as register_fanout
from services.feed.mail import register as register_mail
from services.feed.models import BlockCopy, Entry, Event, FollowCopy, HandledEvent, HubMemberCopy, MuteCopy, Post
from services.feed.notify import register as register_notifications
from services.feed.service import initiatives
from shared.database import session_scope
from shared.jobs import Registry, event_key

log = structlog.get_logger("hubben.feed.jobs")

GRAPH_TOPICS = {
    "follow.created",
    "follow.deleted",
    "block.created",
    "block.deleted",
    "mute.created",
    "mute.deleted",
    "hub.created",
    "hub.updated",
    "hub.member_joined",
    "hub.member_left",
    "hub.role_changed",
    *initiatives.TOPICS,
}
JOB = "feed.apply_graph_event"


async def apply_graph_event(ctx: dict[str, Any], event: dict[str, Any]) -> None:
    """Apply one graph event to the feed's copies, once, and never over a newer one:
    events may arrive out of order (retries, several workers), so each copied fact keeps
    the id of the newest event applied to it."""
    key = event_key(event, JOB)
    p = event["payload"]
    topic = event["topic"]
    version = int(event["id"])
    async with session_scope(ctx["feed_sessionmaker"]) as s:
        if await repo.already_handled(s, key):
            return
        s.add(HandledEvent(key=key))
        if topic in ("follow.created", "follow.deleted"):
            target = (p["target_type"], p["target_id"])
            if await repo.newer(s, f"follow:{p['follower_id']}:{target[0]}:{target[1]}", version):
                had = await repo.delete_follow_copy(s, p["follower_id"], *target)
                if topic == "follow.created":
                    s.add(
                        FollowCopy(
                            follower_id=p["follower_id"],
                            target_type=target[0],
                            target_id=target[1],
                            follow_id=p["follow_id"],
                        )
                    )
                await repo.bump_followers(s, *target, (topic == "follow.created") - had)
        elif topic in ("block.created", "block.deleted"):
            if await repo.newer(s, f"block:{p['blocker_id']}:{p['blocked_id']}", version):
                await repo.delete_where(
                    s, BlockCopy, BlockCopy.blocker_id == p["blocker_id"], BlockCopy.blocked_id == p["blocked_id"]
                )
                if topic == "block.created":
                    s.add(BlockCopy(blocker_id=p["blocker_id"], blocked_id=p["blocked_id"]))
        elif topic in ("mute.created", "mute.deleted"):
            if await repo.newer(s, f"mute:{p['muter_id']}:{p['muted_id']}", version):
                await repo.delete_where(
                    s, MuteCopy, MuteCopy.muter_id == p["muter_id"], MuteCopy.muted_id == p["muted_id"]
                )
                if topic == "mute.created":
                    s.add(MuteCopy(muter_id=p["muter_id"], muted_id=p["muted_id"]))
        elif topic in ("hub.member_joined", "hub.role_changed", "hub.member_left") or (
            topic == "hub.created" and p.get("by")
        ):
            member_id = p.get("member_id") or p["by"]
            if await repo.newer(s, f"hub_member:{p['hub_id']}:{member_id}", version):
                await repo.delete_where(
                    s, HubMemberCopy, HubMemberCopy.hub_id == p["hub_id"], HubMemberCopy.member_id == member_id
                )
                if topic != "hub.member_left":
                    role = p.get("role") or ("admin" if topic == "hub.created" else "member")
                    s.add(HubMemberCopy(hub_id=p["hub_id"], member_id=member_id, role=role))
        elif topic in initiatives.TOPICS:
            await initiatives.apply_initiative_event(s, event)
        elif topic == "hub.updated" and p.get("visibility") == "members_only":
            # A hub that closes takes its items with it: from now on they are for its members.
            await s.execute(update(Entry).where(Entry.hub_id == p["hub_id"]).values(visibility="hub_members"))
            await s.execute(update(Post).where(Post.hub_id == p["hub_id"]).values(visibility="hub_members"))
            await s.execute(update(Event).where(Event.hub_id == p["hub_id"]).values(visibility="hub_members"))
        log.debug("feed.graph_event_applied", topic=topic, id=event["id"])


def register(registry: Registry) -> None:
    registry.add(JOB, GRAPH_TOPICS, apply_graph_event)
    register_notifications(registry)
    register_fanout(registry)  # after apply_graph_event: timelines follow the copies
    register_mail(registry)
    register_erasure(registry)  # member.erased: what an erased member left goes
