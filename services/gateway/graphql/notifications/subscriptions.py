"""Live updates over graphql-transport-ws at /graphql: the viewer's new notifications and
new items in a hub's feed.

A client signs in on `connection_init` with `{"authorization": "Bearer <token>"}` (an
access token or a personal access token); a bad token closes the socket with 4403. With
no token the connection is anonymous (public hub items only). Messages come from jobs
through the broker (Redis pub/sub across processes, memory in the embedded default) and
carry ids only: each item is fetched from the feed service as the viewer, so the rules of
who may see what apply here as everywhere. Delivery is live and at least once; a message
published while nobody listens is not kept, so clients catch up with the queries."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import httpx
import strawberry
import structlog
from strawberry.exceptions import ConnectionRejectionError

from services.gateway.context import Context, Info, Loaders, authenticate
from services.gateway.graphql.base import decode_id
from services.gateway.graphql.feed.types import Event, FeedItem, Post
from services.gateway.graphql.notifications.types import Notification
from shared.broker import hub_channel, notifications_channel
from shared.errors import DomainError, NotFound, Unauthenticated

log = structlog.get_logger("hubben.gateway.subscriptions")

MAX_SUBSCRIPTIONS = 20  # per connection
MAX_IDS_PER_MESSAGE = 100


async def authenticate_connection(context: Context) -> Any:
    """`on_ws_connect`: the viewer from connection_init's params; a bad token is refused."""
    params = context.connection_params if isinstance(context.connection_params, dict) else {}
    raw = params.get("authorization", params.get("Authorization"))
    if raw is None:
        return strawberry.UNSET  # anonymous
    if not isinstance(raw, str):
        raise ConnectionRejectionError({"message": "authorization must be 'Bearer <token>'"})
    state = context.request.app.state
    try:
        viewer = await authenticate(raw, state.codec, state.graph)
    except Unauthenticated as exc:
        raise ConnectionRejectionError({"message": exc.message}) from exc
    context.viewer = viewer
    context.loaders = Loaders(state.graph, state.feed, viewer)
    return strawberry.UNSET


def _fresh_loaders(context: Context) -> None:
    """Loaders cache for a request; a subscription lives long, so each message starts afresh."""
    context.loaders = Loaders(context.graph, context.feed, context.viewer)


def _ids(message: dict[str, Any]) -> list[int]:
    raw = message.get("ids")
    if not isinstance(raw, list):
        return []
    return [int(i) for i in raw[:MAX_IDS_PER_MESSAGE] if str(i).isdigit()]


async def _hub_item(context: Context, message: dict[str, Any]) -> Post | Event | None:
    kind, raw = message.get("type"), str(message.get("id", ""))
    if not raw.isdigit():
        return None
    item: Post | Event
    if kind == "post":
        posts = await context.feed.posts(context.viewer, [int(raw)])
        if not posts:
            return None
        item, author = Post.from_out(posts[0]), posts[0].author_id
    elif kind == "event":
        events = await context.feed.events(context.viewer, [int(raw)])
        if not events:
            return None
        item, author = Event.from_out(events[0]), events[0].created_by
    else:
        return None
    me = context.viewer.member_id
    if me is not None and author != me and (await context.loaders.member_relation.load(author)).muting:
        return None  # the hub's feed leaves out muted members; so does its live feed
    return item


@strawberry.type
class NotificationSubscription:
    @strawberry.subscription(
        description="The viewer's new notifications, and groups that gained an actor (sign in on connection_init)."
    )
    async def notification_added(self, info: Info) -> AsyncGenerator[Notification, None]:
        context = info.context
        viewer = context.viewer
        if viewer.member_id is None:
            raise Unauthenticated('sign in: send {"authorization": "Bearer <token>"} with connection_init')
        broker = context.request.app.state.broker
        async with broker.listen(notifications_channel(viewer.member_id)) as messages:
            async for message in messages:
                ids = _ids(message)
                if not ids:
                    continue
                _fresh_loaders(context)
                try:
                    found = await context.feed.notifications_by_ids(viewer, ids)
                except (DomainError, httpx.HTTPError) as exc:  # the feed is away: this one is lost, not the stream
                    log.warning("subscription.fetch_failed", error=repr(exc), ids=ids)
                    continue
                for notification in found:
                    yield Notification.from_out(notification)

    @strawberry.subscription(description="New posts and events in a hub's feed that the viewer may see.")
    async def hub_feed_item_added(self, info: Info, hub_id: strawberry.ID) -> AsyncGenerator[FeedItem, None]:  # type: ignore[valid-type]
        context = info.context
        raw = decode_id(hub_id, "Hub", "hubId")
        if not await context.graph.hubs_by_ids(context.viewer, [raw]):
            raise NotFound("no such hub", field="hubId")
        broker = context.request.app.state.broker
        async with broker.listen(hub_channel(raw)) as messages:
            async for message in messages:
                _fresh_loaders(context)
                try:
                    item = await _hub_item(context, message)
                except (DomainError, httpx.HTTPError) as exc:
                    log.warning("subscription.fetch_failed", error=repr(exc), message=message)
                    continue
                if item is not None:
                    yield item
