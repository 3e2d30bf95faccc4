from __future__ import annotations

import strawberry

from services.gateway.context import Info
from services.gateway.graphql.base import Node
from services.gateway.graphql.members.types import County, Member, Municipality, Viewer
from services.graph.contracts import HANDLE_RE
from shared.errors import BadUserInput, DomainError, NotFound
from shared.geo import counties, municipalities
from shared.ids import InvalidGlobalId, from_global_id

MAX_NODES = 100


async def resolve_node(info: Info, global_id: str) -> Node | None:
    from services.gateway.graphql.hubs.types import Hub
    from services.gateway.graphql.organisations.types import Organisation, OrganisationInvitation

    try:
        kind, raw = from_global_id(str(global_id))
    except InvalidGlobalId as exc:
        raise BadUserInput("malformed id", field="id") from exc
    loaders = info.context.loaders
    if kind == "Member":
        m = await loaders.member.load(raw)
        return Member.from_out(m) if m else None
    if kind == "Organisation":
        o = await loaders.organisation.load(raw)
        return Organisation.from_out(o) if o else None
    if kind == "Hub":
        h = await loaders.hub.load(raw)
        return Hub.from_out(h) if h else None
    if kind in ("Post", "Event", "Comment"):
        from services.gateway.graphql.feed.types import Comment, Event, Post

        item = await getattr(loaders, kind.lower()).load(raw)
        feed_types: dict[str, type[Post] | type[Event] | type[Comment]] = {
            "Post": Post,
            "Event": Event,
            "Comment": Comment,
        }
        return feed_types[kind].from_out(item) if item else None
    if kind == "Initiative":
        from services.gateway.graphql.initiatives.types import Initiative

        i = await loaders.initiative.load(raw)
        return Initiative.from_out(i) if i else None
    if kind == "InitiativeUpdate":
        from services.gateway.graphql.feed.types import initiative_update

        return await initiative_update(info, raw)
    if kind == "ModerationCase":
        from services.gateway.graphql.moderation.types import ModerationCase

        caps = await info.context.moderation.capabilities(info.context.viewer)
        client = info.context.moderation
        try:
            out = await (client.case if caps.platform or caps.hub_ids else client.my_case)(info.context.viewer, raw)
        except NotFound:
            return None
        return ModerationCase.from_out(out)
    if kind == "Notification":
        from services.gateway.graphql.notifications.types import Notification

        if info.context.viewer.member_id is None:
            return None
        found = await info.context.feed.notifications_by_ids(info.context.viewer, [raw])
        return Notification.from_out(found[0]) if found else None
    if kind == "OrganisationInvitation":
        if info.context.viewer.member_id is None:
            return None
        try:
            return OrganisationInvitation.from_out(await info.context.graph.invitation(info.context.viewer, raw))
        except NotFound:
            return None
    return None


@strawberry.type
class MemberQuery:
    @strawberry.field(description="The signed-in member; null for anonymous requests.")
    async def viewer(self, info: Info) -> Viewer | None:
        if info.context.viewer.member_id is None:
            return None
        v = await info.context.graph.viewer(info.context.viewer)
        return Viewer(member=Member.from_out(v.member), email=v.email, email_verified=v.email_verified)

    @strawberry.field(description="Fetch any object by its global ID.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await resolve_node(info, id)

    @strawberry.field(description=f"Fetch up to {MAX_NODES} objects by global ID, in order; null where not found.")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > MAX_NODES:
            raise BadUserInput(f"at most {MAX_NODES} ids", field="ids")
        import asyncio

        return list(await asyncio.gather(*(resolve_node(info, i) for i in ids)))

    @strawberry.field(description="A member by handle (case-insensitive).")
    async def member(self, info: Info, handle: str) -> Member | None:
        if len(handle) > 30:
            raise BadUserInput("handles are at most 30 characters", field="handle")
        if not HANDLE_RE.match(handle.strip().lower()):
            return None  # nobody has this handle, and it must not reach the service's URL path
        try:
            return Member.from_out(await info.context.graph.member_by_handle(info.context.viewer, handle))
        except NotFound:
            return None
        except DomainError:
            raise

    @strawberry.field(description="Sweden's counties.")
    def counties(self) -> list[County]:
        return [County(code=c.code, name=c.name) for c in counties().values()]

    @strawberry.field(description="Sweden's municipalities, optionally in one county.")
    def municipalities(self, county_code: str | None = None) -> list[Municipality]:
        if county_code is not None and county_code not in counties():
            raise BadUserInput("unknown county code", field="countyCode")
        return [
            m
            for m in (
                Municipality.of(code)
                for code, x in municipalities().items()
                if county_code is None or x.county_code == county_code
            )
            if m
        ]
