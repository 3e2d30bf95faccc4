from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from services.gateway.context import Info
from services.gateway.graphql.base import Connection, Node, connection, gid, graphql_enum, page_request
from services.graph import contracts as gc
from shared.geo import counties, municipalities
from shared.text import render_markdown

if TYPE_CHECKING:
    from services.gateway.graphql.feed.types import FeedItemConnection
    from services.gateway.graphql.hubs.types import Hub
    from services.gateway.graphql.organisations.types import Organisation, OrganisationInvitation

OrganisationRef = Annotated["Organisation", strawberry.lazy("services.gateway.graphql.organisations.types")]
InvitationRef = Annotated["OrganisationInvitation", strawberry.lazy("services.gateway.graphql.organisations.types")]
HubRef = Annotated["Hub", strawberry.lazy("services.gateway.graphql.hubs.types")]
FeedItemConnectionRef = Annotated["FeedItemConnection", strawberry.lazy("services.gateway.graphql.feed.types")]


@strawberry.type(description="One of Sweden's 21 counties (län), by its official two-digit code.")
class County:
    code: str
    name: str

    @classmethod
    def of(cls, code: str | None) -> County | None:
        county = counties().get(code or "")
        return cls(code=county.code, name=county.name) if county else None


@strawberry.type(description="One of Sweden's 290 municipalities (kommuner), by its official four-digit code.")
class Municipality:
    code: str
    name: str
    latitude: float
    longitude: float
    county_code: strawberry.Private[str]

    @strawberry.field
    def county(self) -> County:
        county = County.of(self.county_code)
        assert county is not None
        return county

    @classmethod
    def of(cls, code: str | None) -> Municipality | None:
        m = municipalities().get(code or "")
        if m is None:
            return None
        return cls(code=m.code, name=m.name, latitude=m.lat, longitude=m.lon, county_code=m.county_code)


@strawberry.type
class Link:
    label: str
    url: str


FollowTargetType = graphql_enum(gc.FollowTargetType, "FollowTargetType")
Language = graphql_enum(gc.Language, "Language")
PlatformRole = graphql_enum(gc.PlatformRole, "PlatformRole")


