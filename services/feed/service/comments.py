"""Comments with one level of replies, and reactions (one per member per target)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.feed import contracts as c
from services.feed import repository as repo
from services.feed.models import Comment, Event, Post, Reaction
from services.feed.service.common import mentioned_members, require_writer
from services.graph.client import GraphClient
from shared.auth import Principal
from shared.database import utcnow
from shared.errors import BadUserInput, Forbidden, NotFound
from shared.outbox import record_event
from shared.text import find_mentions, render_markdown

_MODELS: dict[str, type[Post] | type[Event]] = {"post": Post, "event": Event}


def to_out(comment: Comment) -> c.CommentOut:
    out = c.CommentOut.model_validate(comment)
    if comment.deleted_at is not None:
        return out.model_copy(update={"body": "", "body_html": "", "deleted": True})
    return out


async def _visible_target(session: AsyncSession, actor: Principal, target_type: str, target_id: int) -> Post | Event:
    if not await repo.readable_entry(session, actor, target_id):
        raise NotFound(f"no such {target_type}", field="targetId")
    # Locked: its counters change in this transaction, and concurrent writers must queue.
    target: Post | Event | None = await session.get(_MODELS[target_type], target_id, with_for_update=True)
    if target is None or target.deleted_at is not None:
        raise NotFound(f"no such {target_type}", field="targetId")
    return target


async def visible_comment(session: AsyncSession, actor: Principal, comment_id: int) -> Comment:
    comment = await session.get(Comment, comment_id, with_for_update=True)
    if comment is None or comment.hidden_at is not None:
        raise NotFound("no such comment", field="commentId")
    await _visible_target(session, actor, comment.target_type, comment.target_id)
    if actor.member_id and await repo.blocked_between(session, actor.member_id, comment.author_id):
        raise NotFound("no such comment", field="commentId")
    return comment


async def create_comment(session: AsyncSession, graph: GraphClient, actor: Principal, data: c.CommentIn) -> Comment:
    me = await require_writer(graph, actor)
    target = await _visible_target(session, actor, data.target_type, data.target_id)
    author_id = getattr(target, "author_id", None) or getattr(target, "created_by", None)
    if author_id and await repo.blocked_between(session, me.id, author_id):
        raise Forbidden("you cannot comment here")
    parent = None
    if data.parent_id is not None:
        try:
            parent = await visible_comment(session, actor, data.parent_id)
        except NotFound as exc:
            raise NotFound("no such comment to reply to", field="parentId") from exc
        if (parent.target_type, parent.target_id) != (data.target_type, data.target_id) or parent.deleted_at:
            raise BadUserInput("reply to a comment on the same item", field="parentId")
        if parent.parent_id is not None:
            raise BadUserInput("replies go one level deep: reply to the top comment", field="parentId")
    mentioned = await mentioned_members(graph, actor, find_mentions(data.body))
    comment = Comment(
        target_type=data.target_type,
        target_id=data.target_id,
        parent_id=data.parent_id,
        author_id=me.id,
        body=data.body,
        body_html=render_markdown(data.body, mentioned.keys()),
        mentions=list(mentioned.values()),
    )
    session.add(comment)
    target.comments_count += 1
    if parent is not None:
        parent.replies_count += 1
    await session.flush()
    record_event(
        session,
        "comment.created",
        {
            "comment_id": comment.id,
            "target_type": comment.target_type,
            "target_id": comment.target_id,
            "parent_id": comment.parent_id,
            "author_id": me.id,
            "target_author_id": author_id,
            "parent_author_id": parent.author_id if parent else None,
            "mentions": comment.mentions,
        },
    )
    return comment


async def update_comment(
    session: AsyncSession, graph: GraphClient, actor: Principal, comment_id: int, data: c.CommentUpdateIn
) -> Comment:
    me = await require_writer(graph, actor)
    comment = await visible_comment(session, actor, comment_id)
    if comment.author_id != me.id:
        raise Forbidden("only the author edits a comment")
    if comment.deleted_at is not None:
        raise NotFound("no such comment", field="commentId")
    mentioned = await mentioned_members(graph, actor, find_mentions(data.body))
    comment.body = data.body
    comment.body_html = render_markdown(data.body, mentioned.keys())
    comment.mentions = list(mentioned.values())
    comment.edited_at = utcnow()
    await session.flush()
    return comment


async def delete_comment(session: AsyncSession, graph: GraphClient, actor: Principal, comment_id: int) -> Comment:
    me = await require_writer(graph, actor)
    comment = await visible_comment(session, actor, comment_id)
    if comment.author_id != me.id:
        raise Forbidden("only the author deletes a comment")
    if comment.deleted_at is None:
        await soft_delete(session, comment)
        await session.flush()
    return comment


async def soft_delete(session: AsyncSession, comment: Comment, *, by_moderation: bool = False) -> None:
    """Blank a live comment (its replies stay readable) and count it off its post or event
    (a hidden one was counted off when it was hidden). `by_moderation`: moderators removed
    it (said so in the event)."""
    comment.deleted_at = utcnow()
    if comment.hidden_at is None:
        await count_comment(session, comment, -1, replies=False)
    payload: dict[str, object] = {"comment_id": comment.id}
    if by_moderation:
        payload["by_moderation"] = True
    record_event(session, "comment.deleted", payload)


async def count_comment(session: AsyncSession, comment: Comment, delta: int, *, replies: bool) -> None:
    """Count a comment onto (+1) or off (-1) its post's or event's comments, and with
    `replies` its parent's replies: the counts follow what readers are shown."""
    target: Post | Event | None = await session.get(
        _MODELS[comment.target_type], comment.target_id, with_for_update=True
    )
    if target is not None:
        target.comments_count = max(0, target.comments_count + delta)
    if replies and comment.parent_id is not None:
        parent = await session.get(Comment, comment.parent_id, with_for_update=True)
        if parent is not None:
            parent.replies_count = max(0, parent.replies_count + delta)


