from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from services.gateway.context import Info
from services.gateway.graphql.base import Connection, Node, connection, gid, graphql_enum, page_request
from services.gateway.graphql.feed.queries import upcoming_events
from services.gateway.graphql.feed.types import Event, FeedItemConnection, feed_page
from services.gateway.graphql.initiatives.types import Initiative
from services.gateway.graphql.members.types import County, InvitationStatus, Member, Municipality
from services.graph import contracts as gc
from shared.text import render_markdown

if TYPE_CHECKING:
    from services.gateway.graphql.hubs.types import Hub

HubRef = Annotated["Hub", strawberry.lazy("services.gateway.graphql.hubs.types")]


OrganisationKind = graphql_enum(gc.OrganisationKind, "OrganisationKind")
OrganisationRole = graphql_enum(gc.OrganisationRoleName, "OrganisationRole")


@strawberry.type(description="A municipality, region, agency, civil-society organisation, company or university.")
class Organisation(Node):
    id: strawberry.ID
    slug: str
    name: str
    kind: OrganisationKind  # type: ignore[valid-type]
    website: str | None
    logo_url: str | None
    description: str
    verified: bool
    followers_count: int
    members_count: int
    created_at: datetime
    updated_at: datetime
    raw_id: strawberry.Private[int]
    municipality_code: strawberry.Private[str | None]
    county_code: strawberry.Private[str | None]

    @classmethod
    def from_out(cls, o: gc.OrganisationOut) -> Organisation:
        return cls(
            id=gid("Organisation", o.id),
            slug=o.slug,
            name=o.name,
            kind=OrganisationKind(o.kind),
            website=o.website,
            logo_url=o.logo_url,
            description=o.description,
            verified=o.verified,
            followers_count=o.followers_count,
            members_count=o.members_count,
            created_at=o.created_at,
            updated_at=o.updated_at,
            raw_id=o.id,
            municipality_code=o.municipality_code,
            county_code=o.county_code,
        )

    @strawberry.field
    def description_html(self) -> str:
        return render_markdown(self.description)

    @strawberry.field
    def municipality(self) -> Municipality | None:
        return Municipality.of(self.municipality_code)

    @strawberry.field
    def county(self) -> County | None:
        return County.of(self.county_code)

    async def _relation(self, info: Info) -> gc.OrganisationRelation:
        if info.context.viewer.member_id is None:
            return gc.OrganisationRelation()
        return await info.context.loaders.organisation_relation.load(self.raw_id)

    @strawberry.field(description="The viewer's role in this organisation, if any.")
    async def viewer_role(self, info: Info) -> OrganisationRole | None:  # type: ignore[valid-type]
        role = (await self._relation(info)).role
        return OrganisationRole(role) if role else None

    @strawberry.field
    async def viewer_is_following(self, info: Info) -> bool:
        return (await self._relation(info)).following

    @strawberry.field(description="People in the organisation and their roles, in the order they joined.")
    async def members(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[OrganisationMembership]:
        page = await info.context.graph.organisation_members(
            info.context.viewer, self.raw_id, page_request(first, after, last, before)
        )
        found = await info.context.loaders.member.load_many([r.member_id for r in page.items])
        nodes = [
            OrganisationMembership(role=OrganisationRole(r.role), member=Member.from_out(m), joined_at=r.created_at)
            if m
            else None
            for r, m in zip(page.items, found, strict=True)
        ]
        return connection(page, nodes)

    @strawberry.field(description="What the organisation's editors published as it, newest first.")
    async def feed(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> FeedItemConnection:
        page = await info.context.feed.organisation_feed(
            info.context.viewer, self.raw_id, page_request(first, after, last, before)
        )
        return await feed_page(info, page)

    @strawberry.field(description="Events the organisation organises that are not yet over, soonest first.")
    async def upcoming_events(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Event]:
        return await upcoming_events(
            info, organisation_id=self.raw_id, first=first, after=after, last=last, before=before
        )

    @strawberry.field(description="The organisation's initiatives you may see, newest first.")
    async def initiatives(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Initiative]:
        page = await info.context.graph.organisation_initiatives(
            info.context.viewer, self.raw_id, page_request(first, after, last, before)
        )
        return connection(page, [Initiative.from_out(i) for i in page.items])

    @strawberry.field(description="RSS 2.0 of the organisation's feed.")
    def rss_url(self, info: Info) -> str:
        return f"{info.context.request.app.state.settings.public_url}/organisations/{self.slug}/feed.rss"

    @strawberry.field(description="Atom of the organisation's feed.")
    def atom_url(self, info: Info) -> str:
        return f"{info.context.request.app.state.settings.public_url}/organisations/{self.slug}/feed.atom"

    @strawberry.field(description="Members who follow this organisation, newest first.")
    async def followers(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Member]:
        page = await info.context.graph.followers(
            info.context.viewer, "organisation", self.raw_id, page_request(first, after, last, before)
        )
        return connection(page, [Member.from_out(m) for m in page.items])

    @strawberry.field(description="The organisation's hubs that the viewer may see.")
    async def hubs(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[HubRef]:
        from services.gateway.graphql.hubs.types import Hub

        page = await info.context.graph.hubs(
            info.context.viewer, gc.HubFilter(organisation_id=self.raw_id), page_request(first, after, last, before)
        )
        return connection(page, [Hub.from_out(h) for h in page.items])

    @strawberry.field(description="Invitations sent by the organisation (owners and admins only), newest first.")
    async def invitations(
        self,
        info: Info,
        status: InvitationStatus | None = None,  # type: ignore[valid-type]
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[OrganisationInvitation]:
        page = await info.context.graph.organisation_invitations(
            info.context.viewer,
            self.raw_id,
            status.value if status else None,  # type: ignore[attr-defined]
            page_request(first, after, last, before),
        )
        return connection(page, [OrganisationInvitation.from_out(i) for i in page.items])


@strawberry.type
class OrganisationMembership:
    role: OrganisationRole  # type: ignore[valid-type]
    member: Member
    joined_at: datetime


@strawberry.type(description="An invitation to join an organisation with a role; the invitee accepts or declines.")
class OrganisationInvitation(Node):
    id: strawberry.ID
    role: OrganisationRole  # type: ignore[valid-type]
    status: InvitationStatus  # type: ignore[valid-type]
    created_at: datetime
    responded_at: datetime | None
    organisation_id: strawberry.Private[int]
    invitee_id: strawberry.Private[int]
    inviter_id: strawberry.Private[int]

    @classmethod
    def from_out(cls, i: gc.InvitationOut) -> OrganisationInvitation:
        return cls(
            id=gid("OrganisationInvitation", i.id),
            role=OrganisationRole(i.role),
            status=InvitationStatus(i.status),
            created_at=i.created_at,
            responded_at=i.responded_at,
            organisation_id=i.organisation_id,
            invitee_id=i.invitee_id,
            inviter_id=i.inviter_id,
        )

    @strawberry.field
    async def organisation(self, info: Info) -> Organisation | None:
        org = await info.context.loaders.organisation.load(self.organisation_id)
        return Organisation.from_out(org) if org else None

    @strawberry.field
    async def invitee(self, info: Info) -> Member | None:
        m = await info.context.loaders.member.load(self.invitee_id)
        return Member.from_out(m) if m else None

    @strawberry.field
    async def inviter(self, info: Info) -> Member | None:
        m = await info.context.loaders.member.load(self.inviter_id)
        return Member.from_out(m) if m else None
