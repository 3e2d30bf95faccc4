"""The per-request GraphQL context: who is asking, the service clients, and DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field
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


def _by_id(items: list[Any], keys: list[int]) -> list[Any]:
    found = {item.id: item for item in items}
    return [found.get(k) for k in keys]


@dataclass
class Loaders:
    graph: GraphClient
    feed: FeedClient
    viewer: Principal
    member: DataLoader[int, gc.MemberOut | None] = field(init=False)
    organisation: DataLoader[int, gc.OrganisationOut | None] = field(init=False)
    hub: DataLoader[int, gc.HubOut | None] = field(init=False)
    initiative: DataLoader[int, gc.InitiativeOut | None] = field(init=False)
    member_relation: DataLoader[int, gc.MemberRelation] = field(init=False)
    organisation_relation: DataLoader[int, gc.OrganisationRelation] = field(init=False)
    hub_relation: DataLoader[int, gc.HubRelation] = field(init=False)
    post: DataLoader[int, fc.PostOut | None] = field(init=False)
    event: DataLoader[int, fc.EventOut | None] = field(init=False)
    comment: DataLoader[int, fc.CommentOut | None] = field(init=False)
    my_rsvp: DataLoader[int, fc.RsvpOut | None] = field(init=False)
    my_reaction: DataLoader[tuple[str, int], str | None] = field(init=False)

    def __post_init__(self) -> None:
        g, v = self.graph, self.viewer

        async def members(keys: list[int]) -> list[gc.MemberOut | None]:
            return _by_id(await g.members(v, list(keys)), keys)

        async def organisations(keys: list[int]) -> list[gc.OrganisationOut | None]:
            return _by_id(await g.organisations_by_ids(v, list(keys)), keys)

        async def hubs(keys: list[int]) -> list[gc.HubOut | None]:
            return _by_id(await g.hubs_by_ids(v, list(keys)), keys)

        async def initiatives(keys: list[int]) -> list[gc.InitiativeOut | None]:
            return _by_id(await g.initiatives_by_ids(v, list(keys)), keys)

        async def member_relations(keys: list[int]) -> list[gc.MemberRelation]:
            out = await g.relations(v, gc.RelationsIn(member_ids=list(keys)))
            return [out.members[k] for k in keys]

        async def organisation_relations(keys: list[int]) -> list[gc.OrganisationRelation]:
            out = await g.relations(v, gc.RelationsIn(organisation_ids=list(keys)))
            return [out.organisations[k] for k in keys]

        async def hub_relations(keys: list[int]) -> list[gc.HubRelation]:
            out = await g.relations(v, gc.RelationsIn(hub_ids=list(keys)))
            return [out.hubs[k] for k in keys]

        f = self.feed

        async def posts(keys: list[int]) -> list[fc.PostOut | None]:
            return _by_id(await f.posts(v, list(keys)), keys)

        async def events(keys: list[int]) -> list[fc.EventOut | None]:
            return _by_id(await f.events(v, list(keys)), keys)

        async def comments(keys: list[int]) -> list[fc.CommentOut | None]:
            return _by_id(await f.comments_by_ids(v, list(keys)), keys)

        async def my_rsvps(keys: list[int]) -> list[fc.RsvpOut | None]:
            return [await f.my_rsvp(v, k) for k in keys]

        async def my_reactions(keys: list[tuple[str, int]]) -> list[str | None]:
            found: dict[tuple[str, int], str] = {}
            for target_type in {t for t, _ in keys}:
                ids = [i for t, i in keys if t == target_type]
                for target_id, kind in (await f.viewer_reactions(v, target_type, ids)).items():
                    found[(target_type, int(target_id))] = kind
            return [found.get(k) for k in keys]

        self.post = DataLoader(posts, max_batch_size=500)
        self.event = DataLoader(events, max_batch_size=500)
        self.comment = DataLoader(comments, max_batch_size=500)
        self.my_rsvp = DataLoader(my_rsvps, max_batch_size=100)
        self.my_reaction = DataLoader(my_reactions, max_batch_size=500)
        self.member = DataLoader(members, max_batch_size=500)
        self.organisation = DataLoader(organisations, max_batch_size=500)
        self.hub = DataLoader(hubs, max_batch_size=500)
        self.initiative = DataLoader(initiatives, max_batch_size=500)
        self.member_relation = DataLoader(member_relations, max_batch_size=500)
        self.organisation_relation = DataLoader(organisation_relations, max_batch_size=500)
        self.hub_relation = DataLoader(hub_relations, max_batch_size=500)


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
