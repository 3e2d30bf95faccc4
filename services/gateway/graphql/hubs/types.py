from __future__ import annotations

from datetime import datetime

import strawberry

from services.gateway.context import Info
from services.gateway.graphql.base import Connection, Node, connection, gid, graphql_enum, page_request
from services.gateway.graphql.feed.queries import upcoming_events
from services.gateway.graphql.feed.types import Event, FeedItemConnection, PostKind, feed_page
from services.gateway.graphql.members.types import Member
from services.gateway.graphql.organisations.types import Organisation
from services.graph import contracts as gc
from shared.text import render_markdown

HubVisibility = graphql_enum(gc.HubVisibility, "HubVisibility")
JoinPolicy = graphql_enum(gc.JoinPolicy, "JoinPolicy")
HubRole = graphql_enum(gc.HubRoleName, "HubRole")
MembershipState = graphql_enum(gc.MembershipState, "HubMembershipState")


@strawberry.type(description="A community with its own members, staff and feed, run by an organisation.")
class Hub(Node):
    id: strawberry.ID
    slug: str
    name: str
    description: str
    visibility: HubVisibility  # type: ignore[valid-type]
    join_policy: JoinPolicy  # type: ignore[valid-type]
    followers_count: int
    members_count: int
    created_at: datetime
    updated_at: datetime
    raw_id: strawberry.Private[int]
    organisation_id: strawberry.Private[int]

    @classmethod
    def from_out(cls, h: gc.HubOut) -> Hub:
        return cls(
            id=gid("Hub", h.id),
            slug=h.slug,
            name=h.name,
            description=h.description,
            visibility=HubVisibility(h.visibility),
            join_policy=JoinPolicy(h.join_policy),
            followers_count=h.followers_count,
            members_count=h.members_count,
            created_at=h.created_at,
            updated_at=h.updated_at,
            raw_id=h.id,
            organisation_id=h.organisation_id,
        )

    @strawberry.field
    def description_html(self) -> str:
        return render_markdown(self.description)

    @strawberry.field
    async def organisation(self, info: Info) -> Organisation | None:
        org = await info.context.loaders.organisation.load(self.organisation_id)
        return Organisation.from_out(org) if org else None

    async def _relation(self, info: Info) -> gc.HubRelation:
        if info.context.viewer.member_id is None:
            return gc.HubRelation()
        return await info.context.loaders.hub_relation.load(self.raw_id)

    @strawberry.field(description="The viewer's role, once their membership is active.")
    async def viewer_role(self, info: Info) -> HubRole | None:  # type: ignore[valid-type]
        relation = await self._relation(info)
        return HubRole(relation.role) if relation.role and relation.state == "active" else None

    @strawberry.field(description="ACTIVE, REQUESTED (awaiting approval) or INVITED; null when not a member.")
    async def viewer_membership_state(self, info: Info) -> MembershipState | None:  # type: ignore[valid-type]
        state = (await self._relation(info)).state
        return MembershipState(state) if state else None

    @strawberry.field
    async def viewer_is_following(self, info: Info) -> bool:
        return (await self._relation(info)).following

    @strawberry.field(description="Memberships in a state: active for everyone who sees the hub; others for staff.")
    async def members(
        self,
        info: Info,
        state: MembershipState = MembershipState("active"),  # type: ignore[valid-type]
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[HubMembership]:
        page = await info.context.graph.hub_members(
            info.context.viewer,
            self.raw_id,
            state.value,  # type: ignore[attr-defined]
            page_request(first, after, last, before),
        )
        found = await info.context.loaders.member.load_many([r.member_id for r in page.items])
        nodes = [HubMembership.from_out(r, m) if m else None for r, m in zip(page.items, found, strict=True)]
        return connection(page, nodes)

    @strawberry.field(description="Posts and events in the hub, pinned posts first, then newest first.")
    async def feed(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> FeedItemConnection:
        page = await info.context.feed.hub_feed(
            info.context.viewer, self.raw_id, page_request(first, after, last, before)
        )
        return await feed_page(info, page)

    @strawberry.field(description="The hub's library: news, articles, questions and resources, by kind if given.")
    async def resources(
        self,
        info: Info,
        kind: PostKind | None = None,  # type: ignore[valid-type]
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> FeedItemConnection:
        page = await info.context.feed.hub_resources(
            info.context.viewer,
            self.raw_id,
            kind.value if kind else None,  # type: ignore[attr-defined]
            page_request(first, after, last, before),
        )
        return await feed_page(info, page)

    @strawberry.field(description="The hub's events not yet over, soonest first.")
    async def upcoming_events(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Event]:
        return await upcoming_events(info, hub_id=self.raw_id, first=first, after=after, last=last, before=before)

    @strawberry.field(description="Subscribe to the hub's upcoming events (iCalendar).")
    def ics_url(self, info: Info) -> str:
        return f"{info.context.request.app.state.settings.public_url}/hubs/{self.slug}/events.ics"

    @strawberry.field(description="RSS 2.0 of the hub feed (public hubs).")
    def rss_url(self, info: Info) -> str:
        return f"{info.context.request.app.state.settings.public_url}/hubs/{self.slug}/feed.rss"

    @strawberry.field(description="Atom of the hub feed (public hubs).")
    def atom_url(self, info: Info) -> str:
        return f"{info.context.request.app.state.settings.public_url}/hubs/{self.slug}/feed.atom"

    @strawberry.field(description="Members who follow this hub, newest first.")
    async def followers(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Member]:
        page = await info.context.graph.followers(
            info.context.viewer, "hub", self.raw_id, page_request(first, after, last, before)
        )
        return connection(page, [Member.from_out(m) for m in page.items])


@strawberry.type
class HubMembership:
    role: HubRole  # type: ignore[valid-type]
    state: MembershipState  # type: ignore[valid-type]
    member: Member
    since: datetime
    hub_id: strawberry.Private[int]

    @classmethod
    def from_out(cls, r: gc.HubMembershipOut, m: gc.MemberOut) -> HubMembership:
        return cls(
            role=HubRole(r.role),
            state=MembershipState(r.state),
            member=Member.from_out(m),
            since=r.created_at,
            hub_id=r.hub_id,
        )

    @strawberry.field
    async def hub(self, info: Info) -> Hub | None:
        h = await info.context.loaders.hub.load(self.hub_id)
        return Hub.from_out(h) if h else None