@strawberry.type(description="A person on Hubben.")
class Member(Node):
    id: strawberry.ID
    handle: str
    display_name: str
    headline: str
    bio: str
    avatar_url: str | None
    skills: list[str]
    links: list[Link]
    language: Language  # type: ignore[valid-type]
    platform_role: PlatformRole  # type: ignore[valid-type]
    is_suspended: bool
    is_banned: bool = strawberry.field(description="Banned by moderation: cannot log in or write.")
    is_deleted: bool = strawberry.field(
        description="The member erased their account: what is shown is a placeholder, nothing personal."
    )
    followers_count: int
    following_count: int
    created_at: datetime
    updated_at: datetime
    raw_id: strawberry.Private[int]
    municipality_code: strawberry.Private[str | None]
    organisation_id: strawberry.Private[int | None]

    @classmethod
    def from_out(cls, m: gc.MemberOut) -> Member:
        from shared.database import utcnow

        return cls(
            id=gid("Member", m.id),
            handle=m.handle,
            display_name=m.display_name,
            headline=m.headline,
            bio=m.bio,
            avatar_url=m.avatar_url,
            skills=list(m.skills),
            links=[Link(label=link.get("label", ""), url=link.get("url", "")) for link in m.links],
            language=Language(m.language),
            platform_role=PlatformRole(m.platform_role),
            is_suspended=m.suspended_until is not None and m.suspended_until > utcnow(),
            is_banned=m.banned,
            is_deleted=m.erased_at is not None,
            followers_count=m.followers_count,
            following_count=m.following_count,
            created_at=m.created_at,
            updated_at=m.updated_at,
            raw_id=m.id,
            municipality_code=m.municipality_code,
            organisation_id=m.organisation_id,
        )

    @strawberry.field(description="The bio rendered from Markdown to sanitised HTML.")
    def bio_html(self) -> str:
        return render_markdown(self.bio)

    @strawberry.field
    def municipality(self) -> Municipality | None:
        return Municipality.of(self.municipality_code)

    @strawberry.field(description="The organisation the member shows on their profile.")
    async def organisation(self, info: Info) -> OrganisationRef | None:
        if self.organisation_id is None:
            return None
        from services.gateway.graphql.organisations.types import Organisation

        org = await info.context.loaders.organisation.load(self.organisation_id)
        return Organisation.from_out(org) if org else None

    async def _relation(self, info: Info) -> gc.MemberRelation:
        if info.context.viewer.member_id is None or info.context.viewer.member_id == self.raw_id:
            return gc.MemberRelation()
        return await info.context.loaders.member_relation.load(self.raw_id)

    @strawberry.field
    async def viewer_is_following(self, info: Info) -> bool:
        return (await self._relation(info)).following

    @strawberry.field
    async def follows_viewer(self, info: Info) -> bool:
        return (await self._relation(info)).followed_by

    @strawberry.field
    async def viewer_has_blocked(self, info: Info) -> bool:
        return (await self._relation(info)).blocking

    @strawberry.field
    async def viewer_has_muted(self, info: Info) -> bool:
        return (await self._relation(info)).muting

    @strawberry.field(description="What the member published under their own name, newest first.")
    async def activity(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> FeedItemConnectionRef:
        from services.gateway.graphql.feed.types import feed_page

        page = await info.context.feed.member_activity(
            info.context.viewer, self.raw_id, page_request(first, after, last, before)
        )
        return await feed_page(info, page)

    @strawberry.field(description="Members who follow this member, newest first.")
    async def followers(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Member]:
        page = await info.context.graph.followers(
            info.context.viewer, "member", self.raw_id, page_request(first, after, last, before)
        )
        return connection(page, [Member.from_out(m) for m in page.items])

    @strawberry.field(description="Members this member follows, most recent follow first.")
    async def following_members(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Member]:
        page = await info.context.graph.following(
            info.context.viewer, self.raw_id, "member", page_request(first, after, last, before)
        )
        found = await info.context.loaders.member.load_many([f.target_id for f in page.items])
        return connection(page, [Member.from_out(m) if m else None for m in found])

    @strawberry.field(description="Organisations this member follows, most recent follow first.")
    async def following_organisations(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[OrganisationRef]:
        from services.gateway.graphql.organisations.types import Organisation

        page = await info.context.graph.following(
            info.context.viewer, self.raw_id, "organisation", page_request(first, after, last, before)
        )
        found = await info.context.loaders.organisation.load_many([f.target_id for f in page.items])
        return connection(page, [Organisation.from_out(o) if o else None for o in found])

    @strawberry.field(description="Hubs this member follows that the viewer may see, most recent first.")
    async def following_hubs(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[HubRef]:
        from services.gateway.graphql.hubs.types import Hub

        page = await info.context.graph.following(
            info.context.viewer, self.raw_id, "hub", page_request(first, after, last, before)
        )
        found = await info.context.loaders.hub.load_many([f.target_id for f in page.items])
        return connection(page, [Hub.from_out(h) if h else None for h in found])


@strawberry.type(description="A personal access token. The secret itself is shown once, at creation.")
class PersonalAccessToken(Node):
    id: strawberry.ID
    name: str
    scopes: list[str]
    token_hint: str = strawberry.field(description="The first characters of the token, to recognise it by.")
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def from_out(cls, t: gc.PersonalAccessTokenOut) -> PersonalAccessToken:
        return cls(
            id=gid("PersonalAccessToken", t.id),
            name=t.name,
            scopes=t.scopes,
            token_hint=t.token_hint,
            created_at=t.created_at,
            expires_at=t.expires_at,
            last_used_at=t.last_used_at,
            revoked_at=t.revoked_at,
        )


InvitationStatus = graphql_enum(gc.InvitationStatus, "InvitationStatus")


@strawberry.type(description="The signed-in member, with what only they may see.")
class Viewer:
    member: Member
    email: str
    email_verified: bool

    @strawberry.field
    async def personal_access_tokens(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[PersonalAccessToken]:
        page = await info.context.graph.tokens(info.context.viewer, page_request(first, after, last, before))
        return connection(page, [PersonalAccessToken.from_out(t) for t in page.items])

    @strawberry.field(description="Invitations to organisations addressed to the viewer, newest first.")
    async def invitations(
        self,
        info: Info,
        status: InvitationStatus | None = None,  # type: ignore[valid-type]
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[InvitationRef]:
        from services.gateway.graphql.organisations.types import OrganisationInvitation

        page = await info.context.graph.my_invitations(
            info.context.viewer,
            status.value if status else None,  # type: ignore[attr-defined]
            page_request(first, after, last, before),
        )
        return connection(page, [OrganisationInvitation.from_out(i) for i in page.items])


@strawberry.type
class AuthSession:
    access_token: str
    access_token_expires_at: datetime
    refresh_token: str
    member: Member

    @classmethod
    def from_out(cls, s: gc.SessionOut) -> AuthSession:
        return cls(
            access_token=s.access_token,
            access_token_expires_at=s.access_token_expires_at,
            refresh_token=s.refresh_token,
            member=Member.from_out(s.member),
        )