async def _reaction_target(
    session: AsyncSession, actor: Principal, target_type: str, target_id: int
) -> Post | Event | Comment:
    if target_type == "comment":
        try:
            return await visible_comment(session, actor, target_id)
        except NotFound as exc:
            raise NotFound("no such comment", field="targetId") from exc
    return await _visible_target(session, actor, target_type, target_id)


async def react(session: AsyncSession, graph: GraphClient, actor: Principal, data: c.ReactionIn) -> c.ReactionSummary:
    me = await require_writer(graph, actor)
    target = await _reaction_target(session, actor, data.target_type.value, data.target_id)
    counts = dict(target.reaction_counts)
    row = await repo.reaction_of(session, data.target_type.value, data.target_id, me.id)
    if row is not None and row.kind == data.kind.value:
        return c.ReactionSummary(
            target_type=data.target_type.value, target_id=data.target_id, counts=counts, viewer_reaction=row.kind
        )
    if row is not None:
        counts[row.kind] = max(0, counts.get(row.kind, 0) - 1)
        row.kind = data.kind.value
    else:
        row = Reaction(
            target_type=data.target_type.value, target_id=data.target_id, member_id=me.id, kind=data.kind.value
        )
        session.add(row)
    counts[row.kind] = counts.get(row.kind, 0) + 1
    target.reaction_counts = {k: v for k, v in counts.items() if v}
    author_id = getattr(target, "author_id", None) or getattr(target, "created_by", None)
    record_event(
        session,
        "reaction.set",
        {
            "target_type": row.target_type,
            "target_id": row.target_id,
            "member_id": me.id,
            "kind": row.kind,
            "target_author_id": author_id,
        },
    )
    await session.flush()
    return c.ReactionSummary(
        target_type=row.target_type, target_id=row.target_id, counts=target.reaction_counts, viewer_reaction=row.kind
    )


async def unreact(
    session: AsyncSession, graph: GraphClient, actor: Principal, data: c.ReactionTargetIn
) -> c.ReactionSummary:
    me = await require_writer(graph, actor)
    target = await _reaction_target(session, actor, data.target_type.value, data.target_id)
    row = await repo.reaction_of(session, data.target_type.value, data.target_id, me.id)
    counts = dict(target.reaction_counts)
    if row is not None:
        counts[row.kind] = max(0, counts.get(row.kind, 0) - 1)
        target.reaction_counts = {k: v for k, v in counts.items() if v}
        await session.delete(row)
        await session.flush()
    return c.ReactionSummary(
        target_type=data.target_type.value,
        target_id=data.target_id,
        counts=target.reaction_counts,
        viewer_reaction=None,
    )
