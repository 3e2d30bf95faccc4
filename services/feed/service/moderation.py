"""What moderators do to content: read a post, event or comment whatever its state, hide
it, restore it, or remove it for good; and list a member's latest content.

Only the moderation service (which has already decided that its moderator may act) and
platform moderators holding the `moderate` scope may. Every action is idempotent: one that
changes nothing (hiding what is hidden, restoring what is visible) records no event.

- **Hide** sets `hidden_at`; a post or event's entry stops being live, so every feed,
  permalink and timeline leaves it out for everyone, the author too (`<type>.hidden` takes
  it out of Redis timelines and the search index). A hidden comment leaves comment lists
  and is counted off its item (and parent), as readers no longer see it.
- **Restore** clears `hidden_at` and brings it all back (`<type>.restored`).
- **Remove** is the author's soft delete (counts, events), its event saying
  `"by_moderation": true`. It cannot be restored. An item already deleted stays as it is:
  hiding it too would change nothing anyone sees."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from services.feed import contracts as c
from services.feed import repository as repo
from services.feed.models import Comment, Event, Post
from services.feed.service import comments as comment_service
from services.feed.service import events as event_service
from services.feed.service import posts as post_service
from shared.auth import Principal
from shared.database import utcnow
from shared.errors import BadUserInput, Forbidden, NotFound
from shared.outbox import record_event

log = structlog.get_logger("hubben.feed.moderation")

MODERATION_SERVICE = "moderation"
_MODELS: dict[str, type[Post] | type[Event] | type[Comment]] = {"post": Post, "event": Event, "comment": Comment}
_PARENTS: dict[str, type[Post] | type[Event]] = {"post": Post, "event": Event}
Item = Post | Event | Comment


def require_moderation(actor: Principal) -> None:
    """The moderation service, or a platform moderator acting with the `moderate` scope."""
    if actor.service == MODERATION_SERVICE:
        return
    if actor.is_moderator and "moderate" in actor.scopes:
        return
    raise Forbidden("only moderators act on content")


def _model(target_type: str) -> type[Post] | type[Event] | type[Comment]:
    model = _MODELS.get(target_type)
    if model is None:
        raise BadUserInput("the target type is post, event or comment", field="targetType")
    return model


async def _item(session: AsyncSession, target_type: str, item_id: int, *, lock: bool = False) -> Item:
    model = _model(target_type)
    # Locked while acting: concurrent actions on one item queue, so only one records its event.
    found: Item | None = await session.get(model, item_id, with_for_update=lock or None)
    if found is None:
        raise NotFound(f"no such {target_type}", field="targetId")
    return found


# --- snapshots ---------------------------------------------------------------------------------


def _post_snapshot(post: Post) -> c.ContentSnapshot:
    return c.ContentSnapshot(
        target_type="post",
        id=post.id,
        author_id=post.author_id,
        organisation_id=post.organisation_id,
        hub_id=post.hub_id,
        parent_type=None,
        parent_id=None,
        title=post.title,
        body=post.body,
        body_html=post.body_html,
        url=post.url,
        visibility=post.visibility,
        created_at=post.created_at,
        edited_at=post.edited_at,
        hidden_at=post.hidden_at,
        deleted_at=post.deleted_at,
    )


def _event_snapshot(event: Event) -> c.ContentSnapshot:
    return c.ContentSnapshot(
        target_type="event",
        id=event.id,
        author_id=event.created_by,
        organisation_id=event.organiser_organisation_id,
        hub_id=event.hub_id,
        parent_type=None,
        parent_id=None,
        title=event.title,
        body=event.description,
        body_html=event.description_html,
        url=event.online_url,
        visibility=event.visibility,
        created_at=event.created_at,
        # Every change to an event (an edit, its cancellation) raises its sequence.
        edited_at=event.updated_at if event.sequence > 0 else None,
        hidden_at=event.hidden_at,
        deleted_at=event.deleted_at,
    )


def _comment_snapshot(comment: Comment, parent: Post | Event | None) -> c.ContentSnapshot:
    return c.ContentSnapshot(
        target_type="comment",
        id=comment.id,
        author_id=comment.author_id,
        organisation_id=None,  # members comment as themselves
        hub_id=parent.hub_id if parent is not None else None,
        parent_type=comment.target_type,
        parent_id=comment.target_id,
        title=None,
        body=comment.body,
        body_html=comment.body_html,
        url=None,
        visibility=parent.visibility if parent is not None else "public",
        created_at=comment.created_at,
        edited_at=comment.edited_at,
        hidden_at=comment.hidden_at,
        deleted_at=comment.deleted_at,
    )


async def _snapshot(session: AsyncSession, item: Item) -> c.ContentSnapshot:
    if isinstance(item, Post):
        return _post_snapshot(item)
    if isinstance(item, Event):
        return _event_snapshot(item)
    parent: Post | Event | None = await session.get(_PARENTS[item.target_type], item.target_id)
    return _comment_snapshot(item, parent)


def _type_of(item: Item) -> str:
    return "post" if isinstance(item, Post) else "event" if isinstance(item, Event) else "comment"


# --- reading ------------------------------------------------------------------------------------


async def content(session: AsyncSession, actor: Principal, target_type: str, item_id: int) -> c.ContentSnapshot:
    """One item as it was published, hidden or deleted ones too."""
    require_moderation(actor)
    return await _snapshot(session, await _item(session, target_type, item_id))


async def author_content(
    session: AsyncSession, actor: Principal, member_id: int, limit: int
) -> list[c.ContentSnapshot]:
    """The member's latest posts, events and comments together, hidden and deleted ones
    too, newest first."""
    require_moderation(actor)
    posts, events, comments = await repo.latest_content_by(session, member_id, limit)
    parents: Mapping[int, Post | Event] = {
        **await repo.posts_by_ids(session, [m.target_id for m in comments if m.target_type == "post"]),
        **await repo.events_by_ids(session, [m.target_id for m in comments if m.target_type == "event"]),
    }
    found = [
        *(_post_snapshot(p) for p in posts),
        *(_event_snapshot(e) for e in events),
        *(_comment_snapshot(m, parents.get(m.target_id)) for m in comments),
    ]
    found.sort(key=lambda s: (s.created_at, s.id), reverse=True)
    return found[:limit]


# --- acting ----------------------------------------------------------------------------------------


def _comment_payload(comment: Comment) -> dict[str, Any]:
    return {
        "comment_id": comment.id,
        "target_type": comment.target_type,
        "target_id": comment.target_id,
        "parent_id": comment.parent_id,
        "author_id": comment.author_id,
    }


def _payload(item: Item) -> dict[str, Any]:
    """What `<type>.hidden` and `<type>.restored` carry: the shape of the item's other events."""
    if isinstance(item, Post):
        return post_service.event_payload(item)
    if isinstance(item, Event):
        return event_service.event_payload(item)
    return _comment_payload(item)


