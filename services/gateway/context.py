"""The per-request GraphQL context: who is asking, the service clients, and DataLoaders."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import strawberry
from starlette.requests import HTTPConnection
from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext

from services.feed import contracts as fc
from services.feed.client import FeedClient
from services.graph import contracts as gc
from services.graph.client import GraphClient
from services.moderation.client import ModerationClient
from services.search.client import SearchClient
from shared.auth import ANONYMOUS, PAT_PREFIX, Principal, TokenCodec
from shared.errors import Unauthenticated

SERVICE_PRINCIPAL = Principal(member_id=None, roles=(), scopes=("read",), service="gateway", token_kind="service")


def loaded(loader: DataLoader[Any, Any], key: Any) -> tuple[bool, Any]:
    """(True, value) when the loader already holds key's answer (a finished load this request),
    else (False, None): a resolver can then answer at once instead of awaiting."""
    future = loader.cache_map.get(key)
    if future is None or not future.done() or future.cancelled() or future.exception() is not None:
        return False, None
    return True, future.result()


def _by_ids(fetch: Callable[[Principal, list[int]], Awaitable[list[Any]]], viewer: Principal) -> DataLoader[int, Any]:
    """A loader of `fetch(viewer, ids)`, which answers with the items found: None for the others."""

    async def load(keys: list[int]) -> list[Any]:
        found = {item.id: item for item in await fetch(viewer, list(keys))}
        return [found.get(k) for k in keys]

    return DataLoader(load, max_batch_size=500)


class Loaders:
    """This request's DataLoaders, each built when a resolver first asks for it: most
    documents use one or two of them, and what a request builds and drops is work for the
    garbage collector too."""

    def __init__(self, graph: GraphClient, feed: FeedClient, viewer: Principal) -> None:
        self.graph = graph
        self.feed = feed
        self.viewer = viewer

    @cached_property
    def member(self) -> DataLoader[int, gc.MemberOut | None]:
        return _by_ids(self.graph.members, self.viewer)

    @cached_property
    def organisation(self) -> DataLoader[int, gc.OrganisationOut | None]:
        return _by_ids(self.graph.organisations_by_ids, self.viewer)

    @cached_property
    def hub(self) -> DataLoader[int, gc.HubOut | None]:
        return _by_ids(self.graph.hubs_by_ids, self.viewer)

    @cached_property
    def initiative(self) -> DataLoader[int, gc.InitiativeOut | None]:
        return _by_ids(self.graph.initiatives_by_ids, self.viewer)

    @cached_property
    def member_relation(self) -> DataLoader[int, gc.MemberRelation]:
        async def member_relations(keys: list[int]) -> list[gc.MemberRelation]:
            out = await self.graph.relations(self.viewer, gc.RelationsIn(member_ids=list(keys)))
            return [out.members[k] for k in keys]

        return DataLoader(member_relations, max_batch_size=500)

    @cached_property
    def organisation_relation(self) -> DataLoader[int, gc.OrganisationRelation]:
        async def organisation_relations(keys: list[int]) -> list[gc.OrganisationRelation]:
            out = await self.graph.relations(self.viewer, gc.RelationsIn(organisation_ids=list(keys)))
            return [out.organisations[k] for k in keys]

        return DataLoader(organisation_relations, max_batch_size=500)

    @cached_property
    def hub_relation(self) -> DataLoader[int, gc.HubRelation]:
        async def hub_relations(keys: list[int]) -> list[gc.HubRelation]:
            out = await self.graph.relations(self.viewer, gc.RelationsIn(hub_ids=list(keys)))
            return [out.hubs[k] for k in keys]

        return DataLoader(hub_relations, max_batch_size=500)

    @cached_property
    def post(self) -> DataLoader[int, fc.PostOut | None]:
        return _by_ids(self.feed.posts, self.viewer)

    @cached_property
    def event(self) -> DataLoader[int, fc.EventOut | None]:
        return _by_ids(self.feed.events, self.viewer)

    @cached_property
    def comment(self) -> DataLoader[int, fc.CommentOut | None]:
        return _by_ids(self.feed.comments_by_ids, self.viewer)

    @cached_property
    def my_rsvp(self) -> DataLoader[int, fc.RsvpOut | None]:
        async def my_rsvps(keys: list[int]) -> list[fc.RsvpOut | None]:
            return [await self.feed.my_rsvp(self.viewer, k) for k in keys]

        return DataLoader(my_rsvps, max_batch_size=100)

    @cached_property
    def my_reaction(self) -> DataLoader[tuple[str, int], str | None]:
        async def my_reactions(keys: list[tuple[str, int]]) -> list[str | None]:
            found: dict[tuple[str, int], str] = {}
            for target_type in {t for t, _ in keys}:
                ids = [i for t, i in keys if t == target_type]
                for target_id, kind in (await self.feed.viewer_reactions(self.viewer, target_type, ids)).items():
                    found[(target_type, int(target_id))] = kind
            return [found.get(k) for k in keys]

        return DataLoader(my_reactions, max_batch_size=500)


@dataclass
class Context(BaseContext):
    request: HTTPConnection  # type: ignore[assignment]  # a Request, or a WebSocket for subscriptions
    viewer: Principal
    graph: GraphClient
    feed: FeedClient
    search: SearchClient
    moderation: ModerationClient
    loaders: Loaders
    response: Any = None
    background_tasks: Any = None


Info = strawberry.Info[Context, None]


async def authenticate(authorization: str | None, codec: TokenCodec, graph: GraphClient) -> Principal:
    if not authorization:
        return ANONYMOUS
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 4096:
        raise Unauthenticated("use 'Authorization: Bearer <token>'")
    if token.startswith(PAT_PREFIX):
        resolved = await graph.resolve_token(SERVICE_PRINCIPAL, token)
        return Principal(
            member_id=resolved.member_id,
            roles=tuple(resolved.roles),
            scopes=tuple(resolved.scopes),
            token_kind="pat",
        )
    return codec.verify_access_token(token)


async def build_context(request: HTTPConnection) -> Context:
    state = request.app.state
    if request.scope["type"] == "websocket":
        # A websocket signs in with its connection_init message (graphql/notifications/subscriptions.py).
        viewer = ANONYMOUS
    else:
        viewer = await authenticate(request.headers.get("authorization"), state.codec, state.graph)
    return Context(
        request=request,
        viewer=viewer,
        graph=state.graph,
        feed=state.feed,
        search=state.search,
        moderation=state.moderation,
        loaders=Loaders(state.graph, state.feed, viewer),
    )
