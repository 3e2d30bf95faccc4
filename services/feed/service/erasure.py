"""What an erased member leaves in the feed is removed (graph's `member.erased`).

Everything goes through the paths members use themselves, so counts, timelines and the
events others follow come out the same: their own posts are soft-deleted like deletePost
(`post.deleted` takes them out of every timeline), the events they organise are cancelled
and soft-deleted (`event.deleted`), their comments are blanked like deleteComment (the
replies of others stay readable), their reactions and RSVPs are withdrawn with the counts
put right (a place they held goes to the first on the waitlist), and the notifications they
received, their notification preferences and their bells are deleted.

What they published as an organisation stays: it is the organisation's, and shows its
author as the deleted member's placeholder. Follows, blocks, mutes and hub memberships
need nothing here: the graph ends them with their own events, which the feed's copies
follow (services/feed/jobs.py).

Each step handles at most `batch` rows and touches only what is still there, so the job
that calls it commits step by step, and running it again (or after a crash) changes
nothing that was done."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.feed import repository as repo
from services.feed.models import Comment, Event, Post, Reaction
from services.feed.service import comments, events, posts

BATCH = 200

_REACTION_TARGETS: dict[str, type[Post] | type[Event] | type[Comment]] = {
    "post": Post,
    "event": Event,
    "comment": Comment,
}


async def erase_step(session: AsyncSession, member_id: int, batch: int = BATCH) -> bool:
    """Remove the next `batch` things of one kind the member left; False once nothing is left.
    The caller commits after each step."""
    if found_posts := await repo.live_posts_by(session, member_id, batch):
        for post in found_posts:
            await posts.soft_delete(session, post)
    elif found_events := await repo.live_events_organised_by(session, member_id, batch):
        for event in found_events:
            await events.remove_event(session, event)
    elif found_comments := await repo.live_comments_by(session, member_id, batch):
        for comment in found_comments:
            await comments.soft_delete(session, comment)
    elif found_reactions := await repo.reactions_by(session, member_id, batch):
        for reaction in found_reactions:
            await _withdraw_reaction(session, reaction)
    elif found_rsvps := await repo.rsvps_by(session, member_id, batch):
        for rsvp in found_rsvps:
            answered = await repo.event_for_update(session, rsvp.event_id)
            if answered is None:
                await session.delete(rsvp)
            else:
                await events.withdraw_rsvp(session, answered, rsvp)
    else:
        await repo.delete_notifications_of(session, member_id)
        return False
    await session.flush()
    return True


async def _withdraw_reaction(session: AsyncSession, reaction: Reaction) -> None:
    """As removeReaction does: the target counts one fewer of its kind."""
    model = _REACTION_TARGETS.get(reaction.target_type)
    target: Post | Event | Comment | None = None
    if model is not None:
        target = await session.get(model, reaction.target_id, with_for_update=True)
    if target is not None:
        counts = dict(target.reaction_counts)
        counts[reaction.kind] = max(0, counts.get(reaction.kind, 0) - 1)
        target.reaction_counts = {k: v for k, v in counts.items() if v}
    await session.delete(reaction)