def _note(action: str, actor: Principal, item: Item) -> None:
    log.info(
        "feed.content_moderated",
        action=action,
        target_type=_type_of(item),
        target_id=item.id,
        moderator_id=actor.member_id,
        service=actor.service,
    )


async def hide(
    session: AsyncSession, actor: Principal, target_type: str, item_id: int, reason: str
) -> c.ContentSnapshot:
    """Take the item out of sight of everyone, its author too, until it is restored. The
    reason is the moderation service's to record (its audit log), not this service's."""
    require_moderation(actor)
    item = await _item(session, target_type, item_id, lock=True)
    if item.hidden_at is None and item.deleted_at is None:
        item.hidden_at = utcnow()
        if isinstance(item, Comment):
            await comment_service.count_comment(session, item, -1, replies=True)
        else:
            await repo.set_entry(session, item.id, live=False)
        record_event(session, f"{_type_of(item)}.hidden", _payload(item))
        await session.flush()
        _note("hide", actor, item)
    return await _snapshot(session, item)


async def restore(
    session: AsyncSession, actor: Principal, target_type: str, item_id: int, reason: str
) -> c.ContentSnapshot:
    """Show a hidden item again, where it was. What was removed (or deleted) stays gone."""
    require_moderation(actor)
    item = await _item(session, target_type, item_id, lock=True)
    if item.deleted_at is not None:
        raise BadUserInput("removed content cannot be restored", field="targetId")
    if item.hidden_at is not None:
        item.hidden_at = None
        if isinstance(item, Comment):
            await comment_service.count_comment(session, item, 1, replies=True)
        else:
            await repo.set_entry(session, item.id, live=True)
        record_event(session, f"{_type_of(item)}.restored", _payload(item))
        await session.flush()
        _note("restore", actor, item)
    return await _snapshot(session, item)


async def remove(
    session: AsyncSession, actor: Principal, target_type: str, item_id: int, reason: str
) -> c.ContentSnapshot:
    """Delete the item as its author would, for good (a hidden one stays marked hidden too)."""
    require_moderation(actor)
    item = await _item(session, target_type, item_id, lock=True)
    if item.deleted_at is None:
        if isinstance(item, Post):
            await post_service.soft_delete(session, item, by_moderation=True)
        elif isinstance(item, Event):
            await event_service.remove_event(session, item, by_moderation=True)
        else:
            await comment_service.soft_delete(session, item, by_moderation=True)
        await session.flush()
        _note("remove", actor, item)
    return await _snapshot(session, item)
