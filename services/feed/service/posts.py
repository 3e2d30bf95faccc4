"""Posts: create, edit, soft delete, pin in a hub."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.feed import contracts as c
from services.feed import repository as repo
from services.feed.models import PIN_LIFT, Entry, Post
from services.feed.service.common import (
    effective_visibility,
    mentioned_members,
    require_writer,
    resolve_place,
)
from services.graph import contracts as gc
from services.graph.client import GraphClient
from shared.auth import Principal
from shared.database import out_of, utcnow
from shared.errors import BadUserInput, Forbidden, NotFound
from shared.outbox import record_event
from shared.search_documents import Language
from shared.text import find_mentions, find_tags, render_markdown

MAX_PINNED = 3


def to_out(post: Post) -> c.PostOut:
    out = out_of(c.PostOut, post)
    if post.deleted_at is not None:
        return out.model_copy(update={"body": "", "body_html": "", "title": None, "url": None, "deleted": True})
    return out


async def _render(graph: GraphClient, actor: Principal, body: str) -> tuple[str, list[int], list[str]]:
    mentioned = await mentioned_members(graph, actor, find_mentions(body))
    return render_markdown(body, mentioned.keys()), list(mentioned.values()), find_tags(body)


async def create_post(session: AsyncSession, graph: GraphClient, actor: Principal, data: c.PostIn) -> Post:
    me = await require_writer(graph, actor)
    place = await resolve_place(graph, actor, data.hub_id, data.organisation_id)
    html, mentions, tags = await _render(graph, actor, data.body)
    visibility = effective_visibility(data.visibility.value if data.visibility else None, place)
    post = Post(
        author_id=me.id,
        organisation_id=data.organisation_id,
        hub_id=data.hub_id,
        kind=data.kind.value,
        title=data.title,
        url=data.url,
        body=data.body,
        body_html=html,
        visibility=visibility,
        tags=tags,
        mentions=mentions,
        language=data.language.value,
    )
    session.add(post)
    await session.flush()
    session.add(
        Entry(
            id=post.id,
            item_type="post",
            author_id=me.id,
            organisation_id=post.organisation_id,
            hub_id=post.hub_id,
            visibility=visibility,
            kind=post.kind,
            hub_rank=post.id,
        )
    )
    await repo.replace_tags(session, post.id, tags)
    record_event(session, "post.created", event_payload(post))
    await session.flush()
    return post


def event_payload(post: Post) -> dict[str, object]:
    return {
        "post_id": post.id,
        "author_id": post.author_id,
        "organisation_id": post.organisation_id,
        "hub_id": post.hub_id,
        "visibility": post.visibility,
        "kind": post.kind,
        "mentions": post.mentions,
        "tags": post.tags,
    }


async def _own_live_post(session: AsyncSession, actor: Principal, post_id: int) -> Post:
    post = await session.get(Post, post_id)
    if post is None or post.deleted_at is not None or not await repo.readable_entry(session, actor, post_id):
        raise NotFound("no such post", field="postId")
    return post


async def update_post(
    session: AsyncSession, graph: GraphClient, actor: Principal, post_id: int, data: c.PostUpdateIn
) -> Post:
    me = await require_writer(graph, actor)
    post = await _own_live_post(session, actor, post_id)
    if post.author_id != me.id:
        raise Forbidden("only the author edits a post")
    changes = data.model_dump(exclude_unset=True)
    for field in ("body", "language"):
        if field in changes and changes[field] is None:
            raise BadUserInput(f"the {field} cannot be cleared", field=field)
    kind = changes.get("kind") or post.kind
    title = changes["title"] if "title" in changes else post.title
    url = changes["url"] if "url" in changes else post.url
    if kind == "resource" and (not title or not url):
        raise BadUserInput("a resource needs a title and a url", field="kind")
    if "body" in changes:
        post.body = changes["body"]
        post.body_html, post.mentions, post.tags = await _render(graph, actor, post.body)
        await repo.replace_tags(session, post.id, post.tags)
    post.kind, post.title, post.url = str(kind), title, url
    if "language" in changes:
        post.language = Language(changes["language"]).value
    post.edited_at = utcnow()
    await repo.set_entry(session, post.id, kind=post.kind)
    record_event(session, "post.updated", event_payload(post))
    await session.flush()
    return post


async def delete_post(session: AsyncSession, graph: GraphClient, actor: Principal, post_id: int) -> Post:
    """Soft delete: the row stays (comments keep their parent) but it is gone from every feed."""
    me = await require_writer(graph, actor)
    post = await _own_live_post(session, actor, post_id)
    if post.author_id != me.id:
        hub_staff = False
        if post.hub_id is not None:
            relation = (await graph.relations(actor, _hub_relation_input(post.hub_id))).hubs[post.hub_id]
            hub_staff = relation.state == "active" and relation.role in ("admin", "moderator")
        if not hub_staff:
            raise Forbidden("only the author or the hub's staff delete a post")
    await soft_delete(session, post)
    await session.flush()
    return post


async def soft_delete(session: AsyncSession, post: Post, *, by_moderation: bool = False) -> None:
    """Take a live post out of every feed (its `post.deleted` takes it out of timelines).
    `by_moderation`: moderators removed it (said so in the event)."""
    post.deleted_at = utcnow()
    post.pinned_at = None
    await repo.set_entry(session, post.id, live=False, hub_rank=post.id)
    moderated: dict[str, object] = {"by_moderation": True} if by_moderation else {}
    record_event(session, "post.deleted", {**event_payload(post), **moderated})


def _hub_relation_input(hub_id: int) -> gc.RelationsIn:
    return gc.RelationsIn(hub_ids=[hub_id])


async def set_pinned(session: AsyncSession, graph: GraphClient, actor: Principal, post_id: int, pinned: bool) -> Post:
    await require_writer(graph, actor)
    post = await _own_live_post(session, actor, post_id)
    if post.hub_id is None:
        raise BadUserInput("only posts in a hub can be pinned", field="postId")
    relation = (await graph.relations(actor, _hub_relation_input(post.hub_id))).hubs[post.hub_id]
    if relation.state != "active" or relation.role != "admin":
        raise Forbidden("only hub admins pin posts")
    if pinned and post.pinned_at is None:
        if await repo.count_pinned(session, post.hub_id) >= MAX_PINNED:
            raise BadUserInput(f"a hub has at most {MAX_PINNED} pinned posts; unpin one first", field="postId")
        post.pinned_at = utcnow()
    elif not pinned:
        post.pinned_at = None
    await repo.set_entry(session, post.id, hub_rank=post.id + PIN_LIFT if post.pinned_at else post.id)
    await session.flush()
    return post
